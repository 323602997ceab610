"""WGANGP: Wasserstein critic with a gradient penalty, 5 critic steps."""

import keras_gans
from tests.hub_fixtures import HUB_TOKEN
from tests.test_case import GANTestCase


class TestWGANGP(GANTestCase):
    model_class = keras_gans.WGANGP
    init_kwargs = dict(latent_dim=8, image_shape=(8, 8, 1), width=8, d_steps=2)

    def test_gan_saving_and_hub(self, tmp_path, hub, hub_repo_id):
        model = self.run_gan_test(expected_image_shape=(8, 8, 1))
        assert model.gan_loss.name == "wasserstein" and model.gp_weight == 10.0
        self.run_saving_test(model, tmp_path)
        self.run_hub_round_trip(model, hub_repo_id, HUB_TOKEN)
