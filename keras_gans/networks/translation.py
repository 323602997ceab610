"""Image-to-image networks: U-Net and ResNet generators, PatchGAN discriminators.

They follow pytorch-CycleGAN-and-pix2pix (Isola et al., 2017; Zhu et al., 2017):
`unet_generator` is Pix2Pix's generator, `resnet_generator` CycleGAN's and
`patch_discriminator` both models' 70x70 PatchGAN (at 256x256 with 3 layers),
which gives one logit per overlapping patch. Normalisation is instance norm
(`GroupNormalization(groups=-1)`), so outputs do not depend on the batch.

Example:

```python
from keras_gans.networks import translation

generator = translation.unet_generator((256, 256, 3), target_channels=3, width=64)
discriminator = translation.patch_discriminator((256, 256, 3), source_shape=(256, 256, 3))
cycle_generator = translation.resnet_generator((256, 256, 3), target_channels=3, num_blocks=9)
```
"""

import keras
from keras import layers, ops

from keras_gans.networks.transposed import Conv2DTranspose
from keras_gans.utils.arguments import check_shape


@keras.saving.register_keras_serializable(package="keras_gans")
class ReflectionPadding2D(layers.Layer):
    """Pads height and width by mirroring the border, as CycleGAN's ResNet generator does."""

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="keras_gans")
class ContiguousKernelConv2D(layers.Conv2D):
    """`Conv2D` handing torch a contiguous kernel: one-filter layers train in half precision.

    Keras' torch backend passes `conv2d` a permuted view of the `(kh, kw, in, out)`
    kernel. For a one-filter kernel larger than 1x1, torch's CPU convolution in
    float16 (and in bfloat16 on CPUs without oneDNN's bfloat16, e.g. AVX2-only ones)
    then fails on the weight gradient ("slow_conv2d: grad_weight must be
    contiguous"). Here the kernel is laid out so that Keras' permutation is
    contiguous; other backends get the kernel unchanged.

    Example:

    ```python
    logits = ContiguousKernelConv2D(1, 4, padding="same", name="patch_logits")(features)
    ```
    """

    def convolution_op(self, inputs, kernel):
        if keras.backend.backend() == "torch":
            kernel = ops.convert_to_tensor(kernel)  # the compute dtype under a mixed policy
            kernel = kernel.permute(3, 2, 0, 1).contiguous().permute(2, 3, 1, 0)
        return super().convolution_op(inputs, kernel)


def instance_norm(name):
    """Instance normalisation: each image and channel normalised over its pixels."""
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def unet_depth(height, width, max_depth=8):
    """How many stride-2 stages a U-Net takes: while both sides halve evenly, at most 8.

    256x256 -> 8 (down to 1x1), 32x32 -> 5, 64x128 -> 6 (1x2 at the bottom).
    """
    depth = 0
    while depth < max_depth and height % 2 == 0 and width % 2 == 0 and min(height, width) > 1:
        height, width, depth = height // 2, width // 2, depth + 1
    return depth


def unet_generator(source_shape, target_channels, width=64, dropout=0.5, depth=None):
    """Pix2Pix's U-Net: a strided encoder and a transposed-conv decoder with skips.

    Encoder stage i: Conv 4x4/2 with `width * min(2**i, 8)` filters, instance
    norm (not on the first stage nor at a 1x1 bottleneck), LeakyReLU(0.2).
    Decoder: ConvTranspose 4x4/2, instance norm, dropout on the three
    innermost stages (Pix2Pix's noise, active in training only), ReLU, then
    concatenation with the encoder stage of the same size. Output: tanh.

    Args:
        source_shape: `(height, width, channels)` of the inputs; both sides
            must be divisible by `2**depth`.
        target_channels: channels of the output images.
        width: filters of the first stage.
        dropout: dropout rate in the three innermost decoder stages.
        depth: number of stride-2 stages; default `unet_depth(height, width)`.
    """
    height, image_width, _ = check_shape("source_shape", source_shape)
    depth = unet_depth(height, image_width) if depth is None else int(depth)
    if depth < 1 or height % 2**depth or image_width % 2**depth:
        raise ValueError(
            f"`source_shape`={tuple(source_shape)}: a U-Net of depth {depth} needs both sides "
            f"divisible by {2 ** max(depth, 1)} (e.g. 32x32, 64x64, 256x256, 128x256)."
        )
    sources = keras.Input(tuple(source_shape), name="sources")
    x, skips = sources, []
    for i in range(depth):
        filters = width * min(2**i, 8)
        x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down_{i}")(x)
        bottom = height >> (i + 1) == 1 and image_width >> (i + 1) == 1
        if i > 0 and not bottom:
            x = instance_norm(f"down_{i}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    for i in reversed(range(depth - 1)):
        filters = width * min(2**i, 8)
        x = Conv2DTranspose(filters, 4, strides=2, padding="same", name=f"up_{i}")(x)
        x = instance_norm(f"up_{i}_norm")(x)
        if dropout and i >= depth - 4:
            x = layers.Dropout(dropout, name=f"up_{i}_dropout")(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate(name=f"skip_{i}")([x, skips[i]])
    outputs = Conv2DTranspose(
        target_channels, 4, strides=2, padding="same", activation="tanh", name="to_pixels"
    )(x)
    return keras.Model(sources, outputs, name="generator")


def resnet_generator(
    image_shape, target_channels, width=64, num_blocks=9, num_downsamplings=2, name="generator"
):
    """CycleGAN's ResNet generator: c7s1-w, two stride-2 convs, residual blocks, back up.

    Reflection padding before every convolution that keeps the size, instance
    norm and ReLU after every hidden convolution, tanh at the output.

    Args:
        image_shape: `(height, width, channels)` of the inputs; both sides must
            be divisible by `2**num_downsamplings`.
        target_channels: channels of the output images.
        width: filters of the first convolution; doubled at each downsampling.
        num_blocks: residual blocks (9 at 256x256, 6 at 128x128 in the paper).
        num_downsamplings: stride-2 convolutions before the blocks.
        name: the model's name.
    """
    height, image_width, _ = check_shape("image_shape", image_shape)
    factor = 2**num_downsamplings
    if height % factor or image_width % factor:
        raise ValueError(
            f"`image_shape`={tuple(image_shape)}: the ResNet generator needs both sides "
            f"divisible by {factor}."
        )
    images = keras.Input(tuple(image_shape), name="images")
    x = ReflectionPadding2D(3)(images)
    x = layers.Conv2D(width, 7, name="stem")(x)
    x = layers.ReLU()(instance_norm("stem_norm")(x))
    filters = width
    for i in range(num_downsamplings):
        filters *= 2
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"down_{i}")(x)
        x = layers.ReLU()(instance_norm(f"down_{i}_norm")(x))
    for i in range(num_blocks):
        y = ReflectionPadding2D(1)(x)
        y = layers.Conv2D(filters, 3, name=f"block_{i}_conv_0")(y)
        y = layers.ReLU()(instance_norm(f"block_{i}_norm_0")(y))
        y = ReflectionPadding2D(1)(y)
        y = layers.Conv2D(filters, 3, name=f"block_{i}_conv_1")(y)
        y = instance_norm(f"block_{i}_norm_1")(y)
        x = layers.Add(name=f"block_{i}")([x, y])
    for i in range(num_downsamplings):
        filters //= 2
        x = Conv2DTranspose(filters, 3, strides=2, padding="same", name=f"up_{i}")(x)
        x = layers.ReLU()(instance_norm(f"up_{i}_norm")(x))
    x = ReflectionPadding2D(3)(x)
    outputs = ContiguousKernelConv2D(target_channels, 7, activation="tanh", name="to_pixels")(x)
    return keras.Model(images, outputs, name=name)


def patch_discriminator(image_shape, source_shape=None, width=64, num_layers=3, name=None):
    """PatchGAN: strided 4x4 convs ending in one logit per patch, shape `(batch, h, w, 1)`.

    Conv 4x4/2 (width) + LeakyReLU; `num_layers - 1` more Conv 4x4/2 with
    doubling filters (capped at 8x), instance norm and LeakyReLU; one Conv
    4x4/1 with norm and LeakyReLU; a Conv 4x4/1 to one channel. With three
    layers each logit sees a 70x70 patch.

    Args:
        image_shape: shape of the images judged.
        source_shape: for a conditional (Pix2Pix) discriminator, the shape of
            the source images, concatenated with the images on channels; the
            model then takes `[sources, images]`.
        width: filters of the first convolution.
        num_layers: stride-2 convolutions; the image sides must be divisible by
            `2**num_layers`.
        name: the model's name; default `"discriminator"`.
    """
    height, image_width, _ = check_shape("image_shape", image_shape)
    if height % 2**num_layers or image_width % 2**num_layers:
        raise ValueError(
            f"`image_shape`={tuple(image_shape)}: a PatchGAN with {num_layers} layers needs "
            f"both sides divisible by {2**num_layers}; lower `num_layers` for small images."
        )
    images = keras.Input(tuple(image_shape), name="images")
    inputs, x = images, images
    if source_shape is not None:
        source_shape = check_shape("source_shape", source_shape)
        if source_shape[:2] != (height, image_width):
            raise ValueError(
                f"Sources {source_shape} and images {tuple(image_shape)} must share height "
                "and width: the discriminator sees them side by side."
            )
        sources = keras.Input(source_shape, name="sources")
        inputs = [sources, images]
        x = layers.Concatenate(name="source_and_image")([sources, images])
    x = layers.Conv2D(width, 4, strides=2, padding="same", name="conv_0")(x)
    x = layers.LeakyReLU(0.2)(x)
    for i in range(1, num_layers + 1):
        strides = 2 if i < num_layers else 1
        filters = width * min(2**i, 8)
        x = layers.Conv2D(filters, 4, strides=strides, padding="same", name=f"conv_{i}")(x)
        x = layers.LeakyReLU(0.2)(instance_norm(f"conv_{i}_norm")(x))
    logits = ContiguousKernelConv2D(1, 4, padding="same", name="patch_logits")(x)
    return keras.Model(inputs, logits, name=name or "discriminator")
