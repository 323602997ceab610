"""Class-conditional GAN (Mirza & Osindero, 2014) on DCGAN networks.

The generator sees the latent vector concatenated with a learned label
embedding; the discriminator sees the image with one extra channel, a
learned per-class plane, so both networks are told which class is meant.
"""

import keras
import numpy as np
from keras import ops

from keras_gans.data import checks as data_checks
from keras_gans.models.base import BaseGAN
from keras_gans.networks.conditional import conditional_discriminator, conditional_generator
from keras_gans.networks.dense import check_image_shape, check_latent_dim
from keras_gans.utils.arguments import check_integer


@keras.saving.register_keras_serializable(package="keras_gans")
class ConditionalGAN(BaseGAN):
    """A GAN that generates images of a requested class.

    Args:
        num_classes: number of classes; labels are ids in `[0, num_classes)`.
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)`, default `(28, 28, 1)`.
        width: base number of filters of the default DCGAN networks.
        conditioning: how the discriminator uses the label: `"concat"`
            (extra channel), `"projection"` (projection discriminator) or
            `"acgan"` (auxiliary classifier: both losses add the class
            cross-entropy of real and generated images).
        dropout: dropout rate in the discriminator.
        spectral_norm: spectral normalization of the discriminator's layers.
        generator: optional `keras.Model` taking `[latent, labels]`.
        discriminator: optional `keras.Model` taking `[images, labels]`.
        **kwargs: `loss`, `d_steps`, `label_smoothing`, `seed`; see `BaseGAN`.

    Example:

    ```python
    cgan = keras_gans.ConditionalGAN(num_classes=10, latent_dim=100,
                                     image_shape=(28, 28, 1))
    cgan.compile()
    cgan.fit((images, labels), batch_size=128, epochs=20)
    cgan.generate(labels=[0, 1, 2, 3], seed=0).shape   # (4, 28, 28, 1)
    ```
    """

    def __init__(
        self,
        num_classes=10,
        latent_dim=100,
        image_shape=None,
        width=64,
        conditioning="concat",
        dropout=0.3,
        spectral_norm=False,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        check_integer("num_classes", num_classes, minimum=2)
        shape = check_image_shape(image_shape or (28, 28, 1))
        latent_dim = check_latent_dim(latent_dim)
        if generator is None:
            generator = conditional_generator(latent_dim, shape, num_classes, width)
        if discriminator is None:
            discriminator = conditional_discriminator(
                shape, num_classes, width, dropout, spectral_norm, conditioning
            )
        self._num_classes = int(num_classes)
        self.conditioning = conditioning
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.width = int(width)
        self.dropout = float(dropout)
        self.spectral_norm = bool(spectral_norm)
        if image_shape is not None and self.image_shape != shape:
            raise ValueError(
                f"`image_shape`={shape} does not match the generator's output "
                f"shape {self.image_shape}."
            )

    @property
    def num_classes(self):
        return self._num_classes

    def _generator_input_spec(self, batch):
        return [keras.KerasTensor((batch, self.latent_dim)), self._label_spec(batch)]

    def _describe_generator_inputs(self):
        return f"[latent (batch, {self.latent_dim}), labels (batch,) int32]"

    def _label_spec(self, batch):
        return keras.KerasTensor((batch,), dtype="int32")

    def _discriminator_inputs(self, images, labels):
        if self.conditioning == "acgan":
            return images
        return [images, labels]

    def _generate(self, latent, labels, training):
        return self.generator([latent, labels], training=training)

    def call(self, inputs, training=False):
        """Maps `[latent, labels]` to images."""
        return self.generator(inputs, training=training)

    def _unpack_batch(self, data):
        images, labels = data_checks.split_images_and_labels(data)
        if labels is None:
            raise ValueError(
                "ConditionalGAN needs labels: call fit((images, labels)) or fit(images, labels)."
            )
        self._check_step_images(images)
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return ops.cast(images, self.compute_dtype), labels

    def _resolve_generate_inputs(self, num_images, labels, seed, latent):
        if labels is None:
            raise ValueError(
                "ConditionalGAN.generate needs `labels`, one class id per image, "
                f"in [0, {self.num_classes}); e.g. generate(labels=[0, 1, 2])."
            )
        labels = data_checks.check_labels(np.atleast_1d(labels), self.num_classes)
        if len(labels) == 0:
            raise ValueError("`labels` is empty; give one class id per image to generate.")
        if num_images is not None and int(num_images) != len(labels):
            raise ValueError(
                f"`num_images`={num_images} but {len(labels)} labels were given; "
                "give one label per image (or leave num_images out)."
            )
        if latent is not None:
            latent = self._check_latent(latent)
            if len(latent) != len(labels):
                raise ValueError(
                    f"`latent` has {len(latent)} rows but {len(labels)} labels "
                    "were given; give one label per latent vector."
                )
        else:
            latent = self.sample_latent(len(labels), seed)
        return latent, labels

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
            "width": self.width,
            "conditioning": self.conditioning,
            "dropout": self.dropout,
            "spectral_norm": self.spectral_norm,
        }
