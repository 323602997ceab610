"""Adversarial losses, written once in `keras.ops` so they run on every backend.

A GAN loss is a pair of functions of the discriminator's raw outputs (logits,
or critic scores for the Wasserstein loss): one the discriminator minimises,
one the generator minimises. Each class below implements both, and takes an
optional one-sided label smoothing for the discriminator's real targets.

Example:

```python
loss = keras_gans.losses.get("hinge")
d_loss = loss.discriminator_loss(real_logits, fake_logits)
g_loss = loss.generator_loss(fake_logits)
```
"""

import keras
from keras import ops


class GANLoss:
    """Base class: a discriminator loss and a generator loss of logits.

    Subclasses implement `discriminator_loss` and `generator_loss`; both
    return a scalar averaged over the batch.

    Args:
        label_smoothing: one-sided label smoothing, in `[0, 1)`: the
            discriminator's target for real images becomes
            `1 - label_smoothing` (Salimans et al., 2016). Only losses with
            targets use it.
    """

    name = None

    def __init__(self, label_smoothing=0.0):
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1). Received: {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def discriminator_loss(self, real_logits, fake_logits):
        raise NotImplementedError

    def generator_loss(self, fake_logits):
        raise NotImplementedError

    def get_config(self):
        return {"label_smoothing": self.label_smoothing}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(label_smoothing={self.label_smoothing})"


def _bce_with_logits(logits, target):
    """Binary cross-entropy of `sigmoid(logits)` against a constant target."""
    return target * ops.softplus(-logits) + (1.0 - target) * ops.softplus(logits)


@keras.saving.register_keras_serializable(package="keras_gans")
class NonSaturatingLoss(GANLoss):
    """The standard GAN loss with the non-saturating generator objective.

    The discriminator minimises binary cross-entropy on real (target 1) and
    fake (target 0); the generator minimises `-log D(G(z))` instead of
    `log(1 - D(G(z)))`, which gives strong gradients early in training
    (Goodfellow et al., 2014).
    """

    name = "non_saturating"

    def discriminator_loss(self, real_logits, fake_logits):
        real_target = 1.0 - self.label_smoothing
        return ops.mean(_bce_with_logits(real_logits, real_target)) + ops.mean(
            _bce_with_logits(fake_logits, 0.0)
        )

    def generator_loss(self, fake_logits):
        return ops.mean(ops.softplus(-fake_logits))


@keras.saving.register_keras_serializable(package="keras_gans")
class MinimaxLoss(NonSaturatingLoss):
    """The original minimax loss: the generator minimises `log(1 - D(G(z)))`."""

    name = "minimax"

    def generator_loss(self, fake_logits):
        return -ops.mean(ops.softplus(fake_logits))


@keras.saving.register_keras_serializable(package="keras_gans")
class LeastSquaresLoss(GANLoss):
    """Least-squares GAN loss (Mao et al., 2017) on the raw outputs."""

    name = "least_squares"

    def discriminator_loss(self, real_logits, fake_logits):
        real_target = 1.0 - self.label_smoothing
        return 0.5 * (
            ops.mean(ops.square(real_logits - real_target)) + ops.mean(ops.square(fake_logits))
        )

    def generator_loss(self, fake_logits):
        return 0.5 * ops.mean(ops.square(fake_logits - 1.0))


@keras.saving.register_keras_serializable(package="keras_gans")
class HingeLoss(GANLoss):
    """Hinge loss (Lim & Ye, 2017; used by SNGAN, BigGAN)."""

    name = "hinge"

    def discriminator_loss(self, real_logits, fake_logits):
        return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))

    def generator_loss(self, fake_logits):
        return -ops.mean(fake_logits)


@keras.saving.register_keras_serializable(package="keras_gans")
class WassersteinLoss(GANLoss):
    """Wasserstein loss (Arjovsky et al., 2017): the critic's score gap.

    Use it with a Lipschitz constraint on the critic (gradient penalty or
    spectral normalization).
    """

    name = "wasserstein"

    def discriminator_loss(self, real_logits, fake_logits):
        return ops.mean(fake_logits) - ops.mean(real_logits)

    def generator_loss(self, fake_logits):
        return -ops.mean(fake_logits)


LOSSES = {
    cls.name: cls
    for cls in (
        NonSaturatingLoss,
        MinimaxLoss,
        LeastSquaresLoss,
        HingeLoss,
        WassersteinLoss,
    )
}


def get(identifier, label_smoothing=0.0):
    """Returns a `GANLoss` from a name, a `GANLoss` instance or a config dict.

    Args:
        identifier: one of `"non_saturating"` (default GAN loss),
            `"minimax"`, `"least_squares"`, `"hinge"`, `"wasserstein"`, a
            `GANLoss` instance, or a serialized loss.
        label_smoothing: used when building a loss from its name.

    Example:

    >>> keras_gans.losses.get("hinge")
    HingeLoss(label_smoothing=0.0)
    """
    if isinstance(identifier, GANLoss):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str) and identifier in LOSSES:
        return LOSSES[identifier](label_smoothing=label_smoothing)
    raise ValueError(
        f"Unknown GAN loss: {identifier!r}. Expected one of {sorted(LOSSES)} "
        "or a keras_gans.losses.GANLoss instance."
    )
