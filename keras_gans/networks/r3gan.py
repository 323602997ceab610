"""R3GAN networks (Huang et al., 2024, "The GAN is dead; long live the GAN!") in Keras layers.

The paper's simplified ResNet: no normalisation, bottleneck residual blocks
(1x1 expand, grouped kxk, 1x1 back; biased leaky ReLU between; the last layer
zero-initialised), fix-up style initialisation scaled by the total number of
blocks, bilinear 2x resampling with 1x1 convolutions where the width changes, a
learned 4x4 basis modulated by a linear map of z at the generator's start and a
depthwise 4x4 "basis" at the discriminator's end. Follows `R3GAN/Networks.py`.

Example:

```python
from keras_gans.networks import r3gan

generator = r3gan.r3gan_generator(64, (32, 32, 3), width=128, cardinality=8)
discriminator = r3gan.r3gan_discriminator((32, 32, 3), width=128, cardinality=8)
```
"""

import math

import keras
from keras import layers, ops

from keras_gans.networks.style_layers import NormalInit, ProjectionLogit, Resample2x
from keras_gans.networks.stylegan2 import synthesis_plan

ACTIVATION_GAIN = math.sqrt(2.0 / (1.0 + 0.2**2))  # leaky ReLU(0.2)


def _msr(gain, fan_in):
    """He-style init N(0, gain^2 / fan_in); gain 0 gives zeros."""
    return NormalInit(gain / math.sqrt(fan_in))


def _conv(filters, kernel_size, fan_in, gain=1.0, groups=1, bias=False, name=None):
    return layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        groups=groups,
        use_bias=bias,
        bias_initializer=NormalInit(0.0),
        kernel_initializer=_msr(gain, fan_in // groups * kernel_size**2),
        name=name,
    )


@keras.saving.register_keras_serializable(package="keras_gans")
class GenerativeBasis(layers.Layer):
    """z -> a learned `(h, w, channels)` basis times a linear map of z (per channel)."""

    def __init__(self, channels, height=4, width=4, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.height, self.width = int(channels), int(height), int(width)

    def build(self, input_shape):
        self.basis = self.add_weight(
            shape=(self.height, self.width, self.channels),
            initializer=NormalInit(1.0),
            name="basis",
        )
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), self.channels),
            initializer=_msr(1.0, int(input_shape[-1])),
            name="kernel",
        )

    def call(self, z):
        return self.basis[None] * ops.matmul(z, self.kernel)[:, None, None, :]

    def compute_output_shape(self, shape):
        return (shape[0], self.height, self.width, self.channels)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "height": self.height,
            "width": self.width,
        }


def _per_stage(value, stages, name):
    values = list(value) if isinstance(value, (list, tuple)) else [value] * stages
    if len(values) != stages:
        raise ValueError(f"`{name}` needs one value per stage ({stages}); received {value!r}.")
    return [int(v) for v in values]


def residual_block(x, cardinality, expansion, kernel_size, total_blocks, name):
    """x + conv1x1(act(grouped_conv(act(conv1x1(x))))), the last conv zero-initialised."""
    channels = x.shape[-1]
    expanded = channels * expansion
    # fix-up scaling: gain * L^(-1 / (2 m - 2)) with m = 3 layers per block
    gain = ACTIVATION_GAIN * total_blocks ** (-1.0 / 4.0)
    y = _conv(expanded, 1, channels, gain, bias=True, name=f"{name}_expand")(x)
    y = layers.LeakyReLU(0.2)(y)
    y = _conv(expanded, kernel_size, expanded, gain, cardinality, True, f"{name}_grouped")(y)
    y = layers.LeakyReLU(0.2)(y)
    y = _conv(channels, 1, expanded, 0.0, name=f"{name}_project")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def _stage_settings(image_shape, width, cardinality, blocks):
    start_h, start_w, doublings = synthesis_plan(image_shape)
    stages = doublings + 1
    widths = _per_stage(width, stages, "width")
    cardinalities = _per_stage(cardinality, stages, "cardinality")
    block_counts = _per_stage(blocks, stages, "blocks")
    return start_h, start_w, widths, cardinalities, block_counts


def r3gan_generator(latent_dim, image_shape, width=256, cardinality=16, blocks=2, expansion=2,
                    kernel_size=3, num_classes=None, embed_dim=64):  # fmt: skip
    """z (and labels) -> images (no output non-linearity, as in the paper).

    Args:
        width, cardinality, blocks: per stage from the start resolution up (an int: every
            stage); `width * expansion` must be divisible by `cardinality`.
    """
    start_h, start_w, widths, cardinalities, block_counts = _stage_settings(
        image_shape, width, cardinality, blocks
    )
    total = sum(block_counts)
    latent = keras.Input((latent_dim,), name="latent")
    inputs, x = latent, latent
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(
            num_classes, embed_dim, embeddings_initializer=NormalInit(1.0), name="embed"
        )(labels)
        x = layers.Concatenate()([latent, embedded])
        inputs = [latent, labels]
    x = GenerativeBasis(widths[0], start_h, start_w, name="basis")(x)
    for stage, (channels, groups, count) in enumerate(zip(widths, cardinalities, block_counts)):
        if stage:
            if x.shape[-1] != channels:
                x = _conv(channels, 1, x.shape[-1], name=f"s{stage}_up_proj")(x)
            x = Resample2x("up", name=f"s{stage}_up")(x)
        for block in range(count):
            x = residual_block(x, groups, expansion, kernel_size, total, f"s{stage}_b{block}")
    images = _conv(image_shape[-1], 1, x.shape[-1], name="to_pixels")(x)
    return keras.Model(inputs, images, name="generator")


def r3gan_discriminator(image_shape, width=256, cardinality=16, blocks=2, expansion=2,
                        kernel_size=3, num_classes=None, embed_dim=64):  # fmt: skip
    """images (and labels) -> one logit: the generator's stages mirrored, then a 4x4 basis."""
    start_h, start_w, widths, cardinalities, block_counts = _stage_settings(
        image_shape, width, cardinality, blocks
    )
    widths, cardinalities, block_counts = widths[::-1], cardinalities[::-1], block_counts[::-1]
    total = sum(block_counts)
    images = keras.Input(tuple(image_shape), name="images")
    x = _conv(widths[0], 1, image_shape[-1], name="from_pixels")(images)
    for stage, (channels, groups, count) in enumerate(zip(widths, cardinalities, block_counts)):
        if stage:
            x = Resample2x("down", name=f"s{stage}_down")(x)
            if x.shape[-1] != channels:
                x = _conv(channels, 1, x.shape[-1], name=f"s{stage}_down_proj")(x)
        for block in range(count):
            x = residual_block(x, groups, expansion, kernel_size, total, f"s{stage}_b{block}")
    channels = x.shape[-1]
    x = layers.DepthwiseConv2D(
        (start_h, start_w),
        use_bias=False,
        depthwise_initializer=_msr(1.0, start_h * start_w),
        name="basis",
    )(x)
    x = layers.Flatten()(x)
    out_dim = embed_dim if num_classes else 1
    kernel_init = _msr(1.0, channels)
    x = layers.Dense(out_dim, use_bias=False, kernel_initializer=kernel_init, name="linear")(x)
    if not num_classes:
        return keras.Model(images, x, name="discriminator")
    labels = keras.Input((), dtype="int32", name="labels")
    embedding = layers.Embedding(
        num_classes, embed_dim, embeddings_initializer=NormalInit(1.0), name="class_embedding"
    )(labels)
    return keras.Model([images, labels], ProjectionLogit(name="logit")([x, embedding]))
