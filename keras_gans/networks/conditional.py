"""Class-conditional DCGAN networks: label embedding into G; concat, projection or ACGAN D.

Example:

```python
from keras_gans.networks import conditional

generator = conditional.conditional_generator(100, (28, 28, 1), num_classes=10)
discriminator = conditional.conditional_discriminator((28, 28, 1), 10, conditioning="projection")
```
"""

import keras
from keras import layers

from keras_gans.networks.dcgan import (
    discriminator_features,
    generator_trunk,
    maybe_spectral_norm,
    upsampling_plan,
)


def conditional_generator(latent_dim, image_shape, num_classes, width=64, embedding_dim=50):
    """DCGAN generator fed `[latent, labels]`: latent ++ Embedding(labels)."""
    latent = keras.Input((latent_dim,), name="latent")
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    x = layers.Concatenate()([latent, embedded])
    start_h, doublings = upsampling_plan(image_shape[0])
    start_w, _ = upsampling_plan(image_shape[1])
    images = generator_trunk(x, start_h, start_w, doublings, image_shape[2], width, 5)
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
