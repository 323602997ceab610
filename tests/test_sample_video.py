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
