"""keras-gans: generative adversarial networks for Keras 3 on JAX, TensorFlow and PyTorch.

Public names load on first use, so `import keras_gans` (and the `keras-gans`
command's `--help` and `list`) import no Keras backend until a model, a loss or a
callback is asked for.

Example:

```python
import keras_gans
gan = keras_gans.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
gan.compile()
gan.fit(images, epochs=20)          # images in [-1, 1], shape (N, 28, 28, 1)
samples = gan.generate(16, seed=0)
```

Layers (each imports only from the ones before it; see README "Layout"):
`utils`, `recipes` -> `data`, `images`, `metrics` -> `networks` ->
`objective` -> `trainers` -> `hub` -> `models` -> `callbacks` -> `runner` -> `cli`.
"""

import importlib
import importlib.abc
import importlib.util
import sys

from keras_gans.utils.version import VERSION as __version__

# Public name -> the module that defines it (a module path alone: the module itself).
_PUBLIC = {
    "BaseGAN": "keras_gans.models.base",
    "GAN": "keras_gans.models.gan",
    "DCGAN": "keras_gans.models.dcgan",
    "ConditionalGAN": "keras_gans.models.conditional_gan",
    "WGANGP": "keras_gans.models.wgan_gp",
    "StyleGAN2": "keras_gans.models.stylegan2",
    "StyleGAN3": "keras_gans.models.stylegan3",
    "R3GAN": "keras_gans.models.r3gan",
    "Pix2Pix": "keras_gans.models.pix2pix",
    "CycleGAN": "keras_gans.models.cyclegan",
    "from_pretrained": "keras_gans.models",
    "from_nvlabs": "keras_gans.models",
    "interpolate": "keras_gans.models.explore",
    "push_to_hub": "keras_gans.hub",
    "callbacks": "keras_gans.callbacks",
    "losses": "keras_gans.objective.losses",
    "penalties": "keras_gans.objective.penalties",
    "metrics": "keras_gans.metrics",
    "networks": "keras_gans.networks",
    "recipes": "keras_gans.recipes",
    "runner": "keras_gans.runner",
    "hub": "keras_gans.hub",
    "data": "keras_gans.data",
    "images": "keras_gans.images",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'keras_gans' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    value = module if module.__name__.endswith(name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Lets Keras find keras-gans' classes however the imports were ordered.

    `import keras_gans` alone imports no Keras (the CLI's `--help` stays fast). When Keras
    is imported afterwards, its registry lookup learns to import `keras_gans.models` the
    first time it is asked for a `keras_gans>` name, so `keras.saving.load_model` (and
    `"hf://..."`) finds the classes. Importing them then, not while Keras itself loads,
    can never close an import cycle with a keras-gans module that is still loading.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)  # once; the real finders locate Keras
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            _look_up_lazily()

        spec.loader.exec_module = exec_module
        return spec


def _look_up_lazily():
    from keras.src.saving import object_registration as registry

    original = registry.get_registered_object

    def get_registered_object(name, custom_objects=None, module_objects=None):
        if isinstance(name, str) and name.startswith("keras_gans>"):
            importlib.import_module("keras_gans.models")  # registers every class it holds
        return original(name, custom_objects, module_objects)

    registry.get_registered_object = get_registered_object


if "keras" in sys.modules:  # its backend is loaded anyway: register the classes now
    importlib.import_module("keras_gans.models")
elif not any(isinstance(f, _RegisterWhenKerasLoads) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWhenKerasLoads())
