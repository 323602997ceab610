"""`keras-gans sample MODEL --video`: walks through seeds, and StyleGAN3's moving input."""

import numpy as np
import pytest
from PIL import Image

from keras_gans import cli
from keras_gans.images import to_uint8
from tests import helpers

pytestmark = pytest.mark.spread_across_backends


def test_a_walk_through_seeds_starts_and_ends_at_their_images(tmp_path, capsys):
    model = helpers.make_model("DCGAN")
    model.save(tmp_path / "dcgan.keras")
    out = tmp_path / "walk.gif"
    argv = ["sample", str(tmp_path / "dcgan.keras"), "--video", str(out), "--seeds", "3,4,5"]
    assert cli.main([*argv, "--frames", "9"]) == 0
    assert "9-frame video" in capsys.readouterr().out
    with Image.open(out) as video:
        assert video.n_frames == 9
        first = np.asarray(video.convert("L"))
        video.seek(video.n_frames - 1)
        last = np.asarray(video.convert("L"))
    np.testing.assert_array_equal(first, to_uint8(model.generate(1, seed=3))[0, ..., 0])
    np.testing.assert_array_equal(last, to_uint8(model.generate(1, seed=5))[0, ..., 0])
    assert cli.main([*argv, "--rotate", "30"]) == 1
    assert "StyleGAN3's input" in capsys.readouterr().err
    assert cli.main([*argv[:4], "--seeds", "3"]) == 1
    assert "at least two seeds" in capsys.readouterr().err


def test_stylegan3_pickles_convert_sample_and_turn_through_the_cli(tmp_path, capsys):
    import keras_gans

    path = helpers.shared_fixture("stylegan3/t32-rgb.pkl")
    assert isinstance(keras_gans.from_nvlabs(path), keras_gans.StyleGAN3)
    out = tmp_path / "converted"
    assert cli.main(["convert", path, "--out", str(out)]) == 0
    assert "StyleGAN3 32x32x3" in capsys.readouterr().out
    assert isinstance(keras_gans.from_pretrained(str(out)), keras_gans.StyleGAN3)
    video = tmp_path / "turn.gif"
    argv = ["sample", path, "--video", str(video), "--rotate", "90", "--frames", "5"]
    assert cli.main([*argv, "--translate-x", "0.25"]) == 0
    model = keras_gans.StyleGAN3.from_nvlabs(path)
    with Image.open(video) as frames:
        frames.seek(4)
        last = np.asarray(frames.convert("RGB"))
    expected = to_uint8(model.generate(1, seed=0, translate=(0.25, 0.0), rotate=90))[0]
    # GIF frames are palette-quantised: close to, not equal to, the image
    assert np.abs(last.astype(int) - expected.astype(int)).mean() < 12
