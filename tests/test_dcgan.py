"""DCGAN: transposed-conv generator, strided-conv discriminator."""

import keras_gans
from tests.test_case import GANTestCase


class TestDCGAN(GANTestCase):
    model_class = keras_gans.DCGAN
    init_kwargs = dict(latent_dim=8, image_shape=(8, 8, 1), width=8)

    def test_gan_saving_and_portability(self, tmp_path):
        model = self.run_gan_test(expected_image_shape=(8, 8, 1))
        self.run_saving_test(model, tmp_path)
        self.run_portability_test(model, tmp_path)

    def test_colour_and_spectral_norm(self):
        self.run_gan_test(
            expected_image_shape=(16, 16, 3),
            init_kwargs=dict(image_shape=(16, 16, 3), spectral_norm=True),
        )
