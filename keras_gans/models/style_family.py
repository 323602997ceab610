"""What StyleGAN2 and R3GAN share: class labels (optional), ADA (optional), clipped sampling.

`StyleFamilyGAN` also makes the non-trainable state variables (`w_avg`, penalty
counters) and the masks of lazy regularisation.
"""

import keras
import numpy as np
from keras import ops

from keras_gans.models.base import BaseGAN
from keras_gans.models.conditional_gan import ConditionalGAN
from keras_gans.models.sampling import forward
from keras_gans.objective.ada import AdaptiveAugment
from keras_gans.utils.arguments import check_integer

_BACKEND = keras.backend.backend()


class StyleFamilyGAN(BaseGAN):
    """Shared by `StyleGAN2` and `R3GAN`: labels, ADA, clipped `generate`, state variables."""

    def __init__(self, generator, discriminator, latent_dim, num_classes=None, ada_target=None,
                 ada_kimg=500.0, **kwargs):  # fmt: skip
        check_integer("num_classes", num_classes, minimum=2, allow_none=True)
        if kwargs.get("update", "alternating") != "alternating":
            raise ValueError(
                f"{type(self).__name__} trains with its own alternating step (lazy "
                f"regularisation, ADA); `update` must be 'alternating'. Received: "
                f"{kwargs['update']!r}. update='simultaneous' is for GAN, DCGAN, "
                "ConditionalGAN and WGANGP."
            )
        self._num_classes = None if num_classes is None else int(num_classes)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.ada_target = None if ada_target is None else float(ada_target)
        self.ada_kimg = float(ada_kimg)
        self.ada = None
        if self.ada_target is not None:
            self.ada = AdaptiveAugment(self.ada_target, self.ada_kimg, name="ada")

    @property
    def num_classes(self):
        return self._num_classes

    def _state(self, name, shape=(), value=0.0):
        """A non-trainable float32 variable of the model: saved, restored, carried through jit."""
        return self.add_weight(
            shape=shape,
            initializer=keras.initializers.Constant(value),
            trainable=False,
            dtype="float32",
            name=name,
        )

    def _lazy_mask(self, counter, interval):
        """1.0 when `counter % interval == 0`: a Python float on torch (eager), else a tensor."""
        if interval <= 1:
            return 1.0
        if _BACKEND == "torch":
            return float(int(ops.convert_to_numpy(counter)) % interval == 0)
        return ops.cast(ops.equal(ops.mod(counter, float(interval)), 0.0), "float32")

    def _discriminator_steps(self, discriminator_loss):
        """`d_steps` discriminator updates with lazy R1 and the ADA update (StyleGAN2 and 3).

        Args:
            discriminator_loss: `mask -> (d_loss, (real_logits, fake_logits))`; `mask` is
                1.0 on the steps that add the R1 penalty (every `r1_interval`-th).

        Returns:
            `(d_loss, real_logits, fake_logits)` of the last update.
        """
        for _ in range(self.d_steps):
            r1_mask = self._lazy_mask(self.d_reg_step, self.r1_interval)
            d_loss, (real_logits, fake_logits) = self._train_network(
                self.discriminator, self.d_optimizer, lambda mask=r1_mask: discriminator_loss(mask)
            )
            self.d_reg_step.assign_add(1.0)
            if self.ada is not None:
                self.ada.update(real_logits)
        return d_loss, real_logits, fake_logits

    # Labels (class-conditional variants) --------------------------------------------

    def _generator_input_spec(self, batch):
        if self.num_classes is None:
            return super()._generator_input_spec(batch)
        return [keras.KerasTensor((batch, self.latent_dim)), self._label_spec(batch)]

    def _label_spec(self, batch):
        return None if self.num_classes is None else keras.KerasTensor((batch,), dtype="int32")

    def _discriminator_inputs(self, images, labels):
        return images if self.num_classes is None else [images, labels]

    def _generate(self, latent, labels, training):
        inputs = latent if self.num_classes is None else [latent, labels]
        return self.generator(inputs, training=training)

    def _unpack_batch(self, data):
        if self.num_classes is None:
            return super()._unpack_batch(data)
        return ConditionalGAN._unpack_batch(self, data)

    def _resolve_generate_inputs(self, num_images, labels, seed, latent):
        if self.num_classes is None:
            return super()._resolve_generate_inputs(num_images, labels, seed, latent)
        return ConditionalGAN._resolve_generate_inputs(self, num_images, labels, seed, latent)

    # Sampling ---------------------------------------------------------------------------

    SAMPLING_OPTIONS = ("truncation_psi",)

    def _sample(self, inputs, truncation_psi=1.0):
        return forward(self.sampling_generator, inputs)

    def generate(
        self, num_images=None, labels=None, seed=None, latent=None, batch_size=256, **options
    ):
        """Generates images with the EMA generator, clipped to [-1, 1].

        Same arguments as `BaseGAN.generate`, plus the family's sampling options
        (`SAMPLING_OPTIONS`; StyleGAN2: `truncation_psi`, `truncation_cutoff`, `noise_mode`).
        """
        unknown = sorted(set(options) - set(self.SAMPLING_OPTIONS))
        if unknown:
            raise TypeError(
                f"Unexpected arguments: {unknown}. {type(self).__name__}.generate takes "
                f"{', '.join(self.SAMPLING_OPTIONS)}."
            )

        def sample_batch(inputs, _):
            return np.clip(ops.convert_to_numpy(self._sample(inputs, **options)), -1.0, 1.0)

        return self._generate_in_batches(num_images, labels, seed, latent, batch_size,
                                         sample_batch)  # fmt: skip

    def _step_logs(self, d_loss, g_loss, real_logits, fake_logits):
        logs = self._update_metrics(d_loss, g_loss, real_logits, fake_logits)
        if self.ada is not None:
            logs["ada_p"] = ops.convert_to_tensor(self.ada.p)
        return logs

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "ada_target": self.ada_target,
            "ada_kimg": self.ada_kimg,
        }
