"""GAN: fully connected networks."""

import keras_gans
from tests.hub_fixtures import HUB_TOKEN
from tests.test_case import GANTestCase


class TestGAN(GANTestCase):
    model_class = keras_gans.GAN
    init_kwargs = dict(latent_dim=8, image_shape=(8, 8, 1))

    def test_gan_saving_and_hub(self, tmp_path, hub, hub_repo_id):
        model = self.run_gan_test(expected_image_shape=(8, 8, 1))
        self.run_saving_test(model, tmp_path)
        self.run_hub_round_trip(model, hub_repo_id, HUB_TOKEN)
