"""ConditionalGAN: concat, projection and ACGAN conditioning."""

import pytest

import keras_gans
from tests.test_case import GANTestCase


class TestConditionalGAN(GANTestCase):
    model_class = keras_gans.ConditionalGAN
    init_kwargs = dict(num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8)

    def test_gan_saving_and_portability(self, tmp_path):
        model = self.run_gan_test(expected_image_shape=(8, 8, 1))
        self.run_saving_test(model, tmp_path)
        self.run_portability_test(model, tmp_path)

    @pytest.mark.parametrize("conditioning", ["projection", "acgan"])
    def test_other_conditionings(self, conditioning, tmp_path):
        model = self.run_gan_test(
            expected_image_shape=(8, 8, 1), init_kwargs=dict(conditioning=conditioning)
        )
        self.run_saving_test(model, tmp_path)
