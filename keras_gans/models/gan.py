"""The fully connected GAN of the classic tutorials (Goodfellow et al., 2014)."""

import keras

from keras_gans.models.base import BaseGAN
from keras_gans.networks.dense import (
    check_image_shape,
    check_latent_dim,
    fully_connected_discriminator,
    fully_connected_generator,
)


@keras.saving.register_keras_serializable(package="keras_gans")
class GAN(BaseGAN):
    """A GAN with fully connected networks, or with networks you pass in.

    Args:
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)`, default `(28, 28, 1)`;
            used to build the default networks.
        generator: optional `keras.Model` latent -> image in [-1, 1].
        discriminator: optional `keras.Model` image -> `(batch, 1)` logits.
        **kwargs: `loss`, `d_steps`, `label_smoothing`, `seed` and Keras
            `Model` arguments; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.GAN(latent_dim=64, image_shape=(28, 28, 1))
    gan.compile()
    gan.fit(images, batch_size=64, epochs=10)   # images in [-1, 1]
    samples = gan.generate(16, seed=0)
    ```
    """

    def __init__(
        self,
        latent_dim=100,
        image_shape=None,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        shape = check_image_shape(image_shape or (28, 28, 1))
        latent_dim = check_latent_dim(latent_dim)
        if generator is None:
            generator = self.build_generator(latent_dim, shape)
        if discriminator is None:
            discriminator = self.build_discriminator(shape)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        if image_shape is not None and self.image_shape != shape:
            raise ValueError(
                f"`image_shape`={shape} does not match the generator's output "
                f"shape {self.image_shape}."
            )

    def build_generator(self, latent_dim, image_shape):
        return fully_connected_generator(latent_dim, image_shape)

    def build_discriminator(self, image_shape):
        return fully_connected_discriminator(image_shape)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape}
