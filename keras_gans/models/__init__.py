"""keras-gans models: each a `keras.Model` trained with `compile` and `fit`."""

from keras_gans.models.base import BaseGAN
from keras_gans.models.conditional_gan import ConditionalGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.gan import GAN
from keras_gans.models.wgan_gp import WGANGP

__all__ = ["BaseGAN", "GAN", "DCGAN", "ConditionalGAN", "WGANGP"]
