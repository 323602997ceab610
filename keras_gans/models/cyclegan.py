"""CycleGAN (Zhu et al., 2017): unpaired translation between two image domains."""

import keras
from keras import ops

from keras_gans.data.pairs import UnpairedBatches
from keras_gans.models.translation import (
    NetworkGroup,
    TranslationModel,
    check_step_images,
    check_weight,
    unpack_pair,
)
from keras_gans.networks.translation import patch_discriminator, resnet_generator
from keras_gans.objective import translation as objective
from keras_gans.utils.arguments import check_integer, check_shape


@keras.saving.register_keras_serializable(package="keras_gans")
class CycleGAN(TranslationModel):
    """Two ResNet generators (A->B, B->A) and two PatchGAN discriminators, LSGAN losses.

    One optimizer updates both generators on the adversarial, cycle-consistency
    and identity losses; each discriminator has its own optimizer and sees a
    pool of the last `pool_size` generated images of its domain (state inside
    the model: saved, and updated inside the jitted step).

    Args:
        shape_a: `(height, width, channels)` of domain A; sides divisible by 4
            (and by `2**num_discriminator_layers`).
        shape_b: shape of domain B; default `shape_a`. Same height and width.
        width: filters of the first layers (64 in the paper).
        num_blocks: residual blocks per generator; default 9 for sides >= 256,
            else 6, as in the paper.
        cycle_weight: lambda of the cycle-consistency L1 (10 in the paper).
        identity_weight: weight of the identity L1 relative to `cycle_weight`
            (0.5 in the paper); must be 0 when the domains' channels differ.
        pool_size: generated images kept per domain for the discriminators (50).
        num_discriminator_layers: stride-2 layers of each PatchGAN (3).
        generator_ab, generator_ba, discriminator_a, discriminator_b: optional
            networks replacing the defaults.
        seed: seed of the image pool's random draws.

    Example:

    ```python
    model = keras_gans.CycleGAN(shape_a=(256, 256, 3))
    model.compile()
    model.fit((horses, zebras), batch_size=1, epochs=200)  # arrays of any two lengths
    zebras_from_horses = model.translate(horses[:4], direction="a_to_b")
    ```
    """

    directions = ("a_to_b", "b_to_a")
    network_arguments = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")

    def __init__(
        self,
        shape_a,
        shape_b=None,
        width=64,
        num_blocks=None,
        cycle_weight=10.0,
        identity_weight=0.5,
        pool_size=50,
        num_discriminator_layers=3,
        generator_ab=None,
        generator_ba=None,
        discriminator_a=None,
        discriminator_b=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.shape_a = check_shape("shape_a", shape_a)
        self.shape_b = check_shape("shape_b", shape_b or shape_a)
        if self.shape_a[:2] != self.shape_b[:2]:
            raise ValueError(
                f"`shape_a` {self.shape_a} and `shape_b` {self.shape_b} must share height and "
                "width; resize one domain."
            )
        self.width = check_integer("width", width)
        self.num_blocks = int(num_blocks or (9 if min(self.shape_a[:2]) >= 256 else 6))
        self.cycle_weight = check_weight("cycle_weight", cycle_weight)
        self.identity_weight = check_weight("identity_weight", identity_weight)
        if self.identity_weight and self.shape_a[-1] != self.shape_b[-1]:
            raise ValueError(
                f"The identity loss feeds domain B ({self.shape_b[-1]} channels) to the A->B "
                f"generator, which takes {self.shape_a[-1]}; pass identity_weight=0."
            )
        if isinstance(pool_size, bool) or int(pool_size) < 0:
            raise ValueError(f"`pool_size` must be an integer >= 0. Received: {pool_size!r}")
        self.pool_size = int(pool_size)
        self.num_discriminator_layers = int(num_discriminator_layers)

        def generator(source, target, name):
            return resnet_generator(
                source, target[-1], width=self.width, num_blocks=self.num_blocks, name=name
            )

        def discriminator(shape, name):
            return patch_discriminator(
                shape, width=self.width, num_layers=self.num_discriminator_layers, name=name
            )

        self.generator_ab = generator_ab or generator(self.shape_a, self.shape_b, "generator_ab")
        self.generator_ba = generator_ba or generator(self.shape_b, self.shape_a, "generator_ba")
        self.discriminator_a = discriminator_a or discriminator(self.shape_a, "discriminator_a")
        self.discriminator_b = discriminator_b or discriminator(self.shape_b, "discriminator_b")
        self._check_networks()
        self._generators = NetworkGroup(self.generator_ab, self.generator_ba)
        self.pool_a = self._pool("pool_a", self.shape_a)
        self.pool_b = self._pool("pool_b", self.shape_b)
        self.pool_a_count = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False, name="pool_a_count"
        )
        self.pool_b_count = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False, name="pool_b_count"
        )
        names = ("loss", "g_loss", "d_a_loss", "d_b_loss", "g_adversarial", "cycle", "identity")
        self._trackers = [keras.metrics.Mean(name=name) for name in names]
        self.built = True

    def _pool(self, name, shape):
        return self.add_weight(
            shape=(self.pool_size, *shape), initializer="zeros", trainable=False, name=name
        )

    def _check_networks(self):
        for argument, network, source, target in (
            ("generator_ab", self.generator_ab, self.shape_a, self.shape_b),
            ("generator_ba", self.generator_ba, self.shape_b, self.shape_a),
        ):
            output = network.compute_output_spec(keras.KerasTensor((2, *source)))
            if tuple(output.shape[1:]) != target:
                raise ValueError(
                    f"`{argument}` maps {source} to {tuple(output.shape[1:])}; expected {target}."
                )

    @property
    def metrics(self):
        return list(self._trackers)

    def call(self, inputs, training=False):
        """Translates A to B; `predict(images_a)` uses this."""
        return self.generator_ab(inputs, training=training)

    def _translator(self, direction):
        return self.generator_ab if direction == "a_to_b" else self.generator_ba

    def _source_shape(self, direction):
        return self.shape_a if direction == "a_to_b" else self.shape_b

    def translate(self, images, direction="a_to_b", batch_size=32):
        """Translates images of one domain into the other.

        Args:
            images: `(N,) + shape_a` for `"a_to_b"`, `(N,) + shape_b` for `"b_to_a"`.
            direction: `"a_to_b"` or `"b_to_a"`.
            batch_size: images per generator call.
        """
        return super().translate(images, direction=direction, batch_size=batch_size)

    def _optimizer_groups(self):
        return {
            "g_optimizer": self._generators,
            "d_a_optimizer": self.discriminator_a,
            "d_b_optimizer": self.discriminator_b,
        }

    def compile(
        self,
        g_optimizer=None,
        d_a_optimizer=None,
        d_b_optimizer=None,
        *,
        steps_per_execution=1,
        jit_compile="auto",
        run_eagerly=False,
    ):
        """Configures the generators' optimizer and one optimizer per discriminator.

        Default: Adam(2e-4, beta_1=0.5) each. For the paper's linear decay pass
        e.g. `keras.optimizers.Adam(LinearDecay(2e-4, ...), beta_1=0.5)` (see
        `keras_gans.models.translation.LinearDecay`).
        """
        self._compile(
            {
                "g_optimizer": g_optimizer,
                "d_a_optimizer": d_a_optimizer,
                "d_b_optimizer": d_b_optimizer,
            },
            steps_per_execution,
            jit_compile,
            run_eagerly,
        )

    def fit(self, x=None, y=None, batch_size=None, shuffle=True, **kwargs):
        """Trains on two unpaired domains: `fit((images_a, images_b))` or `fit(images_a, images_b)`.

        The arrays (or indexable image readers such as
        `keras_gans.data.pairs.ImageFiles`) may differ in length: an epoch
        covers the longer domain while the shorter one is reshuffled and
        cycled. `batch_size` defaults to 1, the paper's. A `PyDataset` or
        `tf.data.Dataset` yielding `(batch_a, batch_b)` works too.
        """
        self._check_fit_arguments(batch_size, kwargs)
        if y is not None:
            x, y = (x, y), None
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError("`x` must be a pair (images_a, images_b).")
            x = UnpairedBatches(
                x[0],
                x[1],
                batch_size=batch_size or 1,
                shapes=(self.shape_a, self.shape_b),
                shuffle=shuffle,
                seed=self.seed,
            )
            # The order of each epoch comes from (seed, epoch): resumes are exact.
            kwargs["callbacks"] = [x.epoch_setter(), *(kwargs.get("callbacks") or [])]
            batch_size, shuffle = None, False  # Keras must not reorder the batches too
        return self._fit(x, y, batch_size, {**kwargs, "shuffle": shuffle})

    def _unpack(self, data):
        images_a, images_b = unpack_pair(data)
        check_step_images(images_a, self.shape_a, "images_a")
        check_step_images(images_b, self.shape_b, "images_b")
        return ops.cast(images_a, self.compute_dtype), ops.cast(images_b, self.compute_dtype)

    def _gan_train_step(self, data):
        images_a, images_b = self._unpack(data)
        g_loss, (fake_a, fake_b, adversarial, cycle, identity) = self._minimize(
            self._generators,
            self.g_optimizer,
            lambda: objective.cyclegan_generator_loss(self, images_a, images_b, training=True),
        )
        # The discriminators see the generators' fakes through the pools (before G's update).
        pooled_a = objective.query_pool(self.pool_a, self.pool_a_count, fake_a, self.seed_generator)
        pooled_b = objective.query_pool(self.pool_b, self.pool_b_count, fake_b, self.seed_generator)
        d_a_loss, _ = self._minimize(
            self.discriminator_a,
            self.d_a_optimizer,
            lambda: objective.cyclegan_discriminator_loss(
                self.discriminator_a, images_a, pooled_a, training=True
            ),
        )
        d_b_loss, _ = self._minimize(
            self.discriminator_b,
            self.d_b_optimizer,
            lambda: objective.cyclegan_discriminator_loss(
                self.discriminator_b, images_b, pooled_b, training=True
            ),
        )
        self.optimizer.iterations.assign_add(1)
        return self._log(g_loss, d_a_loss, d_b_loss, adversarial, cycle, identity)

    def _gan_test_step(self, data):
        images_a, images_b = self._unpack(data)
        g_loss, (fake_a, fake_b, adversarial, cycle, identity) = objective.cyclegan_generator_loss(
            self, images_a, images_b, training=False
        )
        d_a_loss, _ = objective.cyclegan_discriminator_loss(
            self.discriminator_a, images_a, fake_a, training=False
        )
        d_b_loss, _ = objective.cyclegan_discriminator_loss(
            self.discriminator_b, images_b, fake_b, training=False
        )
        return self._log(g_loss, d_a_loss, d_b_loss, adversarial, cycle, identity)

    def _log(self, g_loss, d_a_loss, d_b_loss, adversarial, cycle, identity):
        return self._update_metrics(
            {
                "loss": g_loss + d_a_loss + d_b_loss,
                "g_loss": g_loss,
                "d_a_loss": d_a_loss,
                "d_b_loss": d_b_loss,
                "g_adversarial": adversarial,
                "cycle": cycle,
                "identity": identity,
            }
        )

    def get_config(self):
        return {
            **self._base_config(),
            "shape_a": self.shape_a,
            "shape_b": self.shape_b,
            "width": self.width,
            "num_blocks": self.num_blocks,
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
            "num_discriminator_layers": self.num_discriminator_layers,
            **{
                name: keras.saving.serialize_keras_object(getattr(self, name))
                for name in self.network_arguments
            },
        }
