"""keras-gans models: each a `keras.Model` trained with `compile` and `fit`."""

from keras_gans import hub
from keras_gans.models.base import BaseGAN
from keras_gans.models.conditional_gan import ConditionalGAN
from keras_gans.models.cyclegan import CycleGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.gan import GAN
from keras_gans.models.pix2pix import Pix2Pix
from keras_gans.models.r3gan import R3GAN
from keras_gans.models.stylegan2 import StyleGAN2
from keras_gans.models.stylegan3 import StyleGAN3
from keras_gans.models.wgan_gp import WGANGP

__all__ = ["BaseGAN", "GAN", "DCGAN", "ConditionalGAN", "WGANGP", "Pix2Pix", "CycleGAN"]
__all__ += ["StyleGAN2", "StyleGAN3", "R3GAN"]


def from_pretrained(name_or_path, **kwargs):
    """Loads any keras-gans model from the Hub, a saved folder or a `.keras` file.

    Importing this module registers every keras-gans class with Keras, so the
    class named in the repo's `config.json` is found; see
    `keras_gans.hub.from_pretrained` for the arguments.

    Args:
        name_or_path: `"hf://owner/name"`, `"owner/name"`, a zoo recipe name, a
            folder written by `save_pretrained`, or a `.keras` file.
        **kwargs: `revision`, `token`, `cache_dir`, `force_download`, `compile`.

    Example:

    ```python
    gan = keras_gans.from_pretrained("hf://me/dcgan-mnist")
    ```
    """
    return hub.from_pretrained(name_or_path, **kwargs)


__all__ += ["from_pretrained"]
