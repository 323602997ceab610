"""DCGAN (Radford et al., 2016): transposed-convolution generator, strided-conv discriminator."""

import keras
from keras import layers

from keras_gans.models.gan import GAN


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


def dcgan_generator(latent_dim, image_shape, width=64, kernel_size=5):
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
    x = _generator_trunk(latent, start_h, start_w, doublings, channels, width, kernel_size)
    return keras.Model(latent, x, name="generator")


def _generator_trunk(x, start_h, start_w, doublings, channels, width, kernel_size):
    top = width * 2 ** max(doublings, 1)
    x = layers.Dense(start_h * start_w * top, use_bias=False, name="project")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((start_h, start_w, top))(x)
    filters = top // 2
    x = layers.Conv2DTranspose(
        filters, kernel_size, padding="same", use_bias=False, name="deconv_0"
    )(x)
    x = layers.BatchNormalization(name="deconv_0_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    for i in range(1, doublings):
        filters //= 2
        x = layers.Conv2DTranspose(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            use_bias=False,
            name=f"deconv_{i}",
        )(x)
        x = layers.BatchNormalization(name=f"deconv_{i}_bn")(x)
        x = layers.LeakyReLU(0.2)(x)
    return layers.Conv2DTranspose(
        channels,
        kernel_size,
        strides=2 if doublings else 1,
        padding="same",
        activation="tanh",
        name="to_pixels",
    )(x)


def dcgan_discriminator(image_shape, width=64, kernel_size=5, dropout=0.3, spectral_norm=False):
    """DCGAN discriminator: stride-2 convs with LeakyReLU and Dropout -> one logit.

    Args:
        image_shape: `(height, width, channels)` of the input images.
        width: filters of the first convolution; they double at each stage.
        kernel_size: convolution kernel size.
        dropout: dropout rate after each convolution (0 for none, as WGAN-GP
            critics want).
        spectral_norm: wrap every convolution and the output layer in
            `keras.layers.SpectralNormalization` (Miyato et al., 2018).
    """
    images = keras.Input(image_shape, name="images")
    features = discriminator_features(
        images, image_shape, width, kernel_size, dropout, spectral_norm
    )
    logits = maybe_spectral_norm(layers.Dense(1, name="logit"), spectral_norm)(features)
    return keras.Model(images, logits, name="discriminator")


def maybe_spectral_norm(layer, spectral_norm):
    """Returns `layer`, wrapped in `SpectralNormalization` when asked."""
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def discriminator_features(x, image_shape, width, kernel_size, dropout, spectral_norm=False):
    """The DCGAN discriminator body up to the flattened features."""
    _, doublings = upsampling_plan(image_shape[0])
    filters = width
    for i in range(max(doublings, 1)):
        conv = layers.Conv2D(filters, kernel_size, strides=2, padding="same", name=f"conv_{i}")
        x = maybe_spectral_norm(conv, spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        filters *= 2
    return layers.Flatten()(x)


@keras.saving.register_keras_serializable(package="keras_gans")
class DCGAN(GAN):
    """Deep convolutional GAN for 28x28, 32x32, 64x64 (and similar) images.

    Args:
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)` with 1 or 3 channels.
        width: base number of filters (64 in the paper and the TF tutorial;
            use 8-16 for quick experiments).
        dropout: dropout rate in the discriminator.
        spectral_norm: spectral normalization of the discriminator's layers.
        generator, discriminator: optional networks replacing the defaults.
        **kwargs: `loss`, `d_steps`, `label_smoothing`, `seed`; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
    gan.compile()
    gan.fit(images, batch_size=128, epochs=20)
    gan.generate(16, seed=0).shape   # (16, 28, 28, 1)
    ```
    """

    def __init__(
        self, latent_dim=100, image_shape=None, width=64, dropout=0.3, spectral_norm=False, **kwargs
    ):
        self.width = int(width)
        self.dropout = float(dropout)
        self.spectral_norm = bool(spectral_norm)
        super().__init__(latent_dim=latent_dim, image_shape=image_shape, **kwargs)

    def build_generator(self, latent_dim, image_shape):
        return dcgan_generator(latent_dim, image_shape, width=self.width)

    def build_discriminator(self, image_shape):
        return dcgan_discriminator(
            image_shape, width=self.width, dropout=self.dropout, spectral_norm=self.spectral_norm
        )

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "dropout": self.dropout,
            "spectral_norm": self.spectral_norm,
        }
