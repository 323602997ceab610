"""Exploring generators: interpolation, style mixing, projection and videos, on every backend."""

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans.images import save_video
from keras_gans.models.explore import slerp
from keras_gans.models.projection import w_statistics
from tests import helpers
from tests.test_stylegan2 import TINY as STYLEGAN2


@pytest.fixture(scope="module")
def stylegan():
    """A converted NVIDIA fixture: 64x64, 10 ws, real noise maps."""
    return keras_gans.StyleGAN2.from_nvlabs(
        helpers.shared_fixture("stylegan2-ada/uncond64-rgb.pkl")
    )


def test_slerp_keeps_the_norm_between_unit_vectors():
    rng = np.random.default_rng(0)
    a, b = (v / np.linalg.norm(v) for v in rng.standard_normal((2, 1, 16)))
    path = slerp(a, b, np.linspace(0, 1, 7))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(path[0], a[0], atol=1e-12)
    np.testing.assert_allclose(path[-1], b[0], atol=1e-12)


def test_interpolation_ends_at_the_seeds_images_in_z_and_w(stylegan):
    for space in ("z", "w"):
        frames = keras_gans.interpolate(stylegan, 3, 7, steps=4, space=space, truncation_psi=0.7)
        assert frames.shape == (4, 64, 64, 3) and frames.dtype == np.float32
        np.testing.assert_allclose(frames[0], stylegan.generate(1, seed=3, truncation_psi=0.7)[0],
                                   atol=1e-5)  # fmt: skip
        np.testing.assert_allclose(frames[-1], stylegan.generate(1, seed=7, truncation_psi=0.7)[0],
                                   atol=1e-5)  # fmt: skip
        assert not np.allclose(frames[1], frames[0]) and not np.allclose(frames[1], frames[-1])
    latent = stylegan.sample_latent(2, seed=11)
    frames = keras_gans.interpolate(stylegan, latent[0], latent[1], steps=3)
    np.testing.assert_allclose(frames[[0, 2]], stylegan.generate(latent=latent), atol=1e-5)


def test_interpolation_on_other_families_and_between_classes():
    dcgan = helpers.make_model("DCGAN")
    frames = keras_gans.interpolate(dcgan, 0, 1, steps=3)
    np.testing.assert_allclose(frames[-1], dcgan.generate(1, seed=1)[0], atol=1e-6)
    with pytest.raises(ValueError, match="space='w'"):
        keras_gans.interpolate(dcgan, 0, 1, space="w")
    cgan = helpers.make_model("ConditionalGAN")
    frames = keras_gans.interpolate(cgan, 0, 1, steps=3, labels=2)
    np.testing.assert_allclose(frames[0], cgan.generate(labels=[2], seed=0)[0], atol=1e-6)
    with pytest.raises(ValueError, match="labels"):
        keras_gans.interpolate(cgan, 0, 1)
    with pytest.raises(ValueError, match="space='w'"):
        keras_gans.interpolate(cgan, 0, 1, labels=0, end_labels=1)
    conditional = keras_gans.StyleGAN2(**{**STYLEGAN2, "num_classes": 3})
    frames = keras_gans.interpolate(conditional, 0, 1, steps=3, space="w", labels=0,
                                    end_labels=2)  # fmt: skip
    np.testing.assert_allclose(frames[0], conditional.generate(labels=[0], seed=0)[0], atol=1e-5)
    np.testing.assert_allclose(frames[-1], conditional.generate(labels=[2], seed=1)[0], atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        keras_gans.interpolate(dcgan, 0, 1, steps=1)


def test_style_mixing_takes_the_columns_layers(stylegan):
    grid = stylegan.mix_styles([1, 2], [5, 6, 7], layers=range(4))
    assert grid.shape == (2, 3, 64, 64, 3)
    # All layers from the column: the column's own image; none would be the row's.
    every = stylegan.mix_styles([1], [5, 6], layers=range(stylegan.num_ws))
    columns = np.concatenate([stylegan.generate(1, seed=5), stylegan.generate(1, seed=6)])
    np.testing.assert_allclose(every[0], columns, atol=1e-5)
    assert not np.allclose(grid[0, 0], stylegan.generate(1, seed=1)[0])
    assert not np.allclose(grid[0, 0], grid[1, 0])
    with pytest.raises(ValueError, match="layers"):
        stylegan.mix_styles([1], [2], layers=[stylegan.num_ws])


def test_projection_finds_a_generated_image(stylegan):
    target = stylegan.generate(1, seed=5)
    start, _ = w_statistics(stylegan, samples=200)
    start_images = stylegan.ws_to_images(np.repeat(start, stylegan.num_ws, axis=1))
    seen = []
    result = stylegan.project(target, steps=25, w_avg_samples=200,
                              progress=lambda i, step, steps, loss: seen.append(step))  # fmt: skip
    assert result["ws"].shape == (1, stylegan.num_ws, stylegan.w_dim)
    assert result["images"].shape == (1, 64, 64, 3) and seen == list(range(1, 26))
    assert result["distance"][0] < 0.6 * np.mean((start_images - target) ** 2)
    assert np.isfinite(result["images"]).all()


def test_projection_with_a_stand_in_feature_network():
    gan = keras_gans.StyleGAN2(**{**STYLEGAN2, "image_shape": (16, 16, 3)})
    features = keras.Sequential([keras.Input((16, 16, 3)),
                                 keras.layers.Conv2D(4, 3, strides=2, use_bias=False),
                                 keras.layers.Flatten()])  # fmt: skip
    target = gan.generate(1, seed=2)
    result = gan.project(target, steps=5, features=features, w_avg_samples=100)
    assert result["distance"].shape == (1,) and np.isfinite(result["distance"]).all()
    with pytest.raises(ValueError, match="shape"):
        gan.project(np.zeros((1, 8, 8, 3), "float32"), steps=2)


def test_videos(tmp_path):
    frames = np.linspace(-1, 1, 5 * 8 * 6 * 3, dtype="float32").reshape(5, 8, 6, 3)
    for name in ("walk.gif", "walk.webp"):
        path = save_video(frames, tmp_path / name, fps=10)
        with Image.open(path) as video:
            assert video.n_frames == 5 and video.size == (6, 8)
    mp4 = save_video(frames, tmp_path / "walk.mp4", fps=10)
    import imageio.v2 as imageio

    reader = imageio.get_reader(mp4)
    assert reader.count_frames() == 5 and reader.get_data(0).shape == (8, 6, 3)
    reader.close()
    with pytest.raises(ValueError, match="must end in"):
        save_video(frames, tmp_path / "walk.avi")
    with pytest.raises(ValueError, match="empty"):
        save_video([], tmp_path / "walk.gif")
