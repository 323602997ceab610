"""StyleGAN2 (Karras et al., 2020), with optional ADA and class conditioning, on every backend.

`StyleFamilyGAN` holds what StyleGAN2 and R3GAN share: class labels (optional),
adaptive augmentation (optional), clipped sampling and lazy-regularisation masks.
"""

import keras
import numpy as np
from keras import ops

from keras_gans.models.base import BaseGAN
from keras_gans.models.conditional_gan import ConditionalGAN
from keras_gans.networks import stylegan2 as networks
from keras_gans.objective import stylegan2 as objective
from keras_gans.objective.ada import AdaptiveAugment

_BACKEND = keras.backend.backend()


def lazy_adam(learning_rate, interval, beta_2=0.99):
    """Adam(lr, 0, 0.99) rescaled for a penalty run every `interval` steps (StyleGAN2's mb_ratio).

    With `c = interval / (interval + 1)`: lr * c, beta_1 ** c, beta_2 ** c; `interval=0`: none.
    """
    c = interval / (interval + 1) if interval else 1.0
    return keras.optimizers.Adam(learning_rate * c, beta_1=0.0, beta_2=beta_2**c, epsilon=1e-8)


class StyleFamilyGAN(BaseGAN):
    """Shared by `StyleGAN2` and `R3GAN`: labels, ADA, clipped `generate`, state variables."""

    def __init__(self, generator, discriminator, latent_dim, num_classes=None, ada_target=None,
                 ada_kimg=500.0, **kwargs):  # fmt: skip
        if num_classes is not None and (
            not isinstance(num_classes, (int, np.integer)) or num_classes < 2
        ):
            raise ValueError(f"`num_classes` must be None or an integer >= 2: {num_classes!r}")
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

    def _sample(self, inputs, truncation_psi):
        return self.sampling_generator(inputs, training=False)

    def generate(
        self, num_images=None, labels=None, seed=None, latent=None, batch_size=256, **kwargs
    ):
        """Generates images with the EMA generator, clipped to [-1, 1].

        Same arguments as `BaseGAN.generate` (StyleGAN2 adds `truncation_psi`).
        """
        truncation_psi = float(kwargs.pop("truncation_psi", 1.0))
        if kwargs:
            raise TypeError(f"Unexpected arguments: {sorted(kwargs)}")
        if num_images is not None and np.ndim(num_images) > 0:
            latent, num_images = num_images, None  # generate(latent_array)
        if num_images is not None and (
            isinstance(num_images, bool) or not float(num_images).is_integer()
        ):
            raise ValueError(f"`num_images` must be a positive integer. Received: {num_images!r}")
        latent, labels = self._resolve_generate_inputs(num_images, labels, seed, latent)
        self._sync_training_state()
        batches = []
        for start in range(0, len(latent), batch_size):
            inputs = latent[start : start + batch_size]
            if labels is not None:
                inputs = [inputs, labels[start : start + batch_size]]
            images = self._sample(inputs, truncation_psi)
            batches.append(np.clip(ops.convert_to_numpy(images), -1.0, 1.0))
        return np.concatenate(batches).astype("float32")

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


@keras.saving.register_keras_serializable(package="keras_gans")
class StyleGAN2(StyleFamilyGAN):
    """StyleGAN2 with lazy R1, path-length regularisation, style mixing and truncation.

    Args:
        image_shape: `(height, width, channels)`, 1 or 3 channels, sides from 32 to 256
            (or more) that take the same number of 2x steps (32x64 starts at 4x8).
        latent_dim: size of z (512 in the paper).
        w_dim: size of w; default `latent_dim`.
        mapping_layers: dense layers of the mapping network (8; 2 for CIFAR-10 in ADA).
        channel_base, channel_max: feature maps at resolution r are
            `min(channel_base / r, channel_max)` (16384 and 512 at 32x32 in ADA's CIFAR setup).
        num_classes: class-conditional (label embedding into the mapping network and a
            projection discriminator) when set.
        mbstd_group_size: minibatch standard-deviation group size (4).
        r1_gamma, r1_interval: R1 weight and lazy interval (16).
        pl_weight, pl_interval, pl_batch_shrink, pl_decay: path-length regularisation.
        style_mixing_prob: probability of mixing two ws in a batch (0.9).
        w_avg_beta: decay of the tracked w average used for truncation.
        ada_target, ada_kimg: adaptive augmentation (None: off; 0.6 in the paper).
        ema_decay: decay of the generator average sampled by `generate` (default 0.999).
        **kwargs: `seed`, `augment` (DiffAugment), `d_steps`; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.StyleGAN2(image_shape=(32, 32, 3), latent_dim=512, ada_target=0.6)
    gan.compile()
    gan.fit(images, batch_size=64, epochs=100)
    gan.generate(16, seed=0, truncation_psi=0.7)
    ```
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=512, w_dim=None, mapping_layers=8,
                 channel_base=16384, channel_max=512, num_classes=None, mbstd_group_size=4,
                 r1_gamma=10.0, r1_interval=16, pl_weight=2.0, pl_interval=4, pl_batch_shrink=2,
                 pl_decay=0.01, style_mixing_prob=0.9, w_avg_beta=0.995, ema_decay=0.999,
                 generator=None, discriminator=None, **kwargs):  # fmt: skip
        kwargs.pop("loss", None)  # the non-saturating loss is built in
        image_shape = tuple(int(d) for d in image_shape)
        self.w_dim = int(w_dim or latent_dim)
        self.mapping_layers = int(mapping_layers)
        self.channel_base, self.channel_max = int(channel_base), int(channel_max)
        self.mbstd_group_size = int(mbstd_group_size)
        if generator is None:
            generator = networks.stylegan2_generator(
                latent_dim, image_shape, self.w_dim, self.mapping_layers,
                self.channel_base, self.channel_max, num_classes,
            )  # fmt: skip
        if discriminator is None:
            discriminator = networks.stylegan2_discriminator(
                image_shape, self.channel_base, self.channel_max, self.mbstd_group_size, num_classes
            )
        super().__init__(generator, discriminator, latent_dim, num_classes=num_classes,
                         ema_decay=ema_decay, **kwargs)  # fmt: skip
        for name, value in (("r1_gamma", r1_gamma), ("pl_weight", pl_weight)):
            if float(value) < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {value!r}")
        self.r1_gamma, self.r1_interval = float(r1_gamma), int(r1_interval)
        self.pl_weight, self.pl_interval = float(pl_weight), int(pl_interval)
        self.pl_batch_shrink, self.pl_decay = int(pl_batch_shrink), float(pl_decay)
        self.style_mixing_prob, self.w_avg_beta = float(style_mixing_prob), float(w_avg_beta)
        self.num_ws = networks.num_ws_for(self.image_shape)
        # Training state, saved with the model and restored by BackupAndRestore.
        self.w_avg = self._state("w_avg", (self.w_dim,))
        self.pl_mean = self._state("pl_mean")
        self.d_reg_step = self._state("d_reg_step")
        self.g_reg_step = self._state("g_reg_step")

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Defaults: Adam(0.0025, beta_1=0, beta_2=0.99) rescaled for each lazy interval."""
        d_optimizer = d_optimizer or lazy_adam(0.0025, self.r1_interval if self.r1_gamma else 0)
        g_optimizer = g_optimizer or lazy_adam(0.0025, self.pl_interval if self.pl_weight else 0)
        super().compile(d_optimizer, g_optimizer, **kwargs)

    def _gan_train_step(self, data):
        real_images, labels = self._unpack_batch(data)
        batch_size = ops.shape(real_images)[0]
        for _ in range(self.d_steps):
            r1_mask = self._lazy_mask(self.d_reg_step, self.r1_interval)
            d_loss, (real_logits, fake_logits) = self._train_network(
                self.discriminator,
                self.d_optimizer,
                lambda mask=r1_mask: objective.stylegan2_discriminator_loss(
                    self, real_images, labels, mask
                ),
            )
            self.d_reg_step.assign_add(1.0)
            if self.ada is not None:
                self.ada.update(real_logits)
        pl_mask = self._lazy_mask(self.g_reg_step, self.pl_interval)
        g_loss, _ = self._train_network(
            self.generator,
            self.g_optimizer,
            lambda: objective.stylegan2_generator_loss(self, batch_size, labels, pl_mask),
        )
        self.g_reg_step.assign_add(1.0)
        if self.ema_generator is not None:
            self._update_ema()
        self.optimizer.iterations.assign_add(1)
        return self._step_logs(d_loss, g_loss, real_logits, fake_logits)

    def _gan_test_step(self, data):
        real_images, labels = self._unpack_batch(data)
        d_loss, (real_logits, fake_logits) = objective.stylegan2_discriminator_loss(
            self, real_images, labels, 0.0
        )
        g_loss = ops.mean(ops.softplus(-fake_logits))  # -log(sigmoid(D(G(z))))
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    def _sample(self, inputs, truncation_psi):
        generator = self.sampling_generator
        if truncation_psi == 1.0:
            return generator(inputs, training=False)
        # w' = w_avg + psi (w - w_avg): trade variety for typicality
        w = generator.get_layer("mapping")(inputs, training=False)
        w = self.w_avg + truncation_psi * (w - self.w_avg)
        ws = ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)
        return generator.get_layer("synthesis")(ws, training=False)

    def get_config(self):
        return {
            **super().get_config(),
            "w_dim": self.w_dim,
            "mapping_layers": self.mapping_layers,
            "channel_base": self.channel_base,
            "channel_max": self.channel_max,
            "mbstd_group_size": self.mbstd_group_size,
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "pl_weight": self.pl_weight,
            "pl_interval": self.pl_interval,
            "pl_batch_shrink": self.pl_batch_shrink,
            "pl_decay": self.pl_decay,
            "style_mixing_prob": self.style_mixing_prob,
            "w_avg_beta": self.w_avg_beta,
        }
