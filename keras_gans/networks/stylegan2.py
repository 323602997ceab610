"""StyleGAN2 networks (Karras et al., 2020), NVIDIA's architecture exactly, in Keras layers.

The layers compute what NVlabs' `training/networks.py` (stylegan2-ada-pytorch, and
stylegan3's `networks_stylegan2.py`) computes, so NVIDIA's pickles convert into them
exactly (`keras_gans.StyleGAN2.from_nvlabs`): the mapping network with its label
embedding, modulated convolutions with demodulation and per-pixel noise, FIR
([1, 3, 3, 1]) resampling, bias-activation gains and clamping, `skip` / `orig` /
`resnet` generators and discriminators, minibatch standard deviation and the
projection epilogue of the conditional discriminator. No custom ops: modulation is
applied to the activations around one shared convolution, the rest is
`keras.ops` (see `resample.py` for the filters).

Example:

```python
from keras_gans.networks import stylegan2

generator = stylegan2.stylegan2_generator(latent_dim=512, image_shape=(32, 32, 3))
mapping = generator.get_layer("mapping")        # z -> w
synthesis = generator.get_layer("synthesis")    # ws (batch, num_ws, w_dim) -> images
images = synthesis(ws, noise_mode="const")      # "random", "const" or "none"
discriminator = stylegan2.stylegan2_discriminator((32, 32, 3))
```
"""

import math

import keras
from keras import layers, ops

from keras_gans.networks.style_layers import (
    EqualizedConv2D,
    EqualizedDense,
    MinibatchStdDev,
    ProjectionLogit,
    Resample2x,
)
from keras_gans.networks.synthesis import (
    ARCHITECTURES,
    BroadcastW,
    SynthesisNetwork,
    channels_at,
    num_ws_for,
    synthesis_plan,
)

__all__ = [
    "ARCHITECTURES",
    "BroadcastW",
    "MappingNetwork",
    "SynthesisNetwork",
    "channels_at",
    "mapping_network",
    "num_ws_for",
    "stylegan2_discriminator",
    "stylegan2_generator",
    "synthesis_network",
    "synthesis_plan",
]

_register = keras.saving.register_keras_serializable(package="keras_gans")


def normalize_2nd_moment(x):
    """`x / sqrt(mean(x^2) + 1e-8)` over the last axis."""
    return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@_register
class MappingNetwork(layers.Layer):
    """z (and class labels) -> w: normalise, embed, concatenate, `num_layers` dense layers.

    The label is one-hot encoded and embedded by an equalized dense layer, both halves
    normalised to unit second moment (NVIDIA's `MappingNetwork`). With `latent_dim=0`
    it maps labels alone (the conditional discriminator's label mapping).

    Args:
        latent_dim: size of z (0: no latent input).
        w_dim: size of the output w.
        num_layers: dense layers (leaky ReLU, learning rate x `lr_multiplier`).
        num_classes: number of classes of the integer labels, or None.
        lr_multiplier: learning-rate multiplier of the dense layers (0.01).
        embed_features, layer_features: label embedding and hidden widths (default w_dim).

    Inputs: `latent`, `[latent, labels]` or (with `latent_dim=0`) `labels`.
    """

    def __init__(self, latent_dim, w_dim, num_layers=8, num_classes=None, lr_multiplier=0.01,
                 embed_features=None, layer_features=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.latent_dim, self.w_dim = int(latent_dim), int(w_dim)
        self.num_layers = int(num_layers)
        self.num_classes = int(num_classes) if num_classes else None
        if not self.latent_dim and not self.num_classes:
            raise ValueError("A mapping network needs `latent_dim` > 0 or `num_classes`.")
        if self.num_layers < 1:
            raise ValueError(f"`num_layers` must be >= 1. Received: {num_layers!r}")
        self.lr_multiplier = float(lr_multiplier)
        self.embed_features = int(embed_features or self.w_dim) if self.num_classes else 0
        self.layer_features = int(layer_features or self.w_dim)
        self.embed = None
        if self.num_classes:
            self.embed = EqualizedDense(self.embed_features, name="embed")
        widths = [self.layer_features] * (self.num_layers - 1) + [self.w_dim]
        self.dense_layers = [
            EqualizedDense(width, self.lr_multiplier, activation="lrelu", name=f"fc{i}")
            for i, width in enumerate(widths)
        ]

    def build(self, input_shape=None):
        if self.embed is not None:
            self.embed.build((None, self.num_classes))
        features = self.latent_dim + self.embed_features
        for dense in self.dense_layers:
            dense.build((None, features))
            features = dense.units
        self.built = True

    def _split(self, inputs):
        if not self.num_classes:
            return inputs, None
        if not self.latent_dim:
            return None, inputs
        return inputs[0], inputs[1]

    def call(self, inputs):
        latent, labels = self._split(inputs)
        parts = []
        if latent is not None:
            parts.append(normalize_2nd_moment(ops.cast(latent, self.compute_dtype)))
        if labels is not None:
            labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
            one_hot = ops.one_hot(labels, self.num_classes, dtype=self.compute_dtype)
            parts.append(normalize_2nd_moment(self.embed(one_hot)))
        x = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)
        for dense in self.dense_layers:
            x = dense(x)
        return x

    def compute_output_shape(self, input_shape):
        first = input_shape[0] if self.latent_dim and self.num_classes else input_shape
        return (first[0], self.w_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "w_dim": self.w_dim,
            "num_layers": self.num_layers,
            "num_classes": self.num_classes,
            "lr_multiplier": self.lr_multiplier,
            "embed_features": self.embed_features or None,
            "layer_features": self.layer_features,
        }


def mapping_network(latent_dim, w_dim, num_layers=8, num_classes=None, lr_multiplier=0.01):
    """A `MappingNetwork` layer named `"mapping"` (z, or `[z, labels]`, -> w)."""
    return MappingNetwork(latent_dim, w_dim, num_layers, num_classes, lr_multiplier, name="mapping")


def synthesis_network(image_shape, w_dim, channel_base=16384, channel_max=512, **kwargs):
    """A `SynthesisNetwork` layer named `"synthesis"` (ws -> images); see its arguments."""
    return SynthesisNetwork(image_shape, w_dim, channel_base, channel_max, name="synthesis",
                            **kwargs)  # fmt: skip


def stylegan2_generator(
    latent_dim,
    image_shape,
    w_dim=None,
    mapping_layers=8,
    channel_base=16384,
    channel_max=512,
    num_classes=None,
    architecture="skip",
    conv_clamp=None,
    resample_filter=(1, 3, 3, 1),
    num_fp16_res=None,
    mapping_lr_multiplier=0.01,
    mapping_embed_features=None,
    mapping_layer_features=None,
):
    """The StyleGAN2 generator: `z` (and labels) -> mapping -> broadcast w -> synthesis.

    The returned model's layers `"mapping"` and `"synthesis"` are the two halves; the
    model itself maps latent vectors to images (no truncation: `StyleGAN2.generate`
    does it). `architecture` is `"skip"` (NVIDIA's default), `"orig"` or `"resnet"`;
    see `SynthesisNetwork` for the rest.
    """
    w_dim = int(w_dim or latent_dim)
    mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, num_classes,
                             mapping_lr_multiplier, mapping_embed_features,
                             mapping_layer_features, name="mapping")  # fmt: skip
    synthesis = SynthesisNetwork(
        image_shape, w_dim, channel_base, channel_max, architecture=architecture,
        conv_clamp=conv_clamp, resample_filter=resample_filter, num_fp16_res=num_fp16_res,
        name="synthesis",
    )  # fmt: skip
    return mapped_generator(mapping, synthesis, latent_dim, num_classes)


def mapped_generator(mapping, synthesis, latent_dim, num_classes=None):
    """The generator model `z` (and labels) -> `mapping` -> w broadcast -> `synthesis`.

    Args:
        mapping: a `MappingNetwork` layer named `"mapping"`.
        synthesis: a synthesis layer named `"synthesis"` with `num_ws` (StyleGAN2's or 3's).
        latent_dim: length of `z`.
        num_classes: class count of a conditional generator (adds an int `labels` input).
    """
    latent = keras.Input((latent_dim,), name="latent")
    inputs = latent
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs = [latent, labels]
    ws = BroadcastW(synthesis.num_ws, name="broadcast")(mapping(inputs))
    return keras.Model(inputs, synthesis(ws), name="generator")


def _fp16_dtype(resolution, top_resolution, num_fp16_res):
    """None (the global policy) for the `num_fp16_res` highest resolutions, else float32."""
    if num_fp16_res is None:
        return None
    fp16_resolution = max(top_resolution * 2 // 2 ** int(num_fp16_res), 8)
    return None if resolution >= fp16_resolution else "float32"


def stylegan2_discriminator(
    image_shape,
    channel_base=16384,
    channel_max=512,
    mbstd_group_size=4,
    num_classes=None,
    architecture="resnet",
    conv_clamp=None,
    resample_filter=(1, 3, 3, 1),
    mbstd_num_channels=1,
    mapping_layers=8,
    cmap_dim=None,
    num_fp16_res=None,
):
    """NVIDIA's StyleGAN2 discriminator: blocks down to 4x4, minibatch std, conv, two dense.

    Args:
        image_shape: `(height, width, channels)`, as for the generator.
        channel_base, channel_max: feature maps at resolution r: `min(base / r, max)`.
        mbstd_group_size, mbstd_num_channels: minibatch standard deviation (4, 1; 0
            channels turns it off).
        num_classes: class-conditional when set: labels are mapped (`mapping_layers`
            dense layers) to a `cmap_dim` vector (default: the 4x4 width) that projects
            the output: `<out, cmap> / sqrt(cmap_dim)`.
        architecture: `"resnet"` (default), `"skip"` or `"orig"`.
        conv_clamp: clamp convolution outputs to +-`conv_clamp` (256 in NVIDIA's configs).
        resample_filter: FIR taps of the downsampling filter.
        num_fp16_res: under a mixed-precision policy, only this many highest
            resolutions compute in half precision (None: all follow the policy).
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"`architecture` must be one of {ARCHITECTURES}: {architecture!r}")
    start_h, _, doublings = synthesis_plan(image_shape)
    top = start_h * 2**doublings
    common = dict(conv_clamp=conv_clamp, resample_filter=resample_filter)
    images = keras.Input(tuple(image_shape), name="images")
    x, img = None, images
    for block in range(doublings, 0, -1):
        res = start_h * 2**block
        tmp, out = (channels_at(b, channel_base, channel_max) for b in (block, block - 1))
        dtype = _fp16_dtype(res, top, num_fp16_res)
        if x is None or architecture == "skip":
            y = EqualizedConv2D(tmp, 1, dtype=dtype, name=f"b{res}_fromrgb", **common)(img)
            x = y if x is None else layers.Add(name=f"b{res}_add_rgb")([x, y])
            if architecture == "skip":
                img = Resample2x("down", resample_filter, name=f"b{res}_down_rgb")(img)
        conv0 = EqualizedConv2D(tmp, 3, dtype=dtype, name=f"b{res}_conv0", **common)
        if architecture == "resnet":
            # out = (skip(x) + conv1(conv0(x))) * sqrt(1/2), each branch scaled and clamped
            half = math.sqrt(0.5)
            y = EqualizedConv2D(out, 1, "linear", use_bias=False, down=True, gain=half,
                                resample_filter=resample_filter, dtype=dtype,
                                name=f"b{res}_skip")(x)  # fmt: skip
            x = EqualizedConv2D(out, 3, down=True, gain=half, dtype=dtype,
                                name=f"b{res}_conv1", **common)(conv0(x))  # fmt: skip
            x = layers.Add(name=f"b{res}_add")([y, x])
        else:
            x = EqualizedConv2D(out, 3, down=True, dtype=dtype, name=f"b{res}_conv1",
                                **common)(conv0(x))  # fmt: skip
    width = channels_at(0, channel_base, channel_max)
    epilogue = f"b{start_h}"
    if architecture == "skip":
        y = EqualizedConv2D(width, 1, dtype="float32", name=f"{epilogue}_fromrgb")(img)
        x = layers.Add(name=f"{epilogue}_add_rgb")([x, y])
    if mbstd_num_channels:
        x = MinibatchStdDev(mbstd_group_size, mbstd_num_channels, dtype="float32",
                            name=f"{epilogue}_mbstd")(x)  # fmt: skip
    x = EqualizedConv2D(width, 3, conv_clamp=conv_clamp, dtype="float32",
                        name=f"{epilogue}_conv")(x)  # fmt: skip
    x = layers.Flatten(dtype="float32", name=f"{epilogue}_flatten")(x)
    x = EqualizedDense(width, activation="lrelu", dtype="float32", name=f"{epilogue}_fc")(x)
    if not num_classes:
        logit = EqualizedDense(1, dtype="float32", name=f"{epilogue}_out")(x)
        return keras.Model(images, logit, name="discriminator")
    cmap_dim = int(cmap_dim or width)
    x = EqualizedDense(cmap_dim, dtype="float32", name=f"{epilogue}_out")(x)
    labels = keras.Input((), dtype="int32", name="labels")
    cmap = MappingNetwork(0, cmap_dim, mapping_layers, num_classes, dtype="float32",
                          name="mapping")(labels)  # fmt: skip
    logit = ProjectionLogit(dtype="float32", name="logit")([x, cmap])
    return keras.Model([images, labels], logit, name="discriminator")
