"""`TranslationModel`: what Pix2Pix and CycleGAN share.

An image-to-image model holds several networks, one optimizer per group of
them behind one `NetworkOptimizers` (so Keras' trainers,
`BackupAndRestore` and saving see one `model.optimizer` carrying every state),
a `SeedGenerator` for the step's random draws, and `translate`. The step itself
is `_gan_train_step` / `_gan_test_step` of the subclass, run by the backend's
trainer in `keras_gans.trainers` (`_minimize` per optimizer group).
"""

import keras
import numpy as np
from keras import ops

from keras_gans.models.network_model import NetworkModel

_BACKEND = keras.backend.backend()


class NetworkGroup:
    """Several networks trained together by one optimizer (CycleGAN's two generators)."""

    def __init__(self, *networks):
        self.networks = networks

    @property
    def trainable_variables(self):
        return [v for network in self.networks for v in network.trainable_variables]


@keras.saving.register_keras_serializable(package="keras_gans")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """CycleGAN's schedule: constant for `constant_steps`, then linear to 0 over `decay_steps`.

    Args:
        initial_learning_rate: the rate of the constant phase.
        constant_steps: optimizer steps at the full rate (100 epochs in the paper).
        decay_steps: steps of the linear decay to 0 (another 100 epochs).

    Example:

    ```python
    steps = len(images_a) // batch_size
    schedule = LinearDecay(2e-4, constant_steps=100 * steps, decay_steps=100 * steps)
    cyclegan.compile(g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5))
    ```
    """

    def __init__(self, initial_learning_rate, constant_steps, decay_steps):
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = max(int(decay_steps), 1)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        # lr = lr0 * (1 - max(0, step - constant) / decay), floored at 0
        fraction = ops.maximum(step - self.constant_steps, 0.0) / self.decay_steps
        return self.initial_learning_rate * ops.maximum(1.0 - fraction, 0.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
        }


def check_weight(argument, value):
    if float(value) < 0:
        raise ValueError(f"`{argument}` must be >= 0. Received: {value!r}")
    return float(value)


def check_step_images(images, shape, argument):
    """Raises when a training batch does not have the model's image shape."""
    if tuple(images.shape[1:]) != tuple(shape):
        raise ValueError(
            f"`{argument}` images must have shape (batch, {', '.join(map(str, shape))}) to "
            f"match the model; received a batch of shape {tuple(images.shape)}."
        )


def unpack_pair(data):
    """The two image batches of a training element: `((a, b),)`, `(a, b)` or `[a, b]`."""
    if isinstance(data, (tuple, list)) and len(data) == 1:
        data = data[0]
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(
            "Each training element must be a pair of image batches: `fit((sources, targets))` "
            "for Pix2Pix, `fit((images_a, images_b))` for CycleGAN."
        )
    return data[0], data[1]


class TranslationModel(NetworkModel):
    """Base of the image-to-image models: optimizers, fit checks, `translate`, saving.

    Subclasses define `_optimizer_groups()` (name -> trained network group),
    `_translator(direction)`, `_source_shape(direction)`, the metric list and
    the two steps.
    """

    directions = (None,)

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._make_seed_generator(seed)

    # compile / fit ------------------------------------------------------------

    def _compile(self, optimizers, steps_per_execution, jit_compile, run_eagerly):
        self._compile_networks(optimizers, steps_per_execution, jit_compile, run_eagerly,
                               name="translation_optimizer")  # fmt: skip

    def _fit(self, x, y, batch_size, kwargs):
        return self._fit_keeping_weights(x, y, batch_size, kwargs)

    # translate ------------------------------------------------------------------

    def export(self, filepath, format="tf_saved_model", direction=None, **kwargs):
        """Exports the generator of `direction` (source images in, translations out).

        Args:
            filepath: where to write the artifact.
            format: `"onnx"`, `"tf_saved_model"`, `"litert"`, `"torch"` or `"openvino"`
                (see `keras_gans.models.exporting` for which backend writes which).
            direction: CycleGAN's `"a_to_b"` (default) or `"b_to_a"`.
            **kwargs: passed on to `keras.Model.export`.

        Example:

        ```python
        pix2pix.export("translate.onnx", format="onnx")
        ```
        """
        from keras_gans.models.exporting import export_network

        direction = self.directions[0] if direction is None else direction
        if direction not in self.directions:
            raise ValueError(
                f"`direction` must be one of {self.directions}. Received: {direction!r}"
            )
        if _BACKEND == "jax" and getattr(self, "_jax_state", None):
            self.jax_state_sync()
        example = np.zeros((2, *self._source_shape(direction)), "float32")
        return export_network(self._translator(direction), example, filepath, format, **kwargs)

    def translate(self, images, direction=None, batch_size=32):
        """Translates a batch of images with the trained generator (inference mode).

        Args:
            images: array `(N, height, width, channels)` in [-1, 1], shaped like
                the model's sources for `direction`.
            direction: which generator; see the subclass.
            batch_size: images per generator call.

        Returns:
            float32 NumPy array of the translations, in [-1, 1].
        """
        if direction not in self.directions:
            raise ValueError(
                f"`direction` must be one of {self.directions}. Received: {direction!r}"
            )
        images = np.asarray(
            ops.convert_to_numpy(images) if not isinstance(images, np.ndarray) else images
        )
        expected = self._source_shape(direction)
        if images.ndim == 3 and tuple(images.shape) == expected:
            images = images[None]
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"`images` must have shape (N, {', '.join(map(str, expected))}); "
                f"received {images.shape}."
            )
        images = images.astype("float32")
        if _BACKEND == "jax" and getattr(self, "_jax_state", None):
            self.jax_state_sync()
        network = self._translator(direction)
        if not len(images):
            return np.zeros((0, *network.output.shape[1:]), "float32")
        batch_size = min(int(batch_size), len(images))
        batches = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            if _BACKEND == "jax":
                # One jitted forward of a fixed shape (the last batch padded): op-by-op
                # eager JAX would compile every layer separately, for every batch shape.
                padded = np.pad(batch, [(0, batch_size - len(batch))] + [(0, 0)] * 3)
                batches.append(np.asarray(network.predict_on_batch(padded))[: len(batch)])
            else:
                batches.append(ops.convert_to_numpy(network(batch, training=False)))
        return np.concatenate(batches).astype("float32")

    def _update_metrics(self, values):
        for tracker in self.metrics:
            tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.metrics}

    # Serialization --------------------------------------------------------------

    def _base_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "seed": self.seed,
        }

    network_arguments = ()

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.network_arguments:
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
