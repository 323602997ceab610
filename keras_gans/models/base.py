"""`BaseGAN`: the `keras.Model` every keras-gans model is built on.

It holds a generator and a discriminator, two optimizers behind one
`NetworkOptimizers` (so Keras' trainers, callbacks and saving see one
`model.optimizer` that carries both states), four metrics, and a
`SeedGenerator` for the training noise. The step itself comes from the
backend's trainer in `keras_gans.trainers`.
"""

import warnings

import keras
from keras import ops

from keras_gans.data import checks as data_checks
from keras_gans.data import pipeline as array_pipeline
from keras_gans.models.network_model import NetworkModel
from keras_gans.models.sampling import SamplingMixin
from keras_gans.objective import augment as augmentation
from keras_gans.objective import gan_objective as objective
from keras_gans.objective import losses
from keras_gans.utils.arguments import check_integer

_BACKEND = keras.backend.backend()


def _is_python_iterator(x):
    """A generator or other one-pass iterator (not an array, dataset or loader)."""
    return hasattr(x, "__next__") and not type(x).__module__.startswith(("tensorflow", "torch"))


class BaseGAN(SamplingMixin, NetworkModel):
    """A generator and a discriminator trained adversarially with `fit`.

    Subclasses choose default networks and how labels are fed; this class
    does the rest. Users normally build `GAN`, `DCGAN` or `ConditionalGAN`.

    Args:
        generator: a `keras.Model` mapping latent vectors `(batch,
            latent_dim)` (and labels, for conditional models) to images in
            [-1, 1].
        discriminator: a `keras.Model` mapping images (and labels) to one
            logit per image, shape `(batch, 1)`.
        latent_dim: size of the latent vectors.
        loss: a `keras_gans.losses` name or `GANLoss`; default
            `"non_saturating"`.
        d_steps: discriminator updates per generator update.
        label_smoothing: one-sided label smoothing of the real targets.
        seed: seed of the training noise; None draws it from Keras' global
            seed (`keras.utils.set_random_seed`).
        ema_decay: if set (e.g. 0.999), keep an exponential moving average of
            the generator's weights, updated inside every training step, and
            sample with it (see `enable_ema`).
        gp_weight: weight of the WGAN-GP gradient penalty, taken at random
            interpolations between real and generated images (one uniform
            coefficient per sample); 0 turns it off.
        r1_weight: gamma of the R1 penalty on real images (the loss gets
            `gamma / 2 * E||grad D(x)||^2`); 0 turns it off.
        augment: `"diffaugment"` (colour, translation, cutout), a tuple of
            those transform names, or None: differentiable augmentation of
            everything the discriminator sees during training.
        update: `"alternating"` (default): the discriminator updates, then
            the generator updates against the updated discriminator (the
            last discriminator update and the generator's share one generated
            batch: G runs forward once per step when `d_steps=1`).
            `"simultaneous"`: both networks' gradients come from one forward
            pass of each at the weights before the step, as in the
            TensorFlow DCGAN tutorial; cheaper, needs `d_steps=1`.
            Under either rule a discriminator without BatchNorm or
            spectral-norm state scores the real and the generated batch in
            two calls, as the tutorial does; one with state in one call.
    """

    UPDATES = ("alternating", "simultaneous")

    num_classes = None

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        loss="non_saturating",
        d_steps=1,
        label_smoothing=0.0,
        seed=None,
        ema_decay=None,
        gp_weight=0.0,
        r1_weight=0.0,
        augment=None,
        update="alternating",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_integer("latent_dim", latent_dim)
        check_integer("d_steps", d_steps)
        for argument, network in (
            ("generator", generator),
            ("discriminator", discriminator),
        ):
            if not isinstance(network, keras.Model):
                raise TypeError(
                    f"`{argument}` must be a keras.Model; received {type(network).__name__}."
                )
        self.latent_dim = int(latent_dim)
        self.d_steps = int(d_steps)
        if update not in self.UPDATES:
            raise ValueError(f"`update` must be one of {self.UPDATES}. Received: {update!r}")
        if update == "simultaneous" and self.d_steps != 1:
            raise ValueError(
                f"`update='simultaneous'` takes one gradient of each network per step, so "
                f"`d_steps` must be 1. Received: d_steps={self.d_steps}."
            )
        self.update = update
        self.label_smoothing = float(label_smoothing)
        self.gan_loss = losses.get(loss, label_smoothing=self.label_smoothing)
        for argument, weight in (("gp_weight", gp_weight), ("r1_weight", r1_weight)):
            if float(weight) < 0:
                raise ValueError(f"`{argument}` must be >= 0. Received: {weight!r}")
        self.gp_weight = float(gp_weight)
        self.r1_weight = float(r1_weight)
        self.augment = self._check_augment(augment)
        self.generator = generator
        self.discriminator = discriminator
        self.image_shape = self._check_networks()
        self._make_seed_generator(seed)
        self.ema_decay = None
        self.ema_generator = None
        if ema_decay is not None:
            self.enable_ema(ema_decay)
        # `loss` (d_loss + g_loss) means nothing about quality; it exists so that
        # Keras callbacks watching "loss", such as TerminateOnNaN, see divergence.
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_accuracy_tracker = keras.metrics.Mean(name="real_accuracy")
        self.fake_accuracy_tracker = keras.metrics.Mean(name="fake_accuracy")
        self.built = True

    # Networks -----------------------------------------------------------

    def _generator_input_spec(self, batch):
        return keras.KerasTensor((batch, self.latent_dim))

    def _discriminator_inputs(self, images, labels):
        return images

    def _check_networks(self):
        """Checks the two networks fit together; returns the image shape."""
        try:
            fake = self.generator.compute_output_spec(self._generator_input_spec(2))
        except Exception as error:
            raise ValueError(
                "`generator` must accept "
                f"{self._describe_generator_inputs()}; calling it failed: {error}"
            ) from error
        image_shape = tuple(fake.shape[1:])
        with_activation = [
            layer for layer in getattr(self.generator, "layers", []) if hasattr(layer, "activation")
        ]
        last = with_activation[-1] if with_activation else None
        if getattr(getattr(last, "activation", None), "__name__", "") == "sigmoid":
            warnings.warn(
                "The generator ends in sigmoid (images in [0, 1]), but keras-gans trains on "
                "images in [-1, 1]: end it in tanh, or real and generated images differ "
                "in range and the discriminator wins trivially.",
                stacklevel=3,
            )
        if len(image_shape) != 3 or None in image_shape:
            raise ValueError(
                "`generator` must output images of shape (batch, height, width, "
                f"channels); its output shape is {fake.shape}."
            )
        try:
            logits = self.discriminator.compute_output_spec(
                self._discriminator_inputs(fake, self._label_spec(2))
            )
        except Exception as error:
            raise ValueError(
                f"`discriminator` must accept the generator's images of shape "
                f"{image_shape}; calling it failed: {error}"
            ) from error
        if isinstance(logits, (list, tuple)):  # [logit, class logits] (ACGAN)
            logits = logits[0]
        if tuple(logits.shape[1:]) not in ((1,), ()):
            raise ValueError(
                "`discriminator` must output one logit per image, shape (batch, 1); "
                f"its output shape is {logits.shape}."
            )
        return image_shape

    def _describe_generator_inputs(self):
        return f"latent vectors of shape (batch, {self.latent_dim})"

    def _label_spec(self, batch):
        return None

    def _generate(self, latent, labels, training):
        return self.generator(latent, training=training)

    def call(self, inputs, training=False):
        """Maps latent vectors to images; `predict(latent)` uses this."""
        return self.generator(inputs, training=training)

    # Training step pieces (called by keras_gans.trainers) -------------------

    def _check_step_images(self, images):
        if tuple(images.shape[1:]) != self.image_shape:
            expected = ", ".join(map(str, self.image_shape))
            raise ValueError(
                f"Training images must have shape (batch, {expected}) to match "
                f"image_shape={self.image_shape}; received {tuple(images.shape)}."
            )

    def _unpack_batch(self, data):
        images, labels = data_checks.split_images_and_labels(data)
        self._check_step_images(images)
        if labels is not None:
            raise ValueError(
                "This model is unconditional but the training data carries labels. "
                "Pass the images alone, or use keras_gans.ConditionalGAN."
            )
        return ops.cast(images, self.compute_dtype), None

    @staticmethod
    def _check_augment(augment):
        if augment is None:
            return None
        policy = augmentation.POLICIES if augment == "diffaugment" else augment
        if isinstance(policy, str) or not set(policy) <= set(augmentation.POLICIES):
            raise ValueError(
                f"`augment` must be None, 'diffaugment' or a tuple of "
                f"{augmentation.POLICIES}. Received: {augment!r}"
            )
        return "diffaugment" if tuple(policy) == augmentation.POLICIES else tuple(policy)

    def _fake_batch(self, batch_size, labels, training):
        return objective.generate(self, batch_size, labels, training)

    def _discriminator_loss(self, real_images, labels, training, fake_images=None):
        return objective.discriminator_loss(self, real_images, labels, training, fake_images)

    def _generator_loss(self, batch_size, labels, training, fake_images=None):
        return objective.generator_loss(self, batch_size, labels, training, fake_images)

    def _simultaneous_losses(self, real_images, fake_images, labels, training):
        return objective.simultaneous_losses(self, real_images, fake_images, labels, training)

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.real_accuracy_tracker,
            self.fake_accuracy_tracker,
        ]

    # compile / fit ------------------------------------------------------------

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        *,
        steps_per_execution=1,
        jit_compile="auto",
        run_eagerly=False,
    ):
        """Configures the two optimizers and how steps are compiled.

        Args:
            d_optimizer: optimizer of the discriminator (instance, name or
                config); default Adam(2e-4, beta_1=0.5).
            g_optimizer: optimizer of the generator; same default. Must be a
                different instance from `d_optimizer`.
            steps_per_execution: training steps run per compiled call.
            jit_compile: `"auto"` (XLA on JAX, none on TensorFlow/CPU and
                torch), True or False; as in `keras.Model.compile`.
            run_eagerly: run the step eagerly, for debugging (not on JAX).

        Example:

        ```python
        gan.compile(
            d_optimizer=keras.optimizers.Adam(4e-4, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5),
        )
        ```
        """
        self._compile_networks(
            {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer},
            steps_per_execution,
            jit_compile,
            run_eagerly,
        )

    def _optimizer_groups(self):
        return {"g_optimizer": self.generator, "d_optimizer": self.discriminator}

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """Trains the GAN; the same arguments as `keras.Model.fit`.

        `x` is a NumPy array of images in [-1, 1] with shape `(N,) +
        image_shape`, a `tf.data.Dataset`, a `keras.utils.PyDataset` or a
        torch `DataLoader` yielding such batches. Conditional models take
        `(images, labels)` as `x`, or labels as `y`.
        """
        self._check_fit_arguments(batch_size, kwargs)
        if _is_python_iterator(x):
            x = data_checks.checked_batches(x, self.image_shape, self.num_classes)
        data_checks.check_training_data(
            x,
            y,
            image_shape=self.image_shape,
            num_classes=self.num_classes,
            batch_size=batch_size,
        )
        x = data_checks.checked_every_batch(x, self.image_shape, self.num_classes)
        if _BACKEND == "tensorflow" and array_pipeline.can_stream_arrays(x, y, kwargs):
            x = array_pipeline.array_dataset(
                x, y, batch_size or 32, shuffle=kwargs.pop("shuffle", True)
            )
            y = batch_size = None
            kwargs["shuffle"] = False  # the pipeline shuffles; Keras would warn it cannot
        validation_data = kwargs.get("validation_data")
        if validation_data is not None:
            data_checks.check_training_data(
                validation_data,
                None,
                image_shape=self.image_shape,
                num_classes=self.num_classes,
                batch_size=None,
                argument="validation_data",
            )
        return self._fit_keeping_weights(
            x, y, batch_size, kwargs, explain=data_checks.pipeline_check_error
        )

    # Serialization --------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
            "d_steps": self.d_steps,
            "label_smoothing": self.label_smoothing,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "gp_weight": self.gp_weight,
            "r1_weight": self.r1_weight,
            "augment": self.augment,
            "update": self.update,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator", "loss"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
