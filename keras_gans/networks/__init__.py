"""Network builders, one module per family; each returns plain `keras.Model`s.

- `dense`: the fully connected generator and discriminator of `GAN`.
- `dcgan`: DCGAN's transposed-conv generator and strided-conv discriminator.
- `conditional`: the class-conditional variants (concat, projection, ACGAN).
- `Conv2D`, `Conv2DTranspose`: drop-in subclasses of Keras' layers (same arguments,
  weights and results) that take faster routes on JAX's CPU backend; use them in your
  own networks.

Pass them (or your own networks) to the models:
`keras_gans.GAN(generator=..., discriminator=..., latent_dim=...)`.
"""

from keras_gans.networks.conditional import conditional_discriminator, conditional_generator
from keras_gans.networks.convolution import Conv2D
from keras_gans.networks.dcgan import dcgan_discriminator, dcgan_generator
from keras_gans.networks.dense import fully_connected_discriminator, fully_connected_generator
from keras_gans.networks.transposed import Conv2DTranspose

__all__ = [
    "Conv2D",
    "Conv2DTranspose",
    "conditional_discriminator",
    "conditional_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "fully_connected_discriminator",
    "fully_connected_generator",
]
