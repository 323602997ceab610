"""StyleGAN2 networks (Karras et al., 2020) in plain Keras layers and `keras.ops`.

No custom CUDA ops: modulated convolution is the non-fused form (scale the input
by the style, convolve, scale the output by the demodulation coefficient), the
2x resampling is a fixed [1, 2, 1] (bilinear) filter written with slicing, and
the equalized learning rate is a weight scaled at run time. Follows NVlabs'
`training/networks.py` (stylegan2-ada-pytorch): mapping network, synthesis
network with skip outputs, residual discriminator with minibatch standard
deviation.

Example:

```python
from keras_gans.networks import stylegan2

generator = stylegan2.stylegan2_generator(latent_dim=512, image_shape=(32, 32, 3))
mapping = generator.get_layer("mapping")        # z -> w
synthesis = generator.get_layer("synthesis")    # ws (batch, num_ws, w_dim) -> images
discriminator = stylegan2.stylegan2_discriminator((32, 32, 3))
```
"""

import math

import keras
from keras import layers, ops

from keras_gans.networks.style_layers import (
    SQRT2,
    EqualizedConv2D,
    EqualizedDense,
    MinibatchStdDev,
    NormalInit,
    ProjectionLogit,
    Resample2x,
    activate,
    upsample_2x,
)

_register = keras.saving.register_keras_serializable(package="keras_gans")


@_register
class Normalize2ndMoment(layers.Layer):
    """`x / sqrt(mean(x^2) + 1e-8)` over the last axis (the mapping network's input)."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@_register
class BroadcastW(layers.Layer):
    """`(batch, w_dim)` -> `(batch, num_ws, w_dim)`: one w per synthesis layer."""

    def __init__(self, num_ws, **kwargs):
        super().__init__(**kwargs)
        self.num_ws = int(num_ws)

    def call(self, w):
        return ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)

    def compute_output_shape(self, shape):
        return (shape[0], self.num_ws, shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_ws": self.num_ws}


@_register
class ConstantInput(layers.Layer):
    """The learned 4x4 (or start-size) constant the synthesis network starts from."""

    def __init__(self, channels, height, width, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.height, self.width = int(channels), int(height), int(width)
        self.const = self.add_weight(
            shape=(self.height, self.width, self.channels),
            initializer=NormalInit(1.0),
            name="const",
        )

    def call(self, ws):
        batch = ops.shape(ws)[0]
        return ops.broadcast_to(self.const[None], (batch, self.height, self.width, self.channels))

    def compute_output_shape(self, shape):
        return (shape[0], self.height, self.width, self.channels)

    def get_config(self):
        return {
            **super().get_config(),
            **{
                k: getattr(self, k)
                for k in (
                    "channels",
                    "height",
                    "width",
                )
            },
        }


@_register
class ModulatedConv2D(layers.Layer):
    """StyleGAN2's synthesis layer: `[x, ws]` -> modulated (and demodulated) convolution.

    The style is an affine map of `ws[:, w_index]` (bias initialised to 1). Non-fused form:
    `x * style`, optional 2x upsampling, convolution, `* rsqrt(sum((w * style)^2) + 1e-8)`
    per output channel (demodulation); then per-pixel noise times a learned strength
    (random while training, a stored constant map at inference, as NVlabs' `noise_mode`),
    a bias and the activation. Without demodulation (toRGB) the style carries the
    1 / sqrt(fan_in) gain instead.
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        w_index=0,
        demodulate=True,
        up=False,
        use_noise=True,
        activation="lrelu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.w_index = int(w_index)
        self.demodulate = bool(demodulate)
        self.up = bool(up)
        self.use_noise = bool(use_noise)
        self.activation = activation
        self.noise_seed = keras.random.SeedGenerator(name="noise_seed") if use_noise else None

    def build(self, input_shape):
        x_shape, ws_shape = input_shape
        in_channels = int(x_shape[-1])
        k = self.kernel_size
        self.affine = EqualizedDense(in_channels, bias_init=1.0, name="affine")
        self.affine.build((None, int(ws_shape[-1])))
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, self.filters),
            initializer=NormalInit(1.0),
            name="kernel",
        )
        self.bias = self.add_weight(shape=(self.filters,), initializer=NormalInit(0.0), name="bias")
        self.weight_gain = 1.0 / math.sqrt(in_channels * k * k)
        if self.use_noise:
            scale = 2 if self.up else 1
            self.noise_const = self.add_weight(
                shape=(int(x_shape[1]) * scale, int(x_shape[2]) * scale, 1),
                initializer=NormalInit(1.0),
                trainable=False,
                name="noise_const",
            )
            self.noise_strength = self.add_weight(
                shape=(), initializer=NormalInit(0.0), name="noise_strength"
            )

    def call(self, inputs, training=False):
        x, ws = inputs
        styles = self.affine(ws[:, self.w_index])  # (batch, in_channels)
        if not self.demodulate:
            styles = styles * self.weight_gain
        # x * s: modulate the input channels
        x = x * styles[:, None, None, :]
        if self.up:
            x = upsample_2x(x)
        weight = self.kernel * (self.weight_gain if self.demodulate else 1.0)
        x = ops.conv(x, weight, padding="same")
        if self.demodulate:
            # d_j = 1 / sqrt(sum_{i,k} (w_ijk s_i)^2 + 1e-8): unit-variance outputs
            squared = ops.einsum("hwio,bi->bo", ops.square(weight), ops.square(styles))
            x = x * ops.rsqrt(squared + 1e-8)[:, None, None, :]
        if self.use_noise:
            if training:
                shape = (ops.shape(x)[0],) + tuple(self.noise_const.shape)
                noise = keras.random.normal(shape, seed=self.noise_seed, dtype=x.dtype)
            else:
                noise = self.noise_const[None]
            x = x + noise * self.noise_strength
        return activate(x + self.bias, self.activation)

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0]
        scale = 2 if self.up else 1
        return (x_shape[0], x_shape[1] * scale, x_shape[2] * scale, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            **{
                k: getattr(self, k)
                for k in (
                    "filters",
                    "kernel_size",
                    "w_index",
                    "demodulate",
                    "up",
                    "use_noise",
                    "activation",
                )
            },
        }


def synthesis_plan(image_shape):
    """`(start_h, start_w, doublings)` for an image shape; both sides must double alike."""
    height, width = (int(side) for side in image_shape[:2])
    doublings = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= 4:
        height, width, doublings = height // 2, width // 2, doublings + 1
    if doublings < 1 or max(height, width) > 4 * min(height, width):
        raise ValueError(
            f"`image_shape`={tuple(image_shape)}: both sides need the same number (>= 1) of "
            "2x steps from a start of at least 4 (e.g. 32x32, 64x64, 256x256, or 32x64 "
            "from 4x8)."
        )
    return height, width, doublings


def channels_at(block, channel_base, channel_max):
    """Feature maps of block `block` (resolution 4 * 2**block): min(base / res, max)."""
    return max(1, min(channel_base // (4 * 2**block), channel_max))


def num_ws_for(image_shape):
    """How many w vectors the synthesis network of `image_shape` consumes: 2 * doublings + 2."""
    return 2 * synthesis_plan(image_shape)[2] + 2


def mapping_network(latent_dim, w_dim, num_layers=8, num_classes=None, lr_multiplier=0.01):
    """z (and class ids) -> w: normalise, then `num_layers` equalized dense layers (lr x 0.01)."""
    latent = keras.Input((latent_dim,), name="latent")
    x = Normalize2ndMoment(name="normalize_z")(latent)
    inputs = latent
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(
            num_classes, w_dim, embeddings_initializer=NormalInit(1.0), name="embed"
        )(labels)
        embedded = Normalize2ndMoment(name="normalize_c")(embedded)
        x = layers.Concatenate(name="concat_zc")([x, embedded])
        inputs = [latent, labels]
    for i in range(num_layers):
        x = EqualizedDense(w_dim, lr_multiplier, activation="lrelu", name=f"fc{i}")(x)
    return keras.Model(inputs, x, name="mapping")


def synthesis_network(image_shape, w_dim, channel_base=16384, channel_max=512):
    """ws `(batch, num_ws, w_dim)` -> images: constant input, modulated convs, skip toRGBs."""
    start_h, start_w, doublings = synthesis_plan(image_shape)
    channels = image_shape[2]
    num_ws = num_ws_for(image_shape)
    ws = keras.Input((num_ws, w_dim), name="ws")
    width = channels_at(0, channel_base, channel_max)
    x = ConstantInput(width, start_h, start_w, name="const")(ws)
    x = ModulatedConv2D(width, w_index=0, name="b0_conv1")([x, ws])
    image = ModulatedConv2D(
        channels, 1, 1, demodulate=False, use_noise=False, activation="linear", name="b0_torgb"
    )([x, ws])
    for block in range(1, doublings + 1):
        width = channels_at(block, channel_base, channel_max)
        x = ModulatedConv2D(width, w_index=2 * block - 1, up=True, name=f"b{block}_conv0")([x, ws])
        x = ModulatedConv2D(width, w_index=2 * block, name=f"b{block}_conv1")([x, ws])
        rgb = ModulatedConv2D(
            channels,
            1,
            2 * block + 1,
            demodulate=False,
            use_noise=False,
            activation="linear",
            name=f"b{block}_torgb",
        )([x, ws])
        # img = upsample(img) + toRGB(x): skip outputs
        image = layers.Add(name=f"b{block}_skip")([Resample2x("up")(image), rgb])
    return keras.Model(ws, image, name="synthesis")


def stylegan2_generator(
    latent_dim,
    image_shape,
    w_dim=None,
    mapping_layers=8,
    channel_base=16384,
    channel_max=512,
    num_classes=None,
):
    """The StyleGAN2 generator: `z` (and labels) -> mapping -> broadcast w -> synthesis.

    The returned model's layers `"mapping"` and `"synthesis"` are the two halves; the
    model itself maps latent vectors to images (no truncation: `StyleGAN2.generate` does it).
    """
    w_dim = int(w_dim or latent_dim)
    mapping = mapping_network(latent_dim, w_dim, mapping_layers, num_classes)
    synthesis = synthesis_network(image_shape, w_dim, channel_base, channel_max)
    latent = keras.Input((latent_dim,), name="latent")
    inputs = latent
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs = [latent, labels]
    ws = BroadcastW(num_ws_for(image_shape), name="broadcast")(mapping(inputs))
    return keras.Model(inputs, synthesis(ws), name="generator")


def stylegan2_discriminator(
    image_shape, channel_base=16384, channel_max=512, mbstd_group_size=4, num_classes=None
):
    """Residual discriminator: fromRGB, residual down blocks, minibatch std, conv, two dense.

    With `num_classes` it is a projection discriminator (NVlabs' cmap): the logit is
    `<features, embed(label)> / sqrt(dim)`.
    """
    _, _, doublings = synthesis_plan(image_shape)
    images = keras.Input(tuple(image_shape), name="images")
    width = channels_at(doublings, channel_base, channel_max)
    x = EqualizedConv2D(width, 1, name=f"b{doublings}_fromrgb")(images)
    for block in range(doublings, 0, -1):
        out_width = channels_at(block - 1, channel_base, channel_max)
        # skip = down(x) W_skip (linear); main = conv(down(conv(x))); out = (skip + main) / sqrt(2)
        skip = EqualizedConv2D(
            out_width, 1, "linear", use_bias=False, down=True, name=f"b{block}_skip"
        )(x)
        y = EqualizedConv2D(width, 3, name=f"b{block}_conv0")(x)
        y = EqualizedConv2D(out_width, 3, down=True, name=f"b{block}_conv1")(y)
        x = layers.Rescaling(1.0 / SQRT2, name=f"b{block}_scale")(layers.Add()([skip, y]))
        width = out_width
    x = MinibatchStdDev(mbstd_group_size, name="mbstd")(x)
    x = EqualizedConv2D(width, 3, name="epilogue_conv")(x)
    x = layers.Flatten()(x)
    x = EqualizedDense(width, activation="lrelu", name="epilogue_fc")(x)
    if not num_classes:
        return keras.Model(images, EqualizedDense(1, name="logit")(x), name="discriminator")
    labels = keras.Input((), dtype="int32", name="labels")
    features = EqualizedDense(width, name="projection_features")(x)
    embedding = layers.Embedding(
        num_classes, width, embeddings_initializer=NormalInit(1.0), name="class_embedding"
    )(labels)
    logit = ProjectionLogit(name="logit")([features, embedding])
    return keras.Model([images, labels], logit, name="discriminator")
