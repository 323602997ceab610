"""`NetworkModel`: what every keras-gans model shares, generators and translators alike.

One optimizer per network (or group of networks) behind one `NetworkOptimizers`, so
Keras' trainers, callbacks and saving see one `model.optimizer` holding every state;
`compile` with the jit policy, loss scaling and the distribution checks; the compile
config round trip; `fit`'s argument checks and, on JAX, the weights handed back after a
failed `fit`; the Hub methods and the saved noise states. `BaseGAN` (generators) and
`TranslationModel` (Pix2Pix, CycleGAN) add only what differs.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_gans.models.optimizers import NetworkOptimizers, with_loss_scaling
from keras_gans.models.seed_state import SeedStateMixin
from keras_gans.models.sharing import HubMixin
from keras_gans.trainers import GANTrainer

_BACKEND = keras.backend.backend()


class NetworkModel(GANTrainer, HubMixin, SeedStateMixin, keras.Model):
    """A `keras.Model` that trains several networks, each with its own optimizer.

    Subclasses define `_optimizer_groups()`: `{compile argument: network or group}`
    (e.g. `{"d_optimizer": discriminator, "g_optimizer": generator}`), and call
    `_compile_networks` from their `compile`.
    """

    def _make_seed_generator(self, seed):
        """The model's `SeedGenerator` of training noise (saved, carried through jit)."""
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")

    def default_optimizer(self):
        """The optimizer each network gets when `compile` is given none.

        Adam(2e-4, beta_1=0.5), the DCGAN, Pix2Pix and CycleGAN papers' setting;
        subclasses override it.
        """
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    def _optimizer_groups(self) -> dict:
        raise NotImplementedError

    def _compile_networks(self, optimizers, steps_per_execution=1, jit_compile="auto",
                          run_eagerly=False, name="gan_optimizer"):  # fmt: skip
        """Compiles with `{argument: optimizer or None}`, one optimizer per network group."""
        groups = self._optimizer_groups()
        resolved, given = {}, {}
        for argument, optimizer in optimizers.items():
            optimizer = keras.optimizers.get(optimizer or self.default_optimizer())
            other = next((name for name, o in given.items() if o is optimizer), None)
            if other is not None:
                raise ValueError(
                    f"`{other}` and `{argument}` must be two optimizer instances, not the same "
                    "instance: each network keeps its own slots in its own optimizer."
                )
            given[argument] = optimizer
        self._check_distribution()
        if run_eagerly and _BACKEND == "jax":
            raise ValueError(
                "`run_eagerly=True` is not supported on the JAX backend: the step is a pure "
                "function and always runs jit-compiled."
            )
        for argument, optimizer in given.items():
            resolved[argument] = with_loss_scaling(optimizer, self.dtype_policy)
            setattr(self, argument, resolved[argument])
        multi = NetworkOptimizers(
            [(groups[argument], resolved[argument]) for argument in groups], name=name
        )
        keras.Model.compile(
            self,
            optimizer=multi,
            steps_per_execution=steps_per_execution,
            jit_compile=self._default_jit_compile() if jit_compile == "auto" else jit_compile,
            run_eagerly=run_eagerly,
            auto_scale_loss=False,  # each network's optimizer scales its own loss
        )
        self.optimizer.build(self.trainable_variables)
        self._compile_config = keras.src.saving.serialization_lib.SerializableDict(
            **resolved,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            run_eagerly=run_eagerly,
        )

    @staticmethod
    def _check_distribution():
        """Refuses a `keras.distribution` the backend's trainer would silently ignore."""
        try:
            distribution = keras.distribution.distribution()
        except AttributeError:  # torch: keras.distribution has no backend support
            distribution = None
        if distribution is None or _BACKEND == "jax":
            return
        if _BACKEND == "tensorflow":
            raise ValueError(
                "keras.distribution is set, but the TensorFlow trainer does not shard "
                "through it. For data-parallel training on TensorFlow build and compile "
                "the model inside `tf.distribute.MirroredStrategy().scope()` instead."
            )
        raise ValueError(
            "keras.distribution is set, but keras-gans trains on a single device on "
            "the torch backend. Use KERAS_BACKEND=jax with keras.distribution."
            "DataParallel, or TensorFlow with tf.distribute.MirroredStrategy."
        )

    @staticmethod
    def _default_jit_compile():
        # Measured in benchmarks/throughput.py: XLA is what makes the JAX step
        # fast; TensorFlow's CPU step is faster without it, and torch runs eagerly.
        return _BACKEND == "jax"

    def get_compile_config(self):
        if self.compiled and hasattr(self, "_compile_config"):
            return self._compile_config.serialize()
        return {}

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))

    def _check_fit_arguments(self, batch_size, kwargs):
        """`fit` after `compile`, a positive batch size, no sample or class weights."""
        self._assert_compile_called("fit")
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
        if kwargs.get("sample_weight") is not None or kwargs.get("class_weight") is not None:
            raise ValueError(
                f"{type(self).__name__} takes no `sample_weight` or `class_weight`: each step "
                "weighs every image alike. Resample the data to change its balance."
            )

    def _fit_keeping_weights(self, x, y, batch_size, kwargs, explain=None):
        """`keras.Model.fit`; after any failure the weights are back in the variables.

        Keras' JAX trainer moves the weights into `_jax_state` during `fit`: a failure
        must hand them back, or the trained model would be lost. `explain(error)` may
        return a clearer exception to raise instead.
        """
        try:
            return keras.Model.fit(self, x, y, batch_size=batch_size, **kwargs)
        except BaseException as error:
            if _BACKEND == "jax" and getattr(self, "_jax_state", None):
                self.jax_state_sync()
                self._jax_state = None
            clearer = explain(error) if explain is not None else None
            if clearer is not None:
                raise clearer from error
            raise
