"""Learning tests on real digits (scikit-learn's 8x8 set): training must pay off.

Each test compares against what an untrained model does, so it cannot pass
for a model that did not learn.
"""

import numpy as np
import pytest

import keras_gans
from tests import helpers

# Each trains on one backend of a run; the step tests cover every backend.
pytestmark = [pytest.mark.slow, pytest.mark.spread_across_backends]


def _pixel_distance_before_and_after(model, images, epochs):
    """Pixel-space Frechet distance of 1,000 samples to the digits, untrained and trained."""
    model.compile()
    untrained = helpers.pixel_frechet_distance(images, model.generate(1000, seed=0))
    model.fit(images, batch_size=64, epochs=epochs, verbose=0)
    trained = helpers.pixel_frechet_distance(images, model.generate(1000, seed=0))
    return untrained, trained


def test_dcgan_samples_approach_real_digits(digits):
    images, _ = digits
    gan = keras_gans.DCGAN(latent_dim=32, image_shape=(8, 8, 1), width=16, seed=0)
    untrained, trained = _pixel_distance_before_and_after(gan, images, epochs=20)
    # Untrained: about 43. Trained 20 epochs: about 5-12 on every backend.
    assert trained < 0.4 * untrained, (untrained, trained)


def test_conditional_gan_draws_the_requested_digit(digits):
    from sklearn.linear_model import LogisticRegression

    images, labels = digits
    flat = images.reshape(len(images), -1)
    classifier = LogisticRegression(max_iter=2000).fit(flat, labels)
    assert classifier.score(flat, labels) > 0.95

    cgan = keras_gans.ConditionalGAN(
        num_classes=10, latent_dim=32, image_shape=(8, 8, 1), width=16, seed=0
    )
    cgan.compile()
    requested = np.repeat(np.arange(10), 50)

    def accuracy():
        samples = cgan.generate(labels=requested, seed=1)
        return float((classifier.predict(samples.reshape(len(samples), -1)) == requested).mean())

    untrained = accuracy()
    cgan.fit((images, labels), batch_size=64, epochs=60, verbose=0)
    trained = accuracy()
    # Chance is 0.1; the trained model reaches about 0.6-0.9.
    assert untrained < 0.3 and trained > 0.5, (untrained, trained)


def test_wgan_gp_samples_approach_real_digits(digits):
    images, _ = digits
    wgan = keras_gans.WGANGP(latent_dim=32, image_shape=(8, 8, 1), width=16, seed=0)
    untrained, trained = _pixel_distance_before_and_after(wgan, images, epochs=10)
    # Untrained: about 43-45. After 10 epochs (50 critic steps per 10 generator
    # steps): about 16-19 on every backend.
    assert trained < 0.6 * untrained, (untrained, trained)
