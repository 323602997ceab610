"""StyleGAN3: NVIDIA's pickles converted exactly, the filtered leaky ReLU in closed form, fit.

The fixtures in `../shared/fixtures/stylegan3/` were written by NVIDIA's own code with
random weights, together with NVIDIA's outputs for them (their README says which).
"""

import json

import numpy as np
import pytest
import scipy.signal
from keras import ops

import keras_gans
from keras_gans.convert import presets
from keras_gans.convert import stylegan3 as nvlabs
from keras_gans.convert.pickle_reader import NetworkPickleError
from keras_gans.networks import stylegan3 as networks
from keras_gans.networks.filtered_lrelu import filtered_lrelu, upfirdn
from keras_gans.objective import stylegan3 as objective
from tests import helpers
from tests.http_fixtures import serve_files
from tests.hub_fixtures import HUB_TOKEN
from tests.test_case import GANTestCase

FIXTURES = ("t32-rgb", "r32-cond")
TINY = dict(
    image_shape=(8, 8, 1),
    latent_dim=8,
    channel_base=64,
    channel_max=8,
    num_layers=3,
    num_critical=1,
    margin_size=2,
    d_channel_base=32,
    d_channel_max=8,
    r1_interval=2,  # the lazy R1 runs within the test's few steps
    seed=0,
)


def fixture(name):
    """`(pickle path, NVIDIA's reference outputs)` of a shared StyleGAN3 fixture."""
    path = helpers.shared_fixture(f"stylegan3/{name}.pkl")
    return path, np.load(path.replace(".pkl", "-reference.npz"))


def nhwc(images):
    return np.transpose(images, (0, 2, 3, 1))


def class_ids(reference):
    return reference["c"].argmax(axis=1).astype("int32") if reference["c"].size else None


def numpy(x):
    return ops.convert_to_numpy(x)


# NVIDIA's pickles -------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_converted_networks_equal_nvidias(name):
    path, reference = fixture(name)
    model = keras_gans.StyleGAN3.from_nvlabs(path)
    z, labels = reference["z"], class_ids(reference)
    assert model.num_classes == (reference["c"].shape[1] or None)
    translate = (0.25, -0.125)  # the README's input transform (gen_images --translate)
    np.testing.assert_allclose(
        networks.input_transform(translate), reference["input_transform"], atol=1e-7
    )
    cases = {  # images_const: below, unclipped
        "images_psi07_const": {"truncation_psi": 0.7},
        "images_translated": {"translate": translate},
    }
    for key, options in cases.items():
        images = model.generate(latent=z, labels=labels, **options)
        expected = np.clip(nhwc(reference[key]), -1.0, 1.0)
        np.testing.assert_allclose(images, expected, atol=1e-3, rtol=0, err_msg=key)
    inputs = z if labels is None else [z, labels]
    w = numpy(model.ema_generator.get_layer("mapping")(inputs))
    np.testing.assert_allclose(w, reference["ws"][:, 0], atol=1e-4, rtol=0)
    truncated = numpy(model.w_avg) + 0.7 * (w - numpy(model.w_avg))
    np.testing.assert_allclose(truncated, reference["ws_psi07"][:, 0], atol=1e-4, rtol=0)
    # NVIDIA's ws through the synthesis network: the raw (unclipped) images
    raw = numpy(model.ema_generator.get_layer("synthesis")(reference["ws"]))
    np.testing.assert_allclose(raw, nhwc(reference["images_const"]), atol=1e-3, rtol=0)
    real = nhwc(reference["images_const"])
    logits = model.discriminator(real if labels is None else [real, labels])
    np.testing.assert_allclose(numpy(logits), reference["d_logits"], atol=1e-3, rtol=0)


def test_a_new_model_has_nvidias_layout_and_filters():
    # Built from the pickles' settings (not loaded), the layers, filters and frequency
    # bands are those NVIDIA's code designed: nothing is read from the files here.
    for name in FIXTURES:
        path, _ = fixture(name)
        converted = nvlabs.read_stylegan3(path)
        model = keras_gans.StyleGAN3(**converted.options)
        synthesis = model.generator.get_layer("synthesis")
        record = converted.ema_generator.child("synthesis")
        assert synthesis.layer_names == list(record.attributes["layer_names"])
        assert model.num_ws == record.attributes["num_ws"]
        for layer in synthesis.synthesis_layers:
            buffers = record.child(layer.name).buffers
            for role in ("up_filter", "down_filter"):
                ours = getattr(layer, role)
                assert (ours is None) == (role not in buffers), (name, layer.name, role)
                if ours is not None:
                    np.testing.assert_allclose(numpy(ours), buffers[role], atol=1e-6)
        fourier = synthesis.fourier_input
        radii = np.linalg.norm(numpy(fourier.freqs), axis=1)
        assert radii.max() <= record.child("input").attributes["bandwidth"] + 1e-6
        assert np.abs(numpy(fourier.phases)).max() <= 0.5


def test_the_pickles_architecture_is_recorded():
    path, _ = fixture("r32-cond")
    model = keras_gans.StyleGAN3.from_nvlabs(path)
    config = model.get_config()
    assert (config["config"], config["conv_kernel"], config["use_radial_filters"]) == ("r", 1, True)
    assert (config["channel_base"], config["channel_max"]) == (2048, 64)
    assert (config["d_channel_base"], config["d_channel_max"]) == (1024, 32)
    assert config["magnitude_ema_beta"] == pytest.approx(0.5 ** (32 / 20000))
    assert config["num_classes"] == 4 and config["blur_init_sigma"] == 0.0
    assert config["pretrained_source"]["classes"] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="come from the pickle"):
        keras_gans.StyleGAN3.from_nvlabs(path, conv_kernel=3)


def test_bad_pickles_are_refused_in_one_line():
    sg2 = helpers.shared_fixture("stylegan2-ada/cond32-rgb.pkl")
    with pytest.raises(NetworkPickleError, match="StyleGAN2 generator"):
        nvlabs.read_stylegan3(sg2)
    path, _ = fixture("t32-rgb")
    converted = nvlabs.read_stylegan3(path)
    layer = converted.ema_generator.child("synthesis.L3_36_32")
    layer.attributes["padding"] = [0, 0, 0, 0]
    with pytest.raises(NetworkPickleError, match=r"L3_36_32\.padding"):
        nvlabs.generator_options(converted.ema_generator)


@pytest.mark.spread_across_backends
def test_names_of_nvidias_pickles_convert_with_their_license(tmp_path, monkeypatch):
    assert len(presets.NVLABS_STYLEGAN3) == 12
    preset = presets.lookup("nvlabs:stylegan3-r-afhqv2-512")
    assert preset["url"].endswith("/stylegan3-r-afhqv2-512x512.pkl") and preset["resolution"] == 512
    assert (
        "StyleGAN3" in preset["license"]["name"] and "non-commercial" in preset["license"]["terms"]
    )
    path, reference = fixture("t32-rgb")
    with serve_files({"/t32.pkl": open(path, "rb").read()}) as server:
        stand_in = {**presets.NVLABS_STYLEGAN3["nvlabs:stylegan3-t-ffhqu-256"],
                    "url": f"{server.url}/t32.pkl", "resolution": 32}  # fmt: skip
        monkeypatch.setitem(presets.PRESETS, "nvlabs:stylegan3-fixture", stand_in)
        monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
        model = keras_gans.StyleGAN3.from_nvlabs("nvlabs:stylegan3-fixture")
    source = model.pretrained_source
    assert source["name"] == "nvlabs:stylegan3-fixture" and source["license"] == presets.SG3_LICENSE
    expected = np.clip(nhwc(reference["images_const"]), -1, 1)
    np.testing.assert_allclose(model.generate(latent=reference["z"]), expected, atol=1e-3)


# Input transform --------------------------------------------------------------------


def test_the_input_rotates_and_translates_the_sinusoids_exactly():
    layer = networks.FourierInput(w_dim=8, channels=16, size=12, sampling_rate=8, bandwidth=2)
    layer.build()
    w = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    base = numpy(layer(w))
    # rotate=90: the features turn counter-clockwise on the (symmetric) pixel grid
    rotated = numpy(layer(w, transform=networks.input_transform(rotate=90)))
    np.testing.assert_allclose(rotated, np.rot90(base, 1, axes=(1, 2)), atol=1e-5)
    # One sample (1 / sampling_rate) to the right, then down
    moved = numpy(layer(w, transform=networks.input_transform(translate=(1 / 8, 0))))
    np.testing.assert_allclose(moved[:, :, 1:], base[:, :, :-1], atol=1e-5)
    moved = numpy(layer(w, transform=networks.input_transform(translate=(0, 1 / 8))))
    np.testing.assert_allclose(moved[:, 1:], base[:, :-1], atol=1e-5)


def test_generate_takes_translate_rotate_and_noise_mode():
    model = keras_gans.StyleGAN3("r", **{**TINY, "num_classes": 3})
    z, labels = model.sample_latent(2, seed=0), np.array([0, 2])
    plain = model.generate(latent=z, labels=labels)
    for options in (
        {"translate": (0, 0)},
        {"rotate": 0},
        {"rotate": 360},
        {"noise_mode": "random"},
    ):
        np.testing.assert_allclose(model.generate(latent=z, labels=labels, **options), plain,
                                   atol=1e-5, err_msg=str(options))  # fmt: skip
    turned = model.generate(latent=z, labels=labels, rotate=45, truncation_psi=0.5)
    assert turned.shape == plain.shape and not np.allclose(turned, plain, atol=1e-3)
    with pytest.raises(ValueError, match="noise_mode"):
        model.generate(latent=z, labels=labels, noise_mode="loud")
    with pytest.raises(ValueError, match="translate"):
        model.generate(latent=z, labels=labels, translate=(0.1,))


# The filtered leaky ReLU ------------------------------------------------------------


def reference_upfirdn(x, f, up, down, padding, gain):
    """NVIDIA's documented upfirdn2d steps on NHWC NumPy arrays (scipy's convolution)."""
    px0, px1, py0, py1 = padding
    f = np.ones((1, 1)) if f is None else np.asarray(f, "float64")
    f = (np.outer(f, f) if f.ndim == 1 else f) * gain
    batch, height, width, channels = x.shape
    upsampled = np.zeros((batch, height * up, width * up, channels))
    upsampled[:, ::up, ::up] = x  # up - 1 zeros after each sample
    padded = np.pad(upsampled, [(0, 0), (max(py0, 0), max(py1, 0)), (max(px0, 0), max(px1, 0)),
                                (0, 0)])  # fmt: skip
    padded = padded[:, max(-py0, 0) : padded.shape[1] - max(-py1, 0),
                    max(-px0, 0) : padded.shape[2] - max(-px1, 0)]  # fmt: skip
    out = np.stack([np.stack([scipy.signal.convolve2d(image[..., c], f, mode="valid")
                              for c in range(channels)], -1) for image in padded])  # fmt: skip
    return out[:, ::down, ::down]


def test_filtered_lrelu_is_nvidias_documented_sequence():
    rng = np.random.default_rng(0)
    cases = [  # up, down, up taps, down taps (2-D: radial), padding
        (2, 2, 12, 12, (11, 10, 11, 10)),
        (4, 2, 24, (12, 12), (15, 14, 17, 12)),
        (1, 1, 1, 1, (0, 0, 0, 0)),
        (2, 1, 5, 3, (-1, 3, 2, -2)),
        (1, 4, 3, (6, 6), (3, 4, 1, 0)),
    ]
    for up, down, up_taps, down_taps, padding in cases:
        x = rng.standard_normal((2, 9, 9, 3)).astype("float32") * 4
        fu = rng.standard_normal(up_taps).astype("float32") if up_taps > 1 else None
        shape = down_taps if isinstance(down_taps, tuple) else (down_taps,)
        fd = rng.standard_normal(shape).astype("float32") if shape != (1,) else None
        bias = rng.standard_normal(3).astype("float32")
        got = numpy(filtered_lrelu(x, fu, fd, bias, up, down, padding, gain=1.5, slope=0.2,
                                   clamp=3.0))  # fmt: skip
        # bias; upsample (gain up^2) and pad; leaky ReLU times gain; clamp; downsample
        y = reference_upfirdn(x + bias, fu, up, 1, padding, up * up)
        y = np.clip(np.where(y >= 0, y, 0.2 * y) * 1.5, -3.0, 3.0)
        expected = reference_upfirdn(y, fd, 1, down, (0, 0, 0, 0), 1.0)
        width_up, width_down = len(fu) if fu is not None else 1, shape[-1] if fd is not None else 1
        size = 9 * up + padding[0] + padding[1] - (width_up - 1) - (width_down - 1) + down - 1
        assert got.shape == expected.shape == (2, expected.shape[1], size // down, 3)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4, err_msg=str(padding))


def test_filtered_lrelu_in_closed_form():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32") * 3
    bias = rng.standard_normal(4).astype("float32")
    activated = np.clip(np.where(x + bias >= 0, x + bias, 0.2 * (x + bias)) * 2.0, -2.5, 2.5)
    # No filters: bias, leaky ReLU, gain and clamp only
    plain = filtered_lrelu(x, bias=bias, gain=2.0, slope=0.2, clamp=2.5)
    np.testing.assert_allclose(numpy(plain), activated, atol=1e-6)
    box = np.array([0.5, 0.5], "float32")
    # A box filter upsamples by repeating each sample (gain up^2 keeps the magnitude)...
    repeated = numpy(upfirdn(x, box, up=2, padding=(1, 0, 1, 0), gain=4))
    np.testing.assert_allclose(repeated, x.repeat(2, axis=1).repeat(2, axis=2), atol=1e-6)
    # ... and downsamples by averaging 2x2 blocks, separable or as one 2-D filter
    averaged = x.reshape(2, 3, 2, 3, 2, 4).mean(axis=(2, 4))
    np.testing.assert_allclose(numpy(upfirdn(x, box, down=2)), averaged, atol=1e-6)
    np.testing.assert_allclose(numpy(upfirdn(x, np.full((2, 2), 0.25), down=2)), averaged,
                               atol=1e-6)  # fmt: skip
    # Up by repetition, activate, average back down: the activation of each sample
    round_trip = filtered_lrelu(x, box, np.full((2, 2), 0.25, "float32"), bias, up=2, down=2,
                                padding=(1, 0, 1, 0), gain=2.0, slope=0.2, clamp=2.5)  # fmt: skip
    np.testing.assert_allclose(numpy(round_trip), activated, atol=1e-5)
    with pytest.raises(ValueError, match="up"):
        filtered_lrelu(x, up=0)
    with pytest.raises(ValueError, match="padding"):
        filtered_lrelu(x, padding=(1, 2, 3))


# Training pieces --------------------------------------------------------------------


def test_the_discriminators_blur_is_nvidias_gaussian():
    image = np.zeros((1, 15, 15, 1), "float32")
    image[0, 7, 7, 0] = 1.0
    blurred = numpy(objective.blur(image, 1.0, max_sigma=2.0))
    taps = 2.0 ** -(np.arange(-3, 4) ** 2.0)  # 2^-(k / sigma)^2, |k| <= 3 sigma
    taps /= taps.sum()
    expected = np.zeros((15, 15))
    expected[4:11, 4:11] = np.outer(taps, taps)
    np.testing.assert_allclose(blurred[0, :, :, 0], expected, atol=1e-6)
    np.testing.assert_allclose(numpy(objective.blur(image, 0.3, max_sigma=2.0)), image, atol=1e-7)
    model = keras_gans.StyleGAN3("r", **{**TINY, "blur_fade_kimg": 0.1})
    assert model.blur_init_sigma == 10.0 and float(objective.blur_sigma(model)) == 10.0
    model.images_seen.assign(25.0)
    assert float(objective.blur_sigma(model)) == pytest.approx(7.5)  # (1 - 25 / 100) * 10
    model.images_seen.assign(250.0)
    assert float(objective.blur_sigma(model)) == 0.0
    assert keras_gans.StyleGAN3("t", **TINY).blur_init_sigma == 0.0


def test_magnitude_ema_tracks_the_layers_input():
    model = keras_gans.StyleGAN3("t", **{**TINY, "magnitude_ema_beta": 0.75})
    synthesis = model.generator.get_layer("synthesis")
    ws = np.random.default_rng(0).standard_normal((3, model.num_ws, 8)).astype("float32")
    features = numpy(synthesis.fourier_input(ws[:, 0]))
    first = synthesis.synthesis_layers[0]
    before = numpy(synthesis(ws))
    np.testing.assert_allclose(numpy(synthesis(ws)), before)  # no update outside training
    synthesis(ws, update_emas=True)
    # ema <- lerp(mean(x^2), ema, beta), from 1
    magnitude = np.mean(np.square(features))
    assert float(first.magnitude_ema) == pytest.approx(magnitude + 0.75 * (1 - magnitude), rel=1e-5)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="config"):
        keras_gans.StyleGAN3("s", **TINY)
    with pytest.raises(ValueError, match="square"):
        keras_gans.StyleGAN3("t", **{**TINY, "image_shape": (8, 16, 1)})
    with pytest.raises(ValueError, match="num_layers"):
        keras_gans.StyleGAN3("t", **{**TINY, "num_critical": 3})


class TestStyleGAN3(GANTestCase):
    model_class = keras_gans.StyleGAN3
    init_kwargs = TINY

    def test_fit_save_portability(self, tmp_path):
        # One compiled step keeps JAX's compile time in budget: R, class-conditional, with
        # ADA and a blur that fades within the 64 images the test trains on.
        model = self.run_gan_test(
            expected_image_shape=(8, 8, 1),
            init_kwargs=dict(
                config="r",
                num_classes=3,
                ada_target=0.6,
                ada_kimg=0.1,
                blur_init_sigma=2.0,
                blur_fade_kimg=0.04,
            ),  # fmt: skip
        )
        assert float(model.images_seen) == 64.0 and float(objective.blur_sigma(model)) == 0.0
        assert 0.0 <= float(model.ada.p) <= 1.0 and np.abs(numpy(model.w_avg)).sum() > 0
        # Magnitude averages moved in training; the EMA generator copies them (NVIDIA's buffers).
        layers = model.generator.get_layer("synthesis").synthesis_layers
        ema_layers = model.ema_generator.get_layer("synthesis").synthesis_layers
        assert all(float(layer.magnitude_ema) != 1.0 for layer in layers)
        for layer, ema in zip(layers, ema_layers):
            assert float(ema.magnitude_ema) == float(layer.magnitude_ema)
        labels = [0, 1, 2]
        collapsed = model.generate(labels=[1, 1, 1], seed=1, truncation_psi=0.0)
        np.testing.assert_allclose(collapsed, np.broadcast_to(collapsed[:1], (3, 8, 8, 1)),
                                   atol=1e-5)  # fmt: skip
        moved = model.generate(labels=labels, seed=1, translate=(0.25, 0.0), rotate=20)
        assert not np.allclose(moved, model.generate(labels=labels, seed=1))
        loaded = self.run_saving_test(model, tmp_path)
        np.testing.assert_allclose(
            loaded.generate(labels=labels, seed=1, translate=(0.25, 0.0), rotate=20), moved,
            atol=1e-6,
        )  # fmt: skip
        # Saved here, loaded on the other backends: the same images, transformed or not (one
        # interpreter per backend for run_portability_test's check and this one).
        path = tmp_path / "portable.keras"
        model.save(path)
        expected = {"plain": helpers.generate_some(model, 4), "moved": moved}
        code = (
            "import json, keras, keras_gans\n"
            "from tests import helpers\n"
            f"model = keras.saving.load_model({str(path)!r})\n"
            "out = {'plain': helpers.generate_some(model, 4), 'moved': model.generate(\n"
            "       labels=[0, 1, 2], seed=1, translate=(0.25, 0.0), rotate=20)}\n"
            "print(json.dumps({k: v.tolist() for k, v in out.items()}))\n"
        )
        for backend in helpers.BACKENDS:
            if backend != helpers.BACKEND:
                output = json.loads(helpers.run_python(code, backend).strip().splitlines()[-1])
                for key, images in expected.items():
                    np.testing.assert_allclose(output[key], images, atol=1e-4,
                                               err_msg=f"{key} on {backend}")  # fmt: skip

    def test_hub_round_trip(self, hub, hub_repo_id):
        model = self.make(config="t")
        model.compile()
        self.run_hub_round_trip(model, hub_repo_id, HUB_TOKEN)
