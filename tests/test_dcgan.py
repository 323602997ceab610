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

    def test_channels_are_capped_for_large_images(self):
        # The 28/32/64-pixel networks at width 64 keep DCGAN's sizes exactly...
        paper = keras_gans.DCGAN(image_shape=(28, 28, 1), width=64)
        assert (paper.generator.count_params(), paper.discriminator.count_params()) == (
            2_330_945,
            212_865,
        )
        # ...and no layer of a larger one exceeds channel_max.
        capped = keras_gans.DCGAN(image_shape=(64, 64, 3), width=8, channel_max=16)
        for network in (capped.generator, capped.discriminator):
            widths = [layer.output.shape[-1] for layer in network.layers[1:-2]]
            assert max(w for w in widths if w is not None) <= 16 * 16  # dense projection
        convolutions = [
            layer
            for layer in capped.generator.layers
            if "deconv" in layer.name and "bn" not in layer.name
        ]
        assert max(layer.filters for layer in convolutions) == 16
        assert keras_gans.DCGAN.from_config(capped.get_config()).channel_max == 16
