"""What one training step computes: the alternating default and the simultaneous update.

A generator that ignores its noise (one trainable image, repeated) and a linear
discriminator make each update a few lines of NumPy, so the step is checked
against the mathematics on every backend, not against itself.
"""

import keras
import numpy as np
import pytest
from keras import ops

import keras_gans

SHAPE = (4, 4, 1)
LEARNING_RATE = 0.5


class OneImage(keras.layers.Layer):
    """Outputs its one trainable image for every latent vector; counts its calls."""

    calls = 0

    def build(self, input_shape):
        self.image = self.add_weight(
            shape=SHAPE, initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=1)
        )

    def call(self, latent):
        OneImage.calls += 1
        batch = ops.shape(latent)[0]
        return ops.broadcast_to(self.image[None], (batch,) + SHAPE)


def _networks():
    keras.utils.set_random_seed(3)
    latent = keras.Input((2,))
    generator = keras.Model(latent, OneImage()(latent))
    images = keras.Input(SHAPE)
    logits = keras.layers.Dense(1)(keras.layers.Flatten()(images))
    return generator, keras.Model(images, logits)


def _trained_one_step(update, real):
    generator, discriminator = _networks()
    gan = keras_gans.GAN(
        generator=generator, discriminator=discriminator, latent_dim=2, update=update, seed=0
    )
    gan.compile(
        d_optimizer=keras.optimizers.SGD(LEARNING_RATE),
        g_optimizer=keras.optimizers.SGD(LEARNING_RATE),
    )
    start = _as_numpy(generator, discriminator)
    OneImage.calls = 0
    gan.fit(real, batch_size=len(real), epochs=1, shuffle=False, verbose=0)
    return start, _as_numpy(generator, discriminator)


def _as_numpy(generator, discriminator):
    image = ops.convert_to_numpy(generator.trainable_variables[0]).reshape(-1).astype("float64")
    kernel, bias = (ops.convert_to_numpy(v).astype("float64") for v in discriminator.weights)
    return image, kernel.reshape(-1), float(bias[0])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _expected_step(update, real, image, kernel, bias):
    """The non-saturating step by hand: D descends, then G against D (new or old)."""
    real = real.reshape(len(real), -1).astype("float64")
    real_logits, fake_logit = real @ kernel + bias, image @ kernel + bias
    # L_D = mean softplus(-D(x)) + softplus(D(G)): its gradient for w and c
    kernel_gradient = -(_sigmoid(-real_logits)[:, None] * real).mean(0)
    kernel_gradient += _sigmoid(fake_logit) * image
    bias_gradient = -_sigmoid(-real_logits).mean() + _sigmoid(fake_logit)
    new_kernel = kernel - LEARNING_RATE * kernel_gradient
    new_bias = bias - LEARNING_RATE * bias_gradient
    # L_G = softplus(-D(G)) against the updated D (alternating) or the old one
    seen_kernel, seen_bias = (new_kernel, new_bias) if update == "alternating" else (kernel, bias)
    image_gradient = -_sigmoid(-(image @ seen_kernel + seen_bias)) * seen_kernel
    return image - LEARNING_RATE * image_gradient, new_kernel, new_bias


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_one_step_matches_the_update_rule_by_hand(update):
    real = np.random.default_rng(0).uniform(-1, 1, (8,) + SHAPE).astype("float32")
    start, trained = _trained_one_step(update, real)
    expected = _expected_step(update, real, *start)
    for name, got, want in zip(("generator image", "kernel", "bias"), trained, expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
    other = "simultaneous" if update == "alternating" else "alternating"
    assert not np.allclose(trained[0], _expected_step(other, real, *start)[0], atol=1e-4)


def _eager_gan_after_one_epoch(generator, discriminator, update):
    """A GAN run eagerly (Python runs every step) that has fitted one epoch of 3 steps."""
    gan = keras_gans.GAN(
        generator=generator, discriminator=discriminator, latent_dim=2, update=update
    )
    eager = {"jax": {}, "tensorflow": {"run_eagerly": True}, "torch": {}}
    gan.compile(jit_compile=False, **eager[keras.backend.backend()])
    real = np.zeros((12,) + SHAPE, "float32")
    gan.fit(real, batch_size=4, epochs=1, verbose=0)  # builds and warms up
    return gan, real


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_the_generator_runs_forward_once_per_step(update):
    generator, discriminator = _networks()
    gan, real = _eager_gan_after_one_epoch(generator, discriminator, update)
    OneImage.calls = 0
    gan.fit(real, batch_size=4, epochs=1, verbose=0)
    assert OneImage.calls == 3


class BatchSizes(keras.layers.Layer):
    """Passes its input through; records the batch size of every call."""

    seen = []

    def call(self, images):
        if isinstance(images.shape[0], int):  # not while Keras traces shapes symbolically
            BatchSizes.seen.append(images.shape[0])
        return images


@pytest.mark.parametrize(
    "update, spectral_norm, calls_per_step",
    [
        ("alternating", False, [4, 4, 4]),
        ("simultaneous", False, [4, 4]),
        ("alternating", True, [8, 4]),
        ("simultaneous", True, [8]),
    ],
)
def test_how_the_discriminator_sees_each_batch(update, spectral_norm, calls_per_step):
    # A D without state scores x_real and x_fake in two calls, as the tutorial does
    # (alternating: then the updated D scores x_fake again for G's loss; simultaneous:
    # G's gradient runs back through D on x_fake alone). A D with state (here the
    # spectral norm's power iterate, updated in place on torch) sees [x_real; x_fake]
    # in one call, so the state updates once per D update.
    generator, _ = _networks()
    images = keras.Input(SHAPE)
    # Dropout's seed is state too, but not the kind that keeps D to one call
    flat = keras.layers.Dropout(0.2)(keras.layers.Flatten()(BatchSizes()(images)))
    head = keras.layers.Dense(1)
    if spectral_norm:
        head = keras.layers.SpectralNormalization(head)
    discriminator = keras.Model(images, head(flat))
    gan, real = _eager_gan_after_one_epoch(generator, discriminator, update)
    BatchSizes.seen = []
    gan.fit(real, batch_size=4, epochs=1, verbose=0)
    assert BatchSizes.seen == calls_per_step * 3


def test_update_is_saved_and_checked():
    gan = keras_gans.DCGAN(latent_dim=2, width=4, update="simultaneous")
    assert keras_gans.DCGAN.from_config(gan.get_config()).update == "simultaneous"
    with pytest.raises(ValueError, match="`update` must be one of"):
        keras_gans.DCGAN(latent_dim=2, width=4, update="both")
    with pytest.raises(ValueError, match="d_steps=5"):
        keras_gans.WGANGP(latent_dim=2, width=4, update="simultaneous")


def test_style_families_refuse_the_simultaneous_update():
    with pytest.raises(ValueError, match="R3GAN trains with its own alternating step"):
        keras_gans.R3GAN(
            latent_dim=8, image_shape=(8, 8, 1), width=8, cardinality=2, blocks=1,
            update="simultaneous",
        )  # fmt: skip
