"""Fully connected networks of the classic GAN tutorials (Goodfellow et al., 2014).

Example:

```python
from keras_gans.networks import dense

generator = dense.fully_connected_generator(latent_dim=64, image_shape=(28, 28, 1))
discriminator = dense.fully_connected_discriminator((28, 28, 1))
```
"""

import math

import keras
from keras import layers

from keras_gans.utils.arguments import check_shape


def check_latent_dim(latent_dim):
    """Returns `latent_dim` as an int, or raises a ValueError naming it."""
    if isinstance(latent_dim, bool) or not float(latent_dim).is_integer() or latent_dim < 1:
        raise ValueError(f"`latent_dim` must be a positive integer. Received: {latent_dim!r}")
    return int(latent_dim)


def check_image_shape(image_shape):
    """Returns `image_shape` as a tuple, or raises a ValueError naming it (1 or 3 channels)."""
    return check_shape("image_shape", image_shape, channels=(1, 3))


def fully_connected_generator(latent_dim, image_shape, widths=(128, 256, 512, 1024)):
    """Dense generator: latent -> Dense stack with BatchNorm/LeakyReLU -> tanh image.

    Args:
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)` of the output images.
        widths: units of the hidden Dense layers; BatchNorm follows every
            hidden layer except the first.
    """
    latent = keras.Input((latent_dim,), name="latent")
    x = latent
    for i, units in enumerate(widths):
        x = layers.Dense(units, name=f"dense_{i}")(x)
        if i > 0:
            x = layers.BatchNormalization(momentum=0.8, name=f"batch_norm_{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(math.prod(image_shape), activation="tanh", name="to_pixels")(x)
    images = layers.Reshape(image_shape, name="images")(x)
    return keras.Model(latent, images, name="generator")


def fully_connected_discriminator(image_shape, widths=(512, 256)):
    """Dense discriminator: image -> Dense stack with LeakyReLU -> one logit."""
    images = keras.Input(image_shape, name="images")
    x = layers.Flatten()(images)
    for i, units in enumerate(widths):
        x = layers.Dense(units, name=f"dense_{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Dense(1, name="logit")(x)
    return keras.Model(images, logits, name="discriminator")
