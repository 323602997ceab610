"""Mixed precision: every model's step under `mixed_bfloat16` on every backend."""

import keras
import numpy as np
import pytest

import keras_gans
from tests import helpers


@pytest.fixture
def bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


CASES = {
    "dcgan_gp": ("DCGAN", dict(gp_weight=1.0)),
    "dcgan_r1_diffaugment_ema": (
        "DCGAN",
        dict(r1_weight=1.0, augment="diffaugment", ema_decay=0.9),
    ),
    "acgan": ("ConditionalGAN", dict(conditioning="acgan")),
    "wgan_gp": ("WGANGP", {}),
    "gan": ("GAN", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bfloat16_steps_are_finite_and_images_float32(case, bfloat16, tmp_path):
    name, options = CASES[case]
    model = helpers.make_model(name, **options)
    assert model.generator.compute_dtype == "bfloat16"
    assert model.generator.trainable_weights[0].dtype == "float32"  # float32 master weights
    model.compile()
    history = model.fit(helpers.training_data(model, 32), batch_size=16, epochs=2, verbose=0)
    for key, values in history.history.items():
        assert np.isfinite(values).all(), key
    images = helpers.generate_some(model, 3)
    assert images.dtype == np.float32 and np.isfinite(images).all()
    if model.ema_generator is not None:
        assert all(w.dtype == "float32" for w in model.ema_generator.weights)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(helpers.generate_some(loaded, 3), images, atol=1e-2)


def test_float16_without_loss_scaling_is_refused_with_the_alternative():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = helpers.make_model("DCGAN")
        with pytest.raises(ValueError, match="mixed_bfloat16"):
            model.compile()
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
def test_a_bfloat16_gan_still_learns(digits, bfloat16):
    # A small dense GAN: bfloat16 kernels are slow on CPUs (torch's above all).
    from keras_gans.networks import dense

    images, _ = digits
    gan = keras_gans.GAN(
        latent_dim=32,
        image_shape=(8, 8, 1),
        generator=dense.fully_connected_generator(32, (8, 8, 1), widths=(128, 256)),
        discriminator=dense.fully_connected_discriminator((8, 8, 1), widths=(256, 128)),
        seed=0,
    )
    gan.compile()
    untrained = helpers.pixel_frechet_distance(images, gan.generate(1000, seed=0))
    gan.fit(images, batch_size=64, epochs=20, verbose=0)
    trained = helpers.pixel_frechet_distance(images, gan.generate(1000, seed=0))
    assert trained < 0.5 * untrained, (untrained, trained)
