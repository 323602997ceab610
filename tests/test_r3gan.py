"""R3GAN: fit, save, load, generate on every backend; R1 + R2 in closed form."""

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans.objective import stylegan2 as objective
from keras_gans.objective.gan_objective import sample_latent
from tests import helpers
from tests.hub_fixtures import HUB_TOKEN
from tests.test_case import GANTestCase
from tests.test_stylegan2 import quadratic_discriminator, with_seed_state

TINY = dict(latent_dim=8, image_shape=(8, 8, 1), width=8, cardinality=2, blocks=1, seed=0)


class TestR3GAN(GANTestCase):
    model_class = keras_gans.R3GAN
    init_kwargs = TINY

    def test_fit_save_conditional_with_schedules_and_ada(self, tmp_path):
        # One compiled step keeps JAX's compile time in budget: conditional, ADA, schedules.
        model = self.run_gan_test(
            expected_image_shape=(8, 8, 3),
            init_kwargs=dict(
                image_shape=(8, 8, 3), num_classes=3, gamma_end=0.005, schedule_steps=4,
                ada_target=0.6, ada_kimg=0.1,
            ),
        )  # fmt: skip
        # The cosine schedules reached their ends after schedule_steps generator steps.
        assert float(model.current_gamma()) == pytest.approx(0.005)
        beta_2 = model.g_optimizer.beta_2_schedule(model.g_optimizer.iterations)
        assert float(beta_2) == pytest.approx(0.99)
        self.run_saving_test(model, tmp_path)
        # Portability across backends: tests/test_stylegan2.py checks both models in one go.

    def test_hub_round_trip(self, hub, hub_repo_id):
        model = self.make()
        model.compile()
        self.run_hub_round_trip(model, hub_repo_id, HUB_TOKEN)

    def test_r1_plus_r2_in_closed_form(self):
        a = np.linspace(0.1, 1.6, 64).astype("float32").reshape(8, 8, 1)
        model = self.make(discriminator=quadratic_discriminator((8, 8, 1), a), gamma=0.5)
        real = keras.ops.convert_to_tensor(
            np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
        )

        def loss(gamma):
            return float(objective.r3gan_discriminator_loss(model, real, None, gamma)[0])

        difference = with_seed_state(model, lambda: loss(0.5)) - with_seed_state(
            model, lambda: loss(None)
        )
        fake = keras.ops.convert_to_numpy(
            with_seed_state(model, lambda: model._generate(sample_latent(model, 4), None, True))
        )

        def squared_gradient(x):  # ||grad D(x)||^2 = ||2 a x||^2 per image
            return np.sum((2 * a[None] * x) ** 2, axis=(1, 2, 3))

        expected = 0.5 / 2 * np.mean(squared_gradient(np.asarray(real)) + squared_gradient(fake))
        assert difference == pytest.approx(expected, rel=1e-4)


@pytest.mark.slow
@pytest.mark.spread_across_backends  # a learning test: one backend of a run
def test_r3gan_samples_approach_real_digits(digits):
    images = digits[0]
    # One group: TensorFlow's CPU grouped convolutions are ~9x slower (the fit tests above
    # cover cardinality 2).
    gan = keras_gans.R3GAN(
        image_shape=(8, 8, 1), latent_dim=16, width=16, cardinality=1, blocks=1, gamma=0.1,
        seed=0,
    )  # fmt: skip
    gan.compile()
    untrained = helpers.pixel_frechet_distance(images, gan.generate(1000, seed=0))
    gan.fit(images, batch_size=64, epochs=6, verbose=0)
    trained = helpers.pixel_frechet_distance(images, gan.generate(1000, seed=0))
    # Measured: untrained 45-51, after 6 epochs 17-21 (cardinality 2: 15-21).
    assert trained < 0.6 * untrained, (untrained, trained)
