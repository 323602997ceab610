"""Picks the GAN trainer for the Keras backend in use, once, at import."""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "jax":
    from keras_gans.trainers.jax import JAXGANTrainer as GANTrainer
elif _BACKEND == "tensorflow":
    from keras_gans.trainers.tensorflow import TensorFlowGANTrainer as GANTrainer
elif _BACKEND == "torch":
    from keras_gans.trainers.torch import TorchGANTrainer as GANTrainer
else:
    raise ImportError(
        f"keras_gans supports the 'jax', 'tensorflow' and 'torch' Keras backends. "
        f"KERAS_BACKEND is {_BACKEND!r}."
    )

__all__ = ["GANTrainer"]
