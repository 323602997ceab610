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


def from_nvlabs(path_or_url, cache_dir=None, **overrides):
    """NVIDIA's StyleGAN2-ADA or StyleGAN3 network pickle as the right keras-gans model.

    A name says its family (`nvlabs:ffhq` is StyleGAN2, `nvlabs:stylegan3-t-ffhq-1024`
    StyleGAN3); a `.pkl` path or URL is read as StyleGAN2 and, when it holds StyleGAN3's
    alias-free generator, as StyleGAN3. Nothing in the pickle runs.

    Args:
        path_or_url: a `.pkl` path, an `https://` URL or an `nvlabs:` name.
        cache_dir: download folder (default `~/.cache/keras_gans/downloads`).
        **overrides: training options, as `StyleGAN2.from_nvlabs` takes them.

    Example:

    ```python
    gan = keras_gans.from_nvlabs("nvlabs:stylegan3-r-afhqv2-512")      # a StyleGAN3
    ```
    """
    from keras_gans.convert import presets
    from keras_gans.convert.pickle_reader import NetworkPickleError

    source = str(path_or_url)
    if presets.is_preset_name(source):
        family = presets.lookup(source).get("family", "stylegan2")
        cls = StyleGAN3 if family == "stylegan3" else StyleGAN2
        return cls.from_nvlabs(source, cache_dir=cache_dir, **overrides)
    try:
        return StyleGAN2.from_nvlabs(source, cache_dir=cache_dir, **overrides)
    except NetworkPickleError as error:
        if "StyleGAN3" not in str(error):
            raise
    return StyleGAN3.from_nvlabs(source, cache_dir=cache_dir, **overrides)


__all__ += ["from_nvlabs"]
