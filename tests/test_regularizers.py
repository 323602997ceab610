"""Gradient penalty and R1 inside the compiled step, against closed forms; GAN options."""

import keras
import numpy as np
import pytest
from keras import ops

import keras_gans
from keras_gans.objective import losses, penalties
from tests import helpers


class PenaltyOnly(losses.GANLoss):
    """A zero adversarial loss, so the reported d_loss is the penalty alone."""

    name = "penalty_only"

    def discriminator_loss(self, real_logits, fake_logits):
        return 0.0 * ops.mean(real_logits + fake_logits)

    def generator_loss(self, fake_logits):
        return ops.mean(fake_logits)


def _penalty_model(discriminator, **kwargs):
    generator = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Reshape((4, 4, 1)),
        ]
    )
    model = keras_gans.GAN(
        generator=generator, discriminator=discriminator, latent_dim=4, loss=PenaltyOnly(), **kwargs
    )
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    return model


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # D(x) = w . x + b has gradient w everywhere: the penalty is (||w|| - 1)^2
    # whatever the interpolation coefficients.
    critic = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    w = np.linspace(-0.5, 0.6, 16).astype("float32")[:, None]
    critic.layers[-1].set_weights([w, np.array([0.3], "float32")])
    model = _penalty_model(critic, gp_weight=10.0)
    images = np.random.default_rng(0).uniform(-1, 1, (32, 4, 4, 1)).astype("float32")
    history = model.fit(images, batch_size=16, epochs=1, verbose=0)
    expected = 10.0 * (np.linalg.norm(w) - 1.0) ** 2
    assert history.history["d_loss"][0] == pytest.approx(expected, rel=1e-4)


def test_r1_of_a_quadratic_discriminator_is_exact():
    # D(x) = sum(a * x^2): grad = 2 a x, so gamma/2 * E||grad||^2 = 2 gamma E[sum(a^2 x^2)].
    a = np.linspace(0.1, 1.6, 16).astype("float32").reshape(4, 4, 1)
    inputs = keras.Input((4, 4, 1))
    scaled = keras.layers.Multiply()([inputs, inputs])
    weighted = keras.layers.Rescaling(1.0)(scaled)
    flat = keras.layers.Flatten()(weighted)
    dense = keras.layers.Dense(1, use_bias=False, trainable=False)
    outputs = dense(flat)
    dense.set_weights([a.reshape(16, 1)])
    discriminator = keras.Model(inputs, outputs)
    model = _penalty_model(discriminator, r1_weight=0.5)
    images = np.random.default_rng(1).uniform(-1, 1, (16, 4, 4, 1)).astype("float32")
    history = model.fit(images, batch_size=16, epochs=1, verbose=0)
    expected = 0.5 / 2 * np.mean(np.sum((2 * a[None] * images) ** 2, axis=(1, 2, 3)))
    assert history.history["d_loss"][0] == pytest.approx(expected, rel=1e-4)


def test_penalty_functions_closed_form():
    gradients = np.array([[3.0, 4.0], [0.0, 1.0]], "float32")
    assert float(penalties.gradient_penalty(gradients)) == pytest.approx((16.0 + 0.0) / 2, rel=1e-5)
    assert float(penalties.r1_penalty(gradients)) == pytest.approx((25.0 + 1.0) / 2)


OPTIONS = {
    "wgan_gp": ("WGANGP", dict(latent_dim=8, image_shape=(8, 8, 1), width=8, d_steps=2)),
    "hinge_sn_r1_diffaugment": (
        "DCGAN",
        dict(
            latent_dim=8,
            image_shape=(8, 8, 3),
            width=8,
            loss="hinge",
            spectral_norm=True,
            r1_weight=0.2,
            augment="diffaugment",
        ),
    ),
    "least_squares_gan": ("GAN", dict(latent_dim=8, image_shape=(8, 8, 1), loss="least_squares")),
    "acgan": (
        "ConditionalGAN",
        dict(num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8, conditioning="acgan"),
    ),
    "projection": (
        "ConditionalGAN",
        dict(
            num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8, conditioning="projection"
        ),
    ),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_options_train_save_and_load(option, tmp_path):
    class_name, kwargs = OPTIONS[option]
    model = getattr(keras_gans, class_name)(**kwargs)
    model.compile()
    history = model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.get_config()["loss"] == model.get_config()["loss"]
    assert loaded.gp_weight == model.gp_weight and loaded.augment == model.augment
    np.testing.assert_allclose(
        helpers.generate_some(loaded), helpers.generate_some(model), atol=1e-5
    )


def test_acgan_discriminator_learns_the_classes():
    model = keras_gans.ConditionalGAN(
        num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8, conditioning="acgan"
    )
    assert len(model.discriminator.outputs) == 2
    model.compile(d_optimizer=keras.optimizers.Adam(1e-2))
    rng = np.random.default_rng(0)
    labels = np.arange(192) % 3
    # Class k has a bright 4x4 square in quadrant k, on a dark noisy background.
    images = rng.normal(-0.8, 0.1, (192, 8, 8, 1))
    for k, (row, col) in enumerate([(0, 0), (0, 4), (4, 0)]):
        images[labels == k, row : row + 4, col : col + 4] = 0.8
    images = np.clip(images, -1, 1).astype("float32")

    def class_accuracy():
        _, class_logits = model.discriminator(images, training=False)
        return float((keras.ops.convert_to_numpy(class_logits).argmax(-1) == labels).mean())

    before = class_accuracy()
    model.fit((images, labels), batch_size=32, epochs=5, verbose=0)
    # Only the auxiliary class loss can teach the class head this: an untrained
    # head is not reliably near chance (1/3), but it is far from perfect.
    assert class_accuracy() > 0.9, (before, class_accuracy())


def test_wgan_gp_defaults():
    model = keras_gans.WGANGP(latent_dim=8, image_shape=(8, 8, 1), width=8)
    model.compile()
    assert model.gan_loss.name == "wasserstein" and model.d_steps == 5 and model.gp_weight == 10.0
    assert float(model.d_optimizer.beta_2) == pytest.approx(0.9)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(1e-4)
    assert not [layer for layer in model.discriminator.layers if "dropout" in layer.name]


def test_bad_option_values():
    with pytest.raises(ValueError, match="augment"):
        helpers.make_model("DCGAN", augment="mixup")
    with pytest.raises(ValueError, match="gp_weight"):
        helpers.make_model("DCGAN", gp_weight=-1)
    with pytest.raises(ValueError, match="conditioning"):
        helpers.make_model("ConditionalGAN", conditioning="acgan-typo")
