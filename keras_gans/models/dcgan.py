"""DCGAN (Radford et al., 2016): transposed-convolution generator, strided-conv discriminator."""

import keras

from keras_gans.models.gan import GAN
from keras_gans.networks.dcgan import CHANNEL_MAX, dcgan_discriminator, dcgan_generator
from keras_gans.utils.arguments import check_integer


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
        channel_max: no layer has more channels than this (1,024 keeps the 28-64
            pixel networks at width 64 as in the paper and caps larger ones).
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
        self,
        latent_dim=100,
        image_shape=None,
        width=64,
        dropout=0.3,
        spectral_norm=False,
        channel_max=CHANNEL_MAX,
        **kwargs,
    ):
        check_integer("width", width)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: {dropout!r}")
        self.width = int(width)
        self.channel_max = int(channel_max)
        self.dropout = float(dropout)
        self.spectral_norm = bool(spectral_norm)
        super().__init__(latent_dim=latent_dim, image_shape=image_shape, **kwargs)

    def build_generator(self, latent_dim, image_shape):
        return dcgan_generator(
            latent_dim, image_shape, width=self.width, channel_max=self.channel_max
        )

    def build_discriminator(self, image_shape):
        return dcgan_discriminator(
            image_shape,
            width=self.width,
            dropout=self.dropout,
            spectral_norm=self.spectral_norm,
            channel_max=self.channel_max,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "dropout": self.dropout,
            "spectral_norm": self.spectral_norm,
            "channel_max": self.channel_max,
        }
