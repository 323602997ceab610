"""Mixed precision: every family's step under `mixed_bfloat16` and `mixed_float16`.

Under `mixed_float16` each network's optimizer is a `LossScaleOptimizer` (its own
dynamic loss scale), saved and restored with the model.
"""

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans.hub import card
from tests import helpers
from tests.test_cyclegan import TINY as CYCLEGAN
from tests.test_cyclegan import domains
from tests.test_pix2pix import TINY as PIX2PIX
from tests.test_pix2pix import TINY_D, pairs
from tests.test_r3gan import TINY as R3GAN
from tests.test_stylegan2 import TINY as STYLEGAN2
from tests.test_stylegan3 import TINY as STYLEGAN3


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def _scale(optimizer):
    return float(keras.ops.convert_to_numpy(optimizer.dynamic_scale))


def check_trains_saves_and_loads(model, data, batch_size, tmp_path, outputs):
    """Fits two epochs, checks finite float32 results, and the loaded model's outputs."""
    policy = keras.mixed_precision.global_policy().name
    assert model.dtype_policy.name == policy
    model.compile()
    optimizers = model.optimizer.optimizers
    scaled = policy == "mixed_float16"
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) == scaled for o in optimizers)
    history = model.fit(data, batch_size=batch_size, epochs=2, verbose=0)
    for key, values in history.history.items():
        assert np.isfinite(values).all(), key
    images = outputs(model)
    assert images.dtype == np.float32 and np.isfinite(images).all()
    if getattr(model, "ema_generator", None) is not None:
        assert all(w.dtype == "float32" for w in model.ema_generator.weights)
    settings = card.training_settings(model)
    assert settings["precision"] == policy
    assert settings["generator_optimizer"].endswith("with dynamic loss scaling") == scaled
    if scaled:  # give each scale a value of its own: restored per network, not reset
        for i, optimizer in enumerate(optimizers):
            optimizer.dynamic_scale.assign(2.0 ** (5 + i))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(outputs(loaded), images, atol=1e-2)
    if scaled:
        assert [_scale(o) for o in loaded.optimizer.optimizers] == [
            2.0 ** (5 + i) for i in range(len(optimizers))
        ]
    return model


GAN_CASES = {
    "dcgan_gp": ("mixed_bfloat16", "DCGAN", dict(gp_weight=1.0)),
    "dcgan_r1_diffaugment_ema": (
        "mixed_bfloat16",
        "DCGAN",
        dict(r1_weight=1.0, augment="diffaugment", ema_decay=0.9),
    ),
    "acgan": ("mixed_bfloat16", "ConditionalGAN", dict(conditioning="acgan")),
    "wgan_gp": ("mixed_bfloat16", "WGANGP", {}),
    "gan": ("mixed_bfloat16", "GAN", {}),
    "float16_dcgan_gp_simultaneous": (
        "mixed_float16",
        "DCGAN",
        dict(gp_weight=1.0, update="simultaneous"),
    ),
    "float16_acgan_ema": (
        "mixed_float16",
        "ConditionalGAN",
        dict(conditioning="acgan", ema_decay=0.9),
    ),
}


@pytest.mark.parametrize(
    "case, policy", [(case, GAN_CASES[case][0]) for case in GAN_CASES], indirect=["policy"]
)
def test_gan_family_steps_are_finite_and_images_float32(case, policy, tmp_path):
    _, name, options = GAN_CASES[case]
    model = helpers.make_model(name, **options)
    assert model.generator.trainable_weights[0].dtype == "float32"  # float32 master weights
    check_trains_saves_and_loads(
        model, helpers.training_data(model, 32), 16, tmp_path, helpers.generate_some
    )


# One policy per family keeps JAX's compile time in budget; the dtype bugs these catch
# (a float32 constant meeting a float16/bfloat16 tensor) show under either policy.
@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_stylegan2_with_both_lazy_penalties(policy, tmp_path):
    model = keras_gans.StyleGAN2(**{**STYLEGAN2, "ema_decay": 0.9})
    check_trains_saves_and_loads(
        model, helpers.training_data(model, 16), 8, tmp_path, helpers.generate_some
    )


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_stylegan3_r_with_its_blur_and_magnitude_ema(policy, tmp_path):
    model = keras_gans.StyleGAN3(**{**STYLEGAN3, "config": "r", "ema_decay": 0.9})
    check_trains_saves_and_loads(
        model, helpers.training_data(model, 16), 8, tmp_path, helpers.generate_some
    )


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_r3gan_with_r1_and_r2(policy, tmp_path):
    model = keras_gans.R3GAN(**R3GAN)
    check_trains_saves_and_loads(
        model, helpers.training_data(model, 16), 8, tmp_path, helpers.generate_some
    )


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_pix2pix(policy, tmp_path):
    # Its one-filter PatchGAN output once failed torch's CPU float16 weight gradient.
    model = keras_gans.Pix2Pix(**PIX2PIX, **TINY_D)
    sources = pairs(2, seed=1)[0]
    check_trains_saves_and_loads(model, pairs(8), 4, tmp_path, lambda m: m.translate(sources))


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_cyclegan(policy, tmp_path):
    model = keras_gans.CycleGAN(**CYCLEGAN)
    images_a = domains(2, 2)[0]
    check_trains_saves_and_loads(
        model, domains(4, 4), 4, tmp_path, lambda m: m.translate(images_a, direction="a_to_b")
    )


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_an_overflowing_float16_step_is_skipped_and_halves_that_network_scale(policy):
    # A scale of 2^40 makes every scaled gradient overflow float16: both updates must be
    # skipped (weights as they were) and each network's scale halved, independently.
    model = helpers.make_model("DCGAN")
    model.compile(
        d_optimizer=keras.optimizers.LossScaleOptimizer(
            keras.optimizers.Adam(1e-3), initial_scale=2.0**40
        ),
        g_optimizer=keras.optimizers.LossScaleOptimizer(
            keras.optimizers.Adam(1e-3), initial_scale=1.0
        ),
    )
    before = helpers.weights_of(model.discriminator)
    generator_before = helpers.weights_of(model.generator)
    model.fit(helpers.training_data(model, 16), batch_size=16, epochs=1, verbose=0)
    assert _scale(model.d_optimizer) == 2.0**39
    for old, new in zip(before, helpers.weights_of(model.discriminator)):
        np.testing.assert_array_equal(old, new)
    assert _scale(model.g_optimizer) == 1.0  # finite: kept, and the generator trained
    changed = [
        not np.array_equal(old, new)
        for old, new in zip(generator_before, helpers.weights_of(model.generator))
    ]
    assert any(changed)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 1


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_each_loss_is_scaled_once_by_its_own_optimizer(policy, update):
    # With SGD an update is proportional to the gradient it applies: a loss scaled by the
    # wrong optimizer, twice or not at all would move the weights 2^4-2^10 times too far
    # or too short. Different scales must give the same step, gradient penalty included.
    def one_step(d_scale, g_scale):
        keras.utils.set_random_seed(0)
        model = helpers.make_model("DCGAN", update=update, gp_weight=1.0, seed=0)
        model.compile(
            d_optimizer=keras.optimizers.LossScaleOptimizer(
                keras.optimizers.SGD(0.1), initial_scale=d_scale
            ),
            g_optimizer=keras.optimizers.LossScaleOptimizer(
                keras.optimizers.SGD(0.1), initial_scale=g_scale
            ),
        )
        before = helpers.weights_of(model)
        data = helpers.training_data(model, 16)
        model.fit(data, batch_size=16, epochs=1, verbose=0, shuffle=False)
        assert [_scale(model.d_optimizer), _scale(model.g_optimizer)] == [d_scale, g_scale]
        return [after - old for after, old in zip(helpers.weights_of(model), before)]

    reference = one_step(1.0, 1.0)
    assert max(np.abs(delta).max() for delta in reference) > 1e-3  # the step moved weights
    for got, want in zip(one_step(2.0**10, 2.0**4), reference):
        np.testing.assert_allclose(got, want, rtol=0.05, atol=2e-4)


@pytest.mark.slow
@pytest.mark.spread_across_backends  # a learning test: one backend of a run
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
def test_a_mixed_precision_gan_still_learns(digits, policy):
    # A small dense GAN: half-precision kernels are slow on CPUs (torch's above all).
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


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_converted_stylegan2_in_half_precision_only_at_num_fp16_res(policy):
    # NVIDIA runs the num_fp16_res highest resolutions in float16 (weights and styles
    # pre-normalised, activations clamped); the rest, and the epilogue, in float32.
    path = helpers.shared_fixture("stylegan2-ada/uncond64-rgb.pkl")
    model = keras_gans.StyleGAN2.from_nvlabs(path, num_fp16_res=2)
    synthesis = model.generator.get_layer("synthesis")
    dtypes = {layer.name: layer.compute_dtype for layer in synthesis._flatten_layers()}
    assert dtypes["b64_conv1"] == dtypes["b32_conv1"] == "float16"
    assert dtypes["b16_conv1"] == dtypes["b4_conv1"] == "float32"
    discriminator = {layer.name: layer.compute_dtype for layer in model.discriminator.layers}
    assert discriminator["b64_conv0"] == "float16" and discriminator["b16_conv0"] == "float32"
    assert discriminator["b4_fc"] == "float32"
    reference = np.load(path.replace(".pkl", "-reference.npz"))
    images = model.generate(latent=reference["z"])
    assert images.dtype == np.float32
    expected = np.clip(np.transpose(reference["images_const"], (0, 2, 3, 1)), -1, 1)
    # float16 rounding only: close to NVIDIA's float32 images
    assert np.abs(images - expected).mean() < 0.01
