"""DCGAN networks (Radford et al., 2016): transposed-conv generator, strided-conv discriminator.

Example:

```python
from keras_gans.networks import dcgan

generator = dcgan.dcgan_generator(latent_dim=100, image_shape=(32, 32, 3), width=64)
discriminator = dcgan.dcgan_discriminator((32, 32, 3), width=64, spectral_norm=True)
```
"""

import keras
from keras import layers

from keras_gans.networks.convolution import Conv2D
from keras_gans.networks.transposed import Conv2DTranspose


def upsampling_plan(size):
    """Splits an image side into a start size and a number of 2x upsamplings.

    The side is halved while it stays even and at least 4: 28 -> 7 after 2,
    32 -> 4 after 3, 64 -> 4 after 4, 8 -> 4 after 1.
    """
    doublings = 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        doublings += 1
    return size, doublings


# Channel cap: large images would otherwise start at width * 2**doublings channels (4,096
# at 256x256). 1,024 keeps the 28/32/64-pixel networks at width 64 exactly as DCGAN's.
CHANNEL_MAX = 1024


def dcgan_generator(latent_dim, image_shape, width=64, kernel_size=5, channel_max=CHANNEL_MAX):
    """DCGAN generator, shaped like the TensorFlow DCGAN tutorial at 28x28.

    latent -> Dense to `(s, s, width * 2**k)` -> a stride-1 transposed conv ->
    `k` stride-2 transposed convs halving the channels, the last one to
    `channels` with tanh. BatchNorm and LeakyReLU follow every hidden layer.

    Args:
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)`; height and width must share
            the same upsampling plan (square images are the usual case).
        width: channels of the last hidden layer; the others double from it.
        kernel_size: transposed-convolution kernel size.
        channel_max: no layer has more channels than this.
    """
    height, image_width, channels = image_shape
    start_h, doublings = upsampling_plan(height)
    start_w, doublings_w = upsampling_plan(image_width)
    if doublings != doublings_w:
        raise ValueError(
            f"`image_shape`={tuple(image_shape)}: height and width need the same "
            "number of 2x upsamplings (e.g. 28x28, 32x32, 64x64)."
        )
    latent = keras.Input((latent_dim,), name="latent")
    x = generator_trunk(
        latent, start_h, start_w, doublings, channels, width, kernel_size, channel_max
    )
    return keras.Model(latent, x, name="generator")


def generator_trunk(
    x, start_h, start_w, doublings, channels, width, kernel_size, channel_max=CHANNEL_MAX
):
    """The DCGAN generator body from a flat input to tanh images.

    Dense to `(start_h, start_w, width * 2**doublings)`, a stride-1 transposed
    conv, then `doublings` stride-2 transposed convs halving the channels.
    """
    top = min(width * 2 ** max(doublings, 1), channel_max)
    x = layers.Dense(start_h * start_w * top, use_bias=False, name="project")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((start_h, start_w, top))(x)
    filters = min(width * 2 ** max(doublings, 1) // 2, channel_max)
    x = Conv2DTranspose(filters, kernel_size, padding="same", use_bias=False, name="deconv_0")(x)
    x = layers.BatchNormalization(name="deconv_0_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    for i in range(1, doublings):
        filters = min(width * 2 ** (doublings - 1 - i), channel_max)
        x = Conv2DTranspose(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            use_bias=False,
            name=f"deconv_{i}",
        )(x)
        x = layers.BatchNormalization(name=f"deconv_{i}_bn")(x)
        x = layers.LeakyReLU(0.2)(x)
    return Conv2DTranspose(
        channels,
        kernel_size,
        strides=2 if doublings else 1,
        padding="same",
        activation="tanh",
        name="to_pixels",
    )(x)


def dcgan_discriminator(
    image_shape, width=64, kernel_size=5, dropout=0.3, spectral_norm=False, channel_max=CHANNEL_MAX
):
    """DCGAN discriminator: stride-2 convs with LeakyReLU and Dropout -> one logit.

    Args:
        image_shape: `(height, width, channels)` of the input images.
        width: filters of the first convolution; they double at each stage.
        kernel_size: convolution kernel size.
        dropout: dropout rate after each convolution (0 for none, as WGAN-GP
            critics want).
        spectral_norm: wrap every convolution and the output layer in
            `keras.layers.SpectralNormalization` (Miyato et al., 2018).
        channel_max: no convolution has more filters than this.
    """
    images = keras.Input(image_shape, name="images")
    features = discriminator_features(
        images, image_shape, width, kernel_size, dropout, spectral_norm, channel_max
    )
    logits = maybe_spectral_norm(layers.Dense(1, name="logit"), spectral_norm)(features)
    return keras.Model(images, logits, name="discriminator")


def maybe_spectral_norm(layer, spectral_norm):
    """Returns `layer`, wrapped in `SpectralNormalization` when asked."""
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def discriminator_features(
    x, image_shape, width, kernel_size, dropout, spectral_norm=False, channel_max=CHANNEL_MAX
):
    """The DCGAN discriminator body up to the flattened features."""
    _, doublings = upsampling_plan(image_shape[0])
    filters = width
    for i in range(max(doublings, 1)):
        conv = Conv2D(
            min(filters, channel_max), kernel_size, strides=2, padding="same", name=f"conv_{i}"
        )
        x = maybe_spectral_norm(conv, spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        filters *= 2
    return layers.Flatten()(x)
