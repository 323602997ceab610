"""Class-conditional GAN (Mirza & Osindero, 2014) on DCGAN networks.

The generator sees the latent vector concatenated with a learned label
embedding; the discriminator sees the image with one extra channel, a
learned per-class plane, so both networks are told which class is meant.
"""

import keras
import numpy as np
from keras import layers, ops

from keras_gans import data_checks
from keras_gans.models.base import BaseGAN
from keras_gans.models.dcgan import (
    _generator_trunk,
    discriminator_features,
    maybe_spectral_norm,
    upsampling_plan,
)
from keras_gans.models.gan import check_image_shape


def conditional_generator(latent_dim, image_shape, num_classes, width=64, embedding_dim=50):
    """DCGAN generator fed `[latent, labels]`: latent ++ Embedding(labels)."""
    latent = keras.Input((latent_dim,), name="latent")
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    x = layers.Concatenate()([latent, embedded])
    start_h, doublings = upsampling_plan(image_shape[0])
    start_w, _ = upsampling_plan(image_shape[1])
    images = _generator_trunk(x, start_h, start_w, doublings, image_shape[2], width, 5)
    return keras.Model([latent, labels], images, name="generator")


def conditional_discriminator(
    image_shape, num_classes, width=64, dropout=0.3, spectral_norm=False, conditioning="concat"
):
    """DCGAN discriminator fed `[images, labels]`.

    Args:
        image_shape: `(height, width, channels)` of the images.
        num_classes: number of classes.
        width: filters of the first convolution.
        dropout: dropout rate after each convolution.
        spectral_norm: spectral normalization of every layer with weights.
        conditioning: `"concat"` adds a learned per-class plane as an extra
            input channel; `"projection"` (Miyato & Koyama, 2018) adds the
            inner product of a class embedding with the image features to an
            unconditional logit; `"acgan"` (Odena et al., 2017) ignores the
            label and predicts it instead: outputs `[logit, class_logits]`.
    """
    images = keras.Input(image_shape, name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    height, image_width, _ = image_shape
    if conditioning == "concat":
        plane = layers.Embedding(num_classes, height * image_width, name="label_plane")(labels)
        plane = layers.Reshape((height, image_width, 1))(plane)
        x = layers.Concatenate()([images, plane])
        features = discriminator_features(x, image_shape, width, 5, dropout, spectral_norm)
        logits = maybe_spectral_norm(layers.Dense(1, name="logit"), spectral_norm)(features)
    elif conditioning == "projection":
        features = discriminator_features(images, image_shape, width, 5, dropout, spectral_norm)
        logit = maybe_spectral_norm(layers.Dense(1, name="logit"), spectral_norm)(features)
        embedded = layers.Embedding(num_classes, features.shape[-1], name="class_projection")(
            labels
        )
        projection = layers.Dot(axes=1)([embedded, features])
        logits = layers.Add()([logit, projection])
    elif conditioning == "acgan":
        features = discriminator_features(images, image_shape, width, 5, dropout, spectral_norm)
        logit = maybe_spectral_norm(layers.Dense(1, name="logit"), spectral_norm)(features)
        class_logits = layers.Dense(num_classes, name="class_logits")(features)
        return keras.Model(images, [logit, class_logits], name="discriminator")
    else:
        raise ValueError(
            f"`conditioning` must be 'concat', 'projection' or 'acgan'. Received: {conditioning!r}"
        )
    return keras.Model([images, labels], logits, name="discriminator")


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
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an integer >= 2. Received: {num_classes!r}")
        shape = check_image_shape(image_shape or (28, 28, 1))
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
