"""Pix2Pix (Isola et al., 2017): paired image-to-image translation with a conditional GAN."""

import keras
import numpy as np
from keras import ops

from keras_gans.models.translation import (
    TranslationModel,
    check_step_images,
    check_weight,
    unpack_pair,
)
from keras_gans.networks.translation import patch_discriminator, unet_generator
from keras_gans.objective import translation as objective
from keras_gans.utils.arguments import check_integer, check_shape


@keras.saving.register_keras_serializable(package="keras_gans")
class Pix2Pix(TranslationModel):
    """U-Net generator and PatchGAN discriminator trained on (source, target) pairs.

    The generator's loss is the adversarial term plus `l1_weight` times the L1
    distance to the target; the discriminator judges (source, image) pairs.

    Args:
        source_shape: `(height, width, channels)` of the inputs, e.g. 32x32 to
            256x256 or non-square 128x256: the U-Net halves both sides while they
            stay even (up to 8 times) and the PatchGAN needs them divisible by
            `2**num_discriminator_layers`.
        target_shape: shape of the outputs; same height and width, any channels.
        width: filters of the first generator and discriminator layers (64 in
            the paper; 8-16 for quick experiments).
        l1_weight: lambda of the L1 term (100 in the paper).
        dropout: dropout rate of the generator's three innermost decoder stages.
        num_discriminator_layers: stride-2 layers of the PatchGAN (3: 70x70 patches).
        generator, discriminator: optional networks replacing the defaults; the
            discriminator takes `[sources, images]`.
        seed: seed of the training dropout noise.

    Example:

    ```python
    model = keras_gans.Pix2Pix(source_shape=(256, 256, 3), target_shape=(256, 256, 3))
    model.compile()
    model.fit((sources, targets), batch_size=1, epochs=200)
    images = model.translate(sources[:4])     # float32 in [-1, 1]
    ```
    """

    network_arguments = ("generator", "discriminator")

    def __init__(
        self,
        source_shape,
        target_shape=None,
        width=64,
        l1_weight=100.0,
        dropout=0.5,
        num_discriminator_layers=3,
        generator=None,
        discriminator=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.source_shape = check_shape("source_shape", source_shape)
        self.target_shape = check_shape("target_shape", target_shape or source_shape)
        if self.source_shape[:2] != self.target_shape[:2]:
            raise ValueError(
                f"`source_shape` {self.source_shape} and `target_shape` {self.target_shape} "
                "must share height and width."
            )
        self.width = check_integer("width", width)
        self.l1_weight = check_weight("l1_weight", l1_weight)
        self.dropout = float(dropout)
        self.num_discriminator_layers = int(num_discriminator_layers)
        self.generator = generator or unet_generator(
            self.source_shape, self.target_shape[-1], width=self.width, dropout=self.dropout
        )
        self.discriminator = discriminator or patch_discriminator(
            self.target_shape,
            source_shape=self.source_shape,
            width=self.width,
            num_layers=self.num_discriminator_layers,
        )
        self._check_networks()
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.adversarial_tracker = keras.metrics.Mean(name="g_adversarial")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.built = True

    def _check_networks(self):
        output = self.generator.compute_output_spec(keras.KerasTensor((2, *self.source_shape)))
        if tuple(output.shape[1:]) != self.target_shape:
            raise ValueError(
                f"`generator` maps {self.source_shape} to {tuple(output.shape[1:])}; "
                f"the model's target_shape is {self.target_shape}."
            )
        self.discriminator.compute_output_spec(
            [keras.KerasTensor((2, *self.source_shape)), keras.KerasTensor((2, *self.target_shape))]
        )

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.adversarial_tracker,
            self.l1_tracker,
        ]

    def call(self, inputs, training=False):
        """Translates sources; `predict(sources)` uses this."""
        return self.generator(inputs, training=training)

    def _translator(self, direction):
        return self.generator

    def _source_shape(self, direction):
        return self.source_shape

    def _optimizer_groups(self):
        return {"d_optimizer": self.discriminator, "g_optimizer": self.generator}

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        *,
        steps_per_execution=1,
        jit_compile="auto",
        run_eagerly=False,
    ):
        """Configures the discriminator's and generator's optimizers.

        Args:
            d_optimizer: the discriminator's; default Adam(2e-4, beta_1=0.5).
            g_optimizer: the generator's; same default.
            steps_per_execution, jit_compile, run_eagerly: as in
                `keras.Model.compile` (`"auto"`: XLA on JAX only).
        """
        self._compile(
            {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer},
            steps_per_execution,
            jit_compile,
            run_eagerly,
        )

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """Trains on pairs: `fit((sources, targets))` or `fit(sources, targets)`.

        Arrays must hold as many sources as targets, shaped like the model's
        `source_shape` and `target_shape`, in [-1, 1]. A dataset, `PyDataset`
        or `keras_gans.data.pairs.paired_folders` yielding `(sources, targets)`
        batches works too; other arguments as in `keras.Model.fit`.
        """
        self._check_fit_arguments(batch_size, kwargs)
        if y is not None:
            x, y = (x, y), None
        if isinstance(x, (tuple, list)):
            x = self._check_pairs(x, "x")
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)):
            kwargs["validation_data"] = (self._check_pairs(validation, "validation_data"),)
        return self._fit(x, y, batch_size, kwargs)

    def _check_pairs(self, pair, argument):
        if len(pair) != 2:
            raise ValueError(f"`{argument}` must be a pair (sources, targets).")
        checked = []
        for name, images, shape in (
            ("sources", pair[0], self.source_shape),
            ("targets", pair[1], self.target_shape),
        ):
            images = np.asarray(images)
            if images.ndim != 4 or tuple(images.shape[1:]) != shape:
                raise ValueError(
                    f"`{argument}` {name} must have shape (N, {', '.join(map(str, shape))}); "
                    f"received {images.shape}."
                )
            if len(images) == 0:
                raise ValueError(f"`{argument}` {name} are empty.")
            checked.append(images.astype("float32", copy=False))
        if len(checked[0]) != len(checked[1]):
            raise ValueError(
                f"`{argument}` pairs: {len(checked[0])} sources but {len(checked[1])} targets; "
                "Pix2Pix needs one target per source (use CycleGAN for unpaired data)."
            )
        return tuple(checked)

    def _unpack(self, data):
        sources, targets = unpack_pair(data)
        check_step_images(sources, self.source_shape, "sources")
        check_step_images(targets, self.target_shape, "targets")
        return ops.cast(sources, self.compute_dtype), ops.cast(targets, self.compute_dtype)

    def _gan_train_step(self, data):
        sources, targets = self._unpack(data)
        d_loss, _ = self._minimize(
            self.discriminator,
            self.d_optimizer,
            lambda: objective.pix2pix_discriminator_loss(self, sources, targets, training=True),
        )
        g_loss, (adversarial, l1) = self._minimize(
            self.generator,
            self.g_optimizer,
            lambda: objective.pix2pix_generator_loss(self, sources, targets, training=True),
        )
        self.optimizer.iterations.assign_add(1)
        return self._log(d_loss, g_loss, adversarial, l1)

    def _gan_test_step(self, data):
        sources, targets = self._unpack(data)
        d_loss, _ = objective.pix2pix_discriminator_loss(self, sources, targets, training=False)
        g_loss, (adversarial, l1) = objective.pix2pix_generator_loss(
            self, sources, targets, training=False
        )
        return self._log(d_loss, g_loss, adversarial, l1)

    def _log(self, d_loss, g_loss, adversarial, l1):
        return self._update_metrics(
            {
                "loss": d_loss + g_loss,
                "d_loss": d_loss,
                "g_loss": g_loss,
                "g_adversarial": adversarial,
                "l1": l1,
            }
        )

    def get_config(self):
        return {
            **self._base_config(),
            "source_shape": self.source_shape,
            "target_shape": self.target_shape,
            "width": self.width,
            "l1_weight": self.l1_weight,
            "dropout": self.dropout,
            "num_discriminator_layers": self.num_discriminator_layers,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
        }
