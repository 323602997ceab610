"""R3GAN (Huang et al., 2024): relativistic pairing loss with R1 + R2 on a modern ResNet.

Its schedules (learning rate, gamma, Adam's beta_2, cosine from a start to an end
value) are Keras schedules: `CosineRamp`, and `ScheduledAdam` for beta_2.
"""

import math

import keras
from keras import ops

from keras_gans.models.style_family import StyleFamilyGAN
from keras_gans.networks import r3gan as networks
from keras_gans.objective import stylegan2 as objective

_register = keras.saving.register_keras_serializable(package="keras_gans")


@_register
class CosineRamp(keras.optimizers.schedules.LearningRateSchedule):
    """`end + (start - end) * (1 + cos(pi * min(step / steps, 1))) / 2`: R3GAN's schedule shape."""

    def __init__(self, start, end, steps):
        self.start, self.end, self.steps = float(start), float(end), int(steps)

    def __call__(self, step):
        progress = ops.minimum(ops.cast(step, "float32") / float(self.steps), 1.0)
        return self.end + (self.start - self.end) * 0.5 * (1.0 + ops.cos(math.pi * progress))

    def get_config(self):
        return {"start": self.start, "end": self.end, "steps": self.steps}


@_register
class ScheduledAdam(keras.optimizers.Adam):
    """Adam whose `beta_2` may be a schedule of the step (R3GAN ramps it 0.9 -> 0.99)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, **kwargs):
        schedule = None
        if isinstance(beta_2, dict):
            beta_2 = keras.saving.deserialize_keras_object(beta_2)
        if callable(beta_2):
            schedule, beta_2 = beta_2, float(beta_2(0))
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, **kwargs)
        self.beta_2_schedule = schedule

    def update_step(self, gradient, variable, learning_rate):
        if self.beta_2_schedule is None:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        beta_2 = ops.cast(self.beta_2_schedule(self.iterations), dtype)
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        # bias correction with the current beta_2, as torch's Adam with changed betas
        alpha = lr * ops.sqrt(1 - ops.power(beta_2, step)) / (1 - ops.power(self.beta_1, step))
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign_add(v, (ops.square(gradient) - v) * (1 - beta_2))
        self.assign_sub(variable, m * alpha / (ops.sqrt(v) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        if self.beta_2_schedule is not None:
            config["beta_2"] = keras.saving.serialize_keras_object(self.beta_2_schedule)
        return config


@_register
class R3GAN(StyleFamilyGAN):
    """R3GAN: relativistic pairing GAN loss, R1 + R2 every step, simplified ResNets.

    Args:
        image_shape: `(height, width, channels)`; sides as for `StyleGAN2`.
        latent_dim: size of z.
        width, cardinality, blocks, expansion: the networks' stages (ints, or one value
            per stage from the start resolution up).
        num_classes: class-conditional (label embedding; projection discriminator).
        gamma: weight of R1 + R2 (the loss adds `gamma / 2 * (R1 + R2)`).
        gamma_end: with `schedule_steps`, gamma follows a cosine from `gamma` to this.
        schedule_steps: generator steps of the cosine schedules (gamma, and the default
            optimizers' learning rate 2e-4 -> 5e-5 and beta_2 0.9 -> 0.99).
        ada_target, ada_kimg: adaptive augmentation (None: off).
        ema_decay: decay of the generator average sampled by `generate`.
        **kwargs: `seed`, `augment`, `d_steps`; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.R3GAN(image_shape=(32, 32, 3), latent_dim=64, gamma=0.05)
    gan.compile()
    gan.fit(images, batch_size=64, epochs=100)
    ```
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=64, width=256, cardinality=16,
                 blocks=2, expansion=2, num_classes=None, gamma=0.05, gamma_end=None,
                 schedule_steps=None, ema_decay=0.999, generator=None, discriminator=None,
                 **kwargs):  # fmt: skip
        kwargs.pop("loss", None)  # the relativistic pairing loss is built in
        image_shape = tuple(int(d) for d in image_shape)
        self.width, self.cardinality = width, cardinality
        self.blocks, self.expansion = blocks, int(expansion)
        arch = dict(width=width, cardinality=cardinality, blocks=blocks, expansion=self.expansion)
        if generator is None:
            generator = networks.r3gan_generator(
                latent_dim, image_shape, num_classes=num_classes, **arch
            )
        if discriminator is None:
            discriminator = networks.r3gan_discriminator(
                image_shape, num_classes=num_classes, **arch
            )
        super().__init__(generator, discriminator, latent_dim, num_classes=num_classes,
                         ema_decay=ema_decay, **kwargs)  # fmt: skip
        if float(gamma) < 0:
            raise ValueError(f"`gamma` must be >= 0. Received: {gamma!r}")
        self.gamma = float(gamma)
        self.gamma_end = None if gamma_end is None else float(gamma_end)
        self.schedule_steps = None if schedule_steps is None else int(schedule_steps)
        self.gamma_schedule = None
        if self.gamma_end is not None and self.schedule_steps:
            self.gamma_schedule = CosineRamp(self.gamma, self.gamma_end, self.schedule_steps)

    def default_optimizer(self):
        """Adam(2e-4, beta_1=0, beta_2=0.99); with `schedule_steps`, R3GAN's cosine ramps."""
        if not self.schedule_steps:
            return keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.99)
        return ScheduledAdam(
            CosineRamp(2e-4, 5e-5, self.schedule_steps),
            beta_1=0.0,
            beta_2=CosineRamp(0.9, 0.99, self.schedule_steps),
        )

    def current_gamma(self):
        """gamma at this step: the constant, or the schedule at the model's step count."""
        if self.gamma_schedule is None:
            return self.gamma
        return self.gamma_schedule(self.optimizer.iterations)

    def _gan_train_step(self, data):
        real_images, labels = self._unpack_batch(data)
        gamma = self.current_gamma() if self.gamma else None
        for _ in range(self.d_steps):
            d_loss, (real_logits, fake_logits) = self._train_network(
                self.discriminator,
                self.d_optimizer,
                lambda: objective.r3gan_discriminator_loss(self, real_images, labels, gamma),
            )
            if self.ada is not None:
                self.ada.update(real_logits)
        g_loss, _ = self._train_network(
            self.generator,
            self.g_optimizer,
            lambda: objective.r3gan_generator_loss(self, real_images, labels),
        )
        return self._finish_step(d_loss, g_loss, real_logits, fake_logits)

    def _gan_test_step(self, data):
        real_images, labels = self._unpack_batch(data)
        d_loss, (real_logits, fake_logits) = objective.r3gan_discriminator_loss(
            self, real_images, labels, None
        )
        # softplus(-(D(x_fake) - D(x_real)))
        g_loss = ops.mean(ops.softplus(real_logits - fake_logits))
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "cardinality": self.cardinality,
            "blocks": self.blocks,
            "expansion": self.expansion,
            "gamma": self.gamma,
            "gamma_end": self.gamma_end,
            "schedule_steps": self.schedule_steps,
        }
