"""NVIDIA's StyleGAN3 network pickles (NVlabs/stylegan3, T and R) -> keras-gans StyleGAN3.

The pickle is read by `pickle_reader` (no code from it runs, no PyTorch needed). The
synthesis network's settings come from the records' constructor arguments (NVIDIA's
defaults where a pickle omits one) and its own attributes; every layer's recorded
place in the alias-free layout (sizes, sampling rates, cutoffs, half widths, widths,
resampling factors, filter taps, padding) is then checked against the layout
keras-gans computes, so a pickle that does not follow it stops with the difference.
Each tensor goes to its keras-gans variable: weights `[out, in, k, k]` -> kernels
`(k, k, in, out)`, the Fourier input's mixing matrix transposed, the filters,
frequencies, phases, `transform` and `magnitude_ema` as they are. The discriminator
is NVIDIA's StyleGAN2 one (`convert.stylegan2.load_discriminator`). Every tensor is
used exactly once, or the conversion stops and says which was not.

Example:

```python
from keras_gans.convert import stylegan3 as nvlabs

converted = nvlabs.read_stylegan3("stylegan3-r-afhqv2-512x512.pkl")
converted.options["config"], converted.options["image_shape"]      # "r", (512, 512, 3)
gan = keras_gans.StyleGAN3(**converted.options)
converted.load_into(gan)                                            # what from_nvlabs does
```
"""

from __future__ import annotations

import numpy as np

from keras_gans.convert import stylegan2 as sg2
from keras_gans.convert.pickle_reader import NetworkPickleError, PersistentRecord
from keras_gans.networks import alias_free as networks

# What a pickle fixes: the networks' shapes and every setting that changes their outputs.
ARCHITECTURE_OPTIONS = (
    "config", "image_shape", "latent_dim", "w_dim", "num_classes", "mapping_layers",
    "mapping_lr_multiplier", "channel_base", "channel_max", "conv_kernel",
    "use_radial_filters", "num_layers", "num_critical", "first_cutoff", "first_stopband",
    "last_stopband_rel", "margin_size", "output_scale", "filter_size", "lrelu_upsampling",
    "conv_clamp", "magnitude_ema_beta", "d_channel_base", "d_channel_max", "d_architecture",
    "d_conv_clamp", "resample_filter", "mbstd_num_channels", "d_mapping_layers", "cmap_dim",
    "pretrained_source", "generator", "discriminator",
)  # fmt: skip
# The attributes of NVIDIA's SynthesisLayer that fix what it computes.
_LAYER_ATTRIBUTES = (
    "is_torgb", "is_critically_sampled", "in_channels", "out_channels", "in_sampling_rate",
    "out_sampling_rate", "in_cutoff", "out_cutoff", "in_half_width", "out_half_width",
    "conv_kernel", "up_factor", "up_taps", "down_factor", "down_taps", "down_radial", "padding",
)  # fmt: skip


class ConvertedStyleGAN3(sg2.ConvertedStyleGAN2):
    """An NVIDIA StyleGAN3 pickle read into keras-gans terms (`read_stylegan3`).

    Attributes:
        options: `keras_gans.StyleGAN3` keyword arguments giving the pickle's architecture.
        generator, ema_generator, discriminator: NVIDIA's `G`, `G_ema` and `D` records
            (`generator` and `discriminator` are None in a pickle without them).
        ada_p: the augmentation probability of the pickle's ADA pipeline, or None.
    """

    def load_generator(self, generator, record: PersistentRecord) -> None:
        load_generator(generator, record)


def read_stylegan3(path_or_url, cache_dir=None) -> ConvertedStyleGAN3:
    """Reads a StyleGAN3 network pickle (a path, URL or `nvlabs:` name) without running it.

    Args:
        path_or_url: a `.pkl` path, an `http(s)://` URL or a name from `presets`.
        cache_dir: where URLs are downloaded (default `~/.cache/keras_gans/downloads`).

    Raises:
        NetworkPickleError: the file is not a StyleGAN3 network pickle (one line saying
            what it holds instead), is truncated, carries code to run, or its layers do
            not follow the alias-free layout.
    """
    return sg2.read_networks(path_or_url, cache_dir, ConvertedStyleGAN3, generator_options,
                             discriminator_options)  # fmt: skip


read = read_stylegan3


# Architecture ------------------------------------------------------------------------


def _setting(record, name, defaults):
    """A constructor argument of `record` (NVIDIA's default when the pickle omits it)."""
    value = record.init_kwargs.get(name, defaults[name])
    return value.item() if isinstance(value, np.generic) else value


def generator_options(g: PersistentRecord) -> dict:
    """StyleGAN3 keyword arguments for NVIDIA's Generator record `g` (the generator half).

    Raises:
        NetworkPickleError: a layer's recorded settings differ from the layout computed
            from the network's own arguments (the message names the layer and value).
    """
    mapping, synthesis = g.child("mapping"), g.child("synthesis")
    attributes = synthesis.attributes
    resolution = int(g.attributes["img_resolution"])
    channels = int(g.attributes["img_channels"])
    first = synthesis.child(attributes["layer_names"][0])
    layout = {
        "num_layers": int(attributes["num_layers"]),
        "num_critical": int(attributes["num_critical"]),
        "margin_size": int(attributes["margin_size"]),
        "first_cutoff": float(first.attributes["in_cutoff"]),
        **{
            key: float(_setting(synthesis, key, networks.LAYOUT_DEFAULTS))
            for key in ("first_stopband", "last_stopband_rel")
        },  # fmt: skip
    }
    layer = {key: _setting(synthesis, key, networks.LAYER_DEFAULTS)
             for key in networks.RESAMPLING_OPTIONS}  # fmt: skip
    clamp = first.attributes.get("conv_clamp")
    c_dim = int(g.attributes.get("c_dim", 0))
    options = dict(
        config="r" if layer["use_radial_filters"] else "t",
        image_shape=(resolution, resolution, channels),
        latent_dim=int(g.attributes["z_dim"]),
        w_dim=int(g.attributes["w_dim"]),
        num_classes=c_dim or None,
        mapping_layers=sg2._dense_count(mapping),
        mapping_lr_multiplier=float(mapping.child("fc0").attributes.get("bias_gain", 0.01)),
        channel_base=int(_setting(synthesis, "channel_base", {"channel_base": 32768})),
        channel_max=int(_setting(synthesis, "channel_max", {"channel_max": 512})),
        **layout,
        **layer,
        output_scale=float(attributes["output_scale"]),
        conv_clamp=None if clamp is None else float(clamp),
        magnitude_ema_beta=float(first.attributes["magnitude_ema_beta"]),
    )
    beta = mapping.attributes.get("w_avg_beta")
    if beta is not None:
        options["w_avg_beta"] = float(beta)
    _check_layout(synthesis, options)
    return options


def _check_layout(synthesis: PersistentRecord, options: dict) -> None:
    """Every layer's recorded settings equal those keras-gans computes from `options`."""
    keys = ("channel_base", "channel_max", *networks.LAYOUT_DEFAULTS, *networks.RESAMPLING_OPTIONS)
    plan = networks.layer_plan(options["image_shape"], options["w_dim"],
                               **{key: options[key] for key in keys})  # fmt: skip
    names = list(synthesis.attributes["layer_names"])
    if names != [layer["name"] for layer in plan]:
        raise NetworkPickleError(
            f"The pickle's synthesis layers {names} differ from the alias-free layout of its "
            f"settings: {[layer['name'] for layer in plan]}."
        )
    for name, layer in zip(names, plan):
        expected = {**layer, **layer.pop("settings")}
        recorded = synthesis.child(name).attributes
        for key in (*_LAYER_ATTRIBUTES, "in_size", "out_size"):
            found, wanted = recorded.get(key), expected[key]
            if key.endswith("_size") and found is not None:
                found = np.asarray(found).reshape(-1)[0]
            if isinstance(wanted, float):
                same = found is not None and np.isclose(float(found), wanted, rtol=1e-9, atol=0)
            else:
                same = found is not None and np.ravel(found).tolist() == np.ravel(wanted).tolist()
            if not same:
                raise NetworkPickleError(
                    f"G.synthesis.{name}.{key} is {found!r}; the alias-free layout of this "
                    f"pickle's settings gives {wanted!r}."
                )


def discriminator_options(d: PersistentRecord, g_options: dict) -> dict:
    """The discriminator's StyleGAN3 keyword arguments for NVIDIA's Discriminator record `d`."""
    resolution = g_options["image_shape"][0]
    resample_filter = sg2._taps(d.child(f"b{resolution}"))
    shared = {**g_options, "resample_filter": resample_filter}
    options = sg2.discriminator_options(d, shared)
    widths = {4: int(d.child("b4.conv").parameters["weight"].shape[0])}
    res = resolution
    while res > 4:
        widths[res] = int(d.child(f"b{res}.conv0").parameters["weight"].shape[0])
        res //= 2
    options["d_channel_base"], options["d_channel_max"] = sg2._channel_settings(widths)
    options["resample_filter"] = resample_filter
    return options


# Weights -------------------------------------------------------------------------------


def load_generator(generator, record: PersistentRecord) -> None:
    """Copies NVIDIA Generator `record`'s tensors into a keras-gans StyleGAN3 generator."""
    tensors = sg2._Tensors(record, "G")
    sg2._load_mapping(generator.get_layer("mapping"), tensors, "mapping")
    synthesis = generator.get_layer("synthesis")
    fourier = synthesis.fourier_input
    sg2._load_dense(fourier.affine, tensors, "synthesis.input.affine")
    weight = tensors.take("synthesis.input", "weight")
    sg2._assign(fourier.kernel, weight.T, "synthesis.input.weight")  # x W^T -> x K
    for name in ("freqs", "phases", "transform"):
        sg2._assign(getattr(fourier, name), tensors.take("synthesis.input", name),
                    f"synthesis.input.{name}")  # fmt: skip
    names = record.child("synthesis").attributes["layer_names"]
    for name, layer in zip(names, synthesis.synthesis_layers, strict=True):
        dotted = f"synthesis.{name}"
        if layer.name != name:
            raise NetworkPickleError(f"{dotted}: keras-gans' layer there is {layer.name}.")
        sg2._load_dense(layer.affine, tensors, f"{dotted}.affine")
        sg2._assign(layer.kernel, sg2._kernel(tensors.take(dotted, "weight")), f"{dotted}.weight")
        sg2._assign(layer.bias, tensors.take(dotted, "bias"), f"{dotted}.bias")
        ema = tensors.take(dotted, "magnitude_ema").reshape(())
        sg2._assign(layer.magnitude_ema, ema, f"{dotted}.magnitude_ema")
        for role in ("up_filter", "down_filter"):
            variable = getattr(layer, role)
            buffers = record.child(dotted).buffers
            if (variable is None) != (role not in buffers):
                raise NetworkPickleError(
                    f"{dotted}.{role}: the pickle {'has' if role in buffers else 'lacks'} it, "
                    f"keras-gans' layer {'lacks' if variable is None else 'has'} it."
                )
            if variable is not None:
                sg2._assign(variable, tensors.take(dotted, role), f"{dotted}.{role}")
    tensors.check_all_used()
