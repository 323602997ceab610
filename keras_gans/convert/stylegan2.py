"""NVIDIA's StyleGAN2 network pickles (stylegan2-ada-pytorch, stylegan3) -> keras-gans StyleGAN2.

The pickle is read by `pickle_reader` (no code from it runs, no PyTorch needed). The
architecture comes from the modules' own recorded attributes and tensor shapes
(resolution, channels, widths, mapping depth and learning-rate multiplier, label
embedding, architectures, clamping, filters, minibatch std, fp16 blocks), and each
NVIDIA tensor goes to the keras-gans variable of the same role: weights `[out, in,
k, k]` -> kernels `(k, k, in, out)`, constants and noise maps to channels-last, the
discriminator's flattened 4x4 features reordered from NCHW to NHWC. Every tensor of
the pickle is used exactly once, or the conversion stops and says which was not.

Example:

```python
from keras_gans.convert import stylegan2 as nvlabs

converted = nvlabs.read_stylegan2("network-snapshot-000400.pkl")
converted.options["image_shape"]               # (256, 256, 3)
gan = keras_gans.StyleGAN2(**converted.options)
converted.load_into(gan)                       # what StyleGAN2.from_nvlabs does
```
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from keras_gans.convert import presets
from keras_gans.convert.pickle_reader import NetworkPickleError, PersistentRecord
from keras_gans.convert.pickle_reader import read_network_pickle as read_pickle
from keras_gans.networks.synthesis import synthesis_plan
from keras_gans.utils.download import download

# What a pickle fixes: the networks' shapes and every setting that changes their outputs.
ARCHITECTURE_OPTIONS = (
    "image_shape", "latent_dim", "w_dim", "num_classes", "mapping_layers", "channel_base",
    "channel_max", "architecture", "d_architecture", "conv_clamp", "d_conv_clamp",
    "resample_filter", "mbstd_num_channels", "d_mapping_layers", "cmap_dim",
    "mapping_lr_multiplier", "mapping_embed_features", "mapping_layer_features",
    "pretrained_source", "generator", "discriminator",
)  # fmt: skip


def resolve_source(path_or_url, cache_dir=None) -> tuple[str, dict]:
    """A local pickle path for a path, URL or `nvlabs:` name, and what is known of it.

    Args:
        path_or_url: a `.pkl` path, an `http(s)://` URL or a name from `presets`.
        cache_dir: where URLs are downloaded (default `~/.cache/keras_gans/downloads`).

    Returns:
        `(path, source)`; `source` holds the URL (or path) and, for a known name or URL,
        the preset's resolution, classes, dataset and license.
    """
    source = os.fspath(path_or_url)
    if presets.is_preset_name(source):
        preset = presets.lookup(source)
        return download(preset["url"], cache_dir), preset
    if source.startswith(("http://", "https://", "file://")):
        preset = presets.preset_for_url(source) or {"url": source}
        return download(source, cache_dir), preset
    if not os.path.isfile(source):
        raise FileNotFoundError(
            f"`path_or_url`={source!r} is not a file, a URL or an `nvlabs:` name (known "
            f"names: {', '.join(sorted(presets.PRESETS))})."
        )
    return source, {"path": os.path.abspath(source)}


@dataclasses.dataclass
class ConvertedStyleGAN2:
    """An NVIDIA StyleGAN2 pickle read into keras-gans terms (`read_stylegan2`).

    Attributes:
        options: `keras_gans.StyleGAN2` keyword arguments giving the pickle's architecture.
        generator, ema_generator, discriminator: NVIDIA's `G`, `G_ema` and `D` records
            (`generator` and `discriminator` are None in a pickle without them).
        ada_p: the augmentation probability of the pickle's ADA pipeline, or None.
    """

    options: dict
    generator: PersistentRecord | None
    ema_generator: PersistentRecord
    discriminator: PersistentRecord | None
    ada_p: float | None = None

    def load_generator(self, generator, record: PersistentRecord) -> None:
        load_generator(generator, record)

    def load_into(self, model) -> None:
        """Copies every tensor into `model`, a model built with `self.options`."""
        ema = model.ema_generator if model.ema_generator is not None else model.generator
        self.load_generator(ema, self.ema_generator)
        self.load_generator(model.generator, self.generator or self.ema_generator)
        if self.discriminator is not None:
            load_discriminator(model.discriminator, self.discriminator)
        w_avg = self.ema_generator.child("mapping").buffers["w_avg"]
        model.w_avg.assign(np.asarray(w_avg, "float32"))
        if self.ada_p is not None and getattr(model, "ada", None) is not None:
            model.ada.p.assign(self.ada_p)


def read_stylegan2(path_or_url, cache_dir=None) -> ConvertedStyleGAN2:
    """Reads a StyleGAN2 network pickle (a path, URL or `nvlabs:` name) without running it.

    Args:
        path_or_url: a `.pkl` path, an `http(s)://` URL or a name from `presets`.
        cache_dir: where URLs are downloaded (default `~/.cache/keras_gans/downloads`).

    Raises:
        NetworkPickleError: the file is not a StyleGAN2 network pickle (one line saying
            what it holds instead), is truncated, or carries code to run.
    """
    return read_networks(path_or_url, cache_dir, ConvertedStyleGAN2, generator_options,
                         discriminator_options)  # fmt: skip


read = read_stylegan2


def read_networks(path_or_url, cache_dir, converted_class, generator_options,
                  discriminator_options):  # fmt: skip
    """The pickle's networks and options, as `converted_class` (the StyleGAN2 or 3 one)."""
    family = converted_class.__name__.removeprefix("Converted")
    path, source = resolve_source(path_or_url, cache_dir)
    content = read_pickle(path)
    networks = _networks(content, os.path.basename(path), family)
    options = generator_options(networks["G_ema"])
    if networks["D"] is not None:
        options.update(discriminator_options(networks["D"], options))
    options["pretrained_source"] = _describe_source(source, options, content)
    options["ema_warmup"] = False
    ada_p = None
    pipe = content.get("augment_pipe")
    if isinstance(pipe, PersistentRecord) and "p" in pipe.buffers:
        ada_p = float(np.asarray(pipe.buffers["p"]).reshape(-1)[0])
    return converted_class(options, networks["G"], networks["G_ema"], networks["D"], ada_p)


def _networks(content, name, family):
    if not isinstance(content, dict):
        raise NetworkPickleError(
            f"{name} is not a {family} network pickle: it holds a {type(content).__name__}, "
            "not a dict with 'G', 'D' and 'G_ema'."
        )
    g_ema = content.get("G_ema")
    if not isinstance(g_ema, PersistentRecord) or g_ema.class_name != "Generator":
        found = {key: getattr(value, "class_name", type(value).__name__)
                 for key, value in content.items()}  # fmt: skip
        raise NetworkPickleError(
            f"{name} is not a {family} network pickle: it has no 'G_ema' Generator "
            f"(it holds {found})."
        )
    synthesis = g_ema.children.get("synthesis")
    alias_free = synthesis is not None and "input" in synthesis.children
    if alias_free != (family == "StyleGAN3"):
        other = "StyleGAN3" if alias_free else "StyleGAN2"
        raise NetworkPickleError(
            f"{name} holds a {other} generator, not a {family} one: convert it with "
            f"keras_gans.{other}.from_nvlabs (or keras_gans.from_nvlabs, which picks the family)."
        )
    for key, expected in (("G", "Generator"), ("D", "Discriminator")):
        value = content.get(key)
        if value is not None and getattr(value, "class_name", None) != expected:
            raise NetworkPickleError(f"{name}: '{key}' is not a {expected} ({value!r}).")
    return {key: content.get(key) for key in ("G", "G_ema", "D")}


def _describe_source(source, options, content):
    height, width, channels = options["image_shape"]
    described = {
        key: source[key]
        for key in ("name", "url", "path", "dataset", "description", "license", "citation")
        if source.get(key)
    }
    described["resolution"] = f"{height}x{width}"
    described["channels"] = channels
    classes = source.get("classes")
    if options.get("num_classes"):
        described["classes"] = classes or list(range(options["num_classes"]))
    training_set = content.get("training_set_kwargs")
    if isinstance(training_set, dict):
        described["training_set"] = {
            key: training_set[key]
            for key in ("path", "resolution", "use_labels", "xflip", "max_size")
            if isinstance(training_set.get(key), (str, int, float, bool))
        }
    return described


# Architecture ------------------------------------------------------------------------


def _attribute(record, name, default=None):
    return record.attributes.get(name, default)


def _dense_count(mapping):
    return sum(1 for key in mapping.children if key.startswith("fc"))


def _channel_settings(widths):
    """`(channel_base, channel_max)` reproducing `{resolution: width}` as min(base / r, max)."""
    channel_max = max(widths.values())
    below = {res: width for res, width in widths.items() if width < channel_max}
    base = max([width * res for res, width in below.items()] or [channel_max * max(widths)])
    if any(min(base // res, channel_max) != width for res, width in widths.items()):
        raise NetworkPickleError(
            f"The pickle's channel widths {widths} do not follow min(base / resolution, max)."
        )
    return base, channel_max


def _taps(record):
    """The 1-D taps whose normalised outer product is the record's `resample_filter`."""
    square = np.asarray(record.buffers["resample_filter"], "float64")
    if square.ndim == 1:
        return tuple(float(t) for t in square)
    rows, columns = square.sum(axis=1), square.sum(axis=0)
    if not np.allclose(np.outer(rows, columns) / square.sum(), square, atol=1e-7) or not (
        np.allclose(rows, columns)
    ):
        raise NetworkPickleError("The pickle's resampling filter is not separable and symmetric.")
    return tuple(float(t) for t in rows / rows.sum())


def _fp16_count(blocks):
    return sum(1 for block in blocks if _attribute(block, "use_fp16", False))


def generator_options(g: PersistentRecord) -> dict:
    """StyleGAN2 keyword arguments for NVIDIA's Generator record `g` (the generator half)."""
    mapping, synthesis = g.child("mapping"), g.child("synthesis")
    resolution = int(_attribute(g, "img_resolution"))
    channels = int(_attribute(g, "img_channels"))
    image_shape = (resolution, resolution, channels)
    start, _, doublings = synthesis_plan(image_shape)
    resolutions = [start * 2**block for block in range(doublings + 1)]
    blocks = [synthesis.child(f"b{res}") for res in resolutions]
    widths = {res: int(block.child("conv1").parameters["weight"].shape[0])
              for res, block in zip(resolutions, blocks)}  # fmt: skip
    channel_base, channel_max = _channel_settings(widths)
    architecture = _attribute(blocks[-1], "architecture", "skip")
    first_fc = mapping.child("fc0")
    clamp = _attribute(blocks[0].child("conv1"), "conv_clamp")
    c_dim = int(_attribute(g, "c_dim", 0))
    options = dict(
        image_shape=image_shape,
        latent_dim=int(_attribute(g, "z_dim")),
        w_dim=int(_attribute(g, "w_dim")),
        mapping_layers=_dense_count(mapping),
        mapping_lr_multiplier=float(_attribute(first_fc, "bias_gain", 0.01)),
        channel_base=channel_base,
        channel_max=channel_max,
        num_classes=c_dim or None,
        architecture=architecture,
        conv_clamp=None if clamp is None else float(clamp),
        resample_filter=_taps(blocks[0]),
        num_fp16_res=_fp16_count(blocks),
    )
    beta = _attribute(mapping, "w_avg_beta")
    if beta is not None:
        options["w_avg_beta"] = float(beta)
    if options["mapping_layers"] > 1:
        options["mapping_layer_features"] = int(first_fc.parameters["weight"].shape[0])
    embed = mapping.children.get("embed")
    if embed is not None:
        options["mapping_embed_features"] = int(embed.parameters["weight"].shape[0])
    return options


def discriminator_options(d: PersistentRecord, g_options: dict) -> dict:
    """The discriminator's StyleGAN2 keyword arguments for NVIDIA's Discriminator record `d`."""
    start, _, doublings = synthesis_plan(g_options["image_shape"])
    blocks = [d.child(f"b{start * 2**block}") for block in range(doublings, 0, -1)]
    epilogue = d.child(f"b{start}")
    mbstd = epilogue.children.get("mbstd")
    options = dict(
        d_architecture=_attribute(blocks[0], "architecture", "resnet"),
        mbstd_group_size=_attribute(mbstd, "group_size") if mbstd is not None else None,
        mbstd_num_channels=int(_attribute(mbstd, "num_channels", 1)) if mbstd else 0,
    )
    clamp = _attribute(blocks[0].child("conv0"), "conv_clamp")
    options["d_conv_clamp"] = None if clamp is None else float(clamp)
    if _taps(blocks[0]) != g_options["resample_filter"]:
        raise NetworkPickleError("The pickle's G and D use different resampling filters.")
    if g_options["num_classes"]:
        mapping = d.child("mapping")
        options["d_mapping_layers"] = _dense_count(mapping)
        options["cmap_dim"] = int(_attribute(epilogue, "cmap_dim"))
    return options


# Weights -------------------------------------------------------------------------------


class _Tensors:
    """Hands out a record's tensors by name and remembers which were used."""

    def __init__(self, record, prefix):
        self.record, self.prefix = record, prefix
        self.used = set()

    def take(self, dotted, name):
        record = self.record.child(dotted) if dotted else self.record
        tensors = {**record.parameters, **record.buffers}
        if name not in tensors:
            raise NetworkPickleError(
                f"{self.prefix}.{dotted}.{name} is missing from the pickle (it has "
                f"{sorted(tensors)})."
            )
        self.used.add(f"{dotted}.{name}" if dotted else name)
        return np.asarray(tensors[name], "float32")

    def check_all_used(self, ignore=("resample_filter", "w_avg")):
        left = [name for name in self.record.state_dict()
                if name not in self.used and name.rsplit(".", 1)[-1] not in ignore]  # fmt: skip
        if left:
            raise NetworkPickleError(
                f"{self.prefix} has tensors keras-gans' network has no place for: {left[:8]}."
            )


def _assign(variable, value, where):
    value = np.asarray(value, "float32")
    if tuple(variable.shape) != value.shape:
        raise NetworkPickleError(
            f"{where}: the pickle's tensor has shape {value.shape}, keras-gans expects "
            f"{tuple(variable.shape)}."
        )
    variable.assign(value)


def _check_activation(layer, record, dotted):
    activation = _attribute(record, "activation", "linear")
    if activation != layer.activation:
        raise NetworkPickleError(
            f"{dotted} uses the {activation!r} activation; keras-gans' layer there uses "
            f"{layer.activation!r} (StyleGAN2 uses 'lrelu' and 'linear')."
        )


def _load_dense(layer, tensors, dotted):
    record = tensors.record.child(dotted)
    _check_activation(layer, record, f"{tensors.prefix}.{dotted}")
    weight = tensors.take(dotted, "weight")
    # NVIDIA computes x W^T gain + b bias_gain; keras-gans x K gain' + b' lr'
    gain = float(_attribute(record, "weight_gain")) / layer.weight_gain
    _assign(layer.kernel, weight.T * gain, dotted)
    if "bias" in record.parameters:
        bias_gain = float(_attribute(record, "bias_gain", 1.0)) / layer.lr_multiplier
        _assign(layer.bias, tensors.take(dotted, "bias") * bias_gain, dotted)


def _kernel(weight):
    return np.transpose(weight, (2, 3, 1, 0))  # [out, in, kh, kw] -> (kh, kw, in, out)


def _load_conv(layer, tensors, dotted):
    record = tensors.record.child(dotted)
    _check_activation(layer, record, f"{tensors.prefix}.{dotted}")
    gain = float(_attribute(record, "weight_gain")) / layer.weight_gain
    _assign(layer.kernel, _kernel(tensors.take(dotted, "weight")) * gain, dotted)
    if layer.use_bias:
        _assign(layer.bias, tensors.take(dotted, "bias"), dotted)


def _load_modulated(layer, tensors, dotted):
    _check_activation(layer, tensors.record.child(dotted), f"{tensors.prefix}.{dotted}")
    _load_dense(layer.affine, tensors, f"{dotted}.affine")
    _assign(layer.kernel, _kernel(tensors.take(dotted, "weight")), dotted)
    _assign(layer.bias, tensors.take(dotted, "bias"), dotted)
    if layer.use_noise:
        _assign(layer.noise_strength, tensors.take(dotted, "noise_strength").reshape(()), dotted)
        _assign(layer.noise_const, tensors.take(dotted, "noise_const"), dotted)


def _load_mapping(layer, tensors, prefix):
    if layer.embed is not None:
        _load_dense(layer.embed, tensors, f"{prefix}.embed")
    for index, dense in enumerate(layer.dense_layers):
        _load_dense(dense, tensors, f"{prefix}.fc{index}")


def load_generator(generator, record: PersistentRecord) -> None:
    """Copies NVIDIA Generator `record`'s tensors into a keras-gans StyleGAN2 generator."""
    tensors = _Tensors(record, "G")
    _load_mapping(generator.get_layer("mapping"), tensors, "mapping")
    synthesis = generator.get_layer("synthesis")
    for block in range(synthesis.doublings + 1):
        res = synthesis.start_h * 2**block
        for role, layer in synthesis._block(block).items():
            dotted = f"synthesis.b{res}.{role}"
            if role == "const":
                const = tensors.take(f"synthesis.b{res}", "const")
                _assign(layer.const, np.transpose(const, (1, 2, 0)), dotted)
            elif role == "skip":
                _load_conv(layer, tensors, dotted)
            else:
                _load_modulated(layer, tensors, dotted)
    tensors.check_all_used()


def load_discriminator(discriminator, record: PersistentRecord) -> None:
    """Copies NVIDIA Discriminator `record`'s tensors into a keras-gans StyleGAN2 discriminator."""
    tensors = _Tensors(record, "D")
    names = {layer.name for layer in discriminator.layers}
    start = min(int(name[1:].split("_")[0]) for name in names if name[:2] != "b_" and
                name.startswith("b") and name[1:].split("_")[0].isdigit())  # fmt: skip
    for name in sorted(names):
        block, _, role = name.partition("_")
        if role in ("fromrgb", "conv0", "conv1", "skip", "conv"):
            _load_conv(discriminator.get_layer(name), tensors, f"{block}.{role}")
    fc = discriminator.get_layer(f"b{start}_fc")
    weight = tensors.take(f"b{start}.fc", "weight")
    height, width = discriminator.get_layer(f"b{start}_conv").output.shape[1:3]
    # NVIDIA flattens NCHW features; keras-gans flattens NHWC
    reordered = weight.reshape(weight.shape[0], -1, height, width).transpose(0, 2, 3, 1)
    record_fc = record.child(f"b{start}.fc")
    gain = float(_attribute(record_fc, "weight_gain")) / fc.weight_gain
    _assign(fc.kernel, reordered.reshape(weight.shape[0], -1).T * gain, f"b{start}.fc")
    bias_gain = float(_attribute(record_fc, "bias_gain", 1.0)) / fc.lr_multiplier
    _assign(fc.bias, tensors.take(f"b{start}.fc", "bias") * bias_gain, f"b{start}.fc")
    _load_dense(discriminator.get_layer(f"b{start}_out"), tensors, f"b{start}.out")
    if "mapping" in names:
        _load_mapping(discriminator.get_layer("mapping"), tensors, "mapping")
    tensors.check_all_used()
