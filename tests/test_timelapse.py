"""Tests of the Timelapse callback and make_timelapse."""

import os

import keras
import numpy as np
import pytest
from PIL import Image, ImageSequence

import keras_gans
from keras_gans.callbacks import ImageGrid, Timelapse, make_timelapse
from keras_gans.images import save_image

# callback plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

IMAGES = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")


def _frames(path):
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        return [
            (np.asarray(frame.convert("L")), frame.info.get("duration"))
            for frame in ImageSequence.Iterator(gif)
        ], gif.info.get("loop")


def test_make_timelapse_from_a_directory_sorted_by_name(tmp_path):
    for name, value in [("epoch_0003", 30), ("epoch_0001", 10), ("epoch_0002", 20)]:
        save_image(np.full((6, 10, 1), value, "uint8"), tmp_path / f"{name}.png")
    (tmp_path / "notes.txt").write_text("not a frame")

    path = make_timelapse(tmp_path, tmp_path / "out" / "progress.gif", duration=0.2)

    frames, loop = _frames(path)
    assert [int(pixels.mean()) for pixels, _ in frames] == [10, 20, 30]
    assert all(pixels.shape == (6, 10) for pixels, _ in frames)
    assert all(duration == 200 for _, duration in frames)
    assert loop == 0
    assert os.listdir(tmp_path / "out") == ["progress.gif"]


def test_make_timelapse_from_paths_keeps_their_order(tmp_path):
    paths = []
    for value in (200, 50, 120):
        path = tmp_path / f"{value}.png"
        save_image(np.full((4, 4, 3), value, "uint8"), path)
        paths.append(path)
    frames, _ = _frames(make_timelapse(paths, tmp_path / "rgb.gif", duration=0.1))
    assert [int(pixels.mean()) for pixels, _ in frames] == [200, 50, 120]


def test_nothing_to_animate(tmp_path):
    with pytest.raises(ValueError, match="No images"):
        make_timelapse(tmp_path, tmp_path / "empty.gif")
    with pytest.raises(ValueError, match="not a directory"):
        make_timelapse(tmp_path / "missing", tmp_path / "empty.gif")
    with pytest.raises(ValueError, match="image_grid"):
        Timelapse("progress.gif")
    with pytest.warns(UserWarning, match="no image grids"):
        Timelapse(tmp_path / "never.gif", image_grid=ImageGrid(tmp_path)).on_train_end()
    assert os.listdir(tmp_path) == []


def test_timelapse_after_training_one_frame_per_grid(tmp_path):
    keras.utils.set_random_seed(0)
    gan = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)
    gan.compile()
    grids = ImageGrid(tmp_path / "samples", num_images=16)
    from_grid = Timelapse(tmp_path / "progress.gif", image_grid=grids, duration=0.25)
    from_directory = Timelapse(tmp_path / "folder.gif", directory=tmp_path / "samples")
    # Timelapses first: their order among the callbacks does not matter.
    gan.fit(
        IMAGES,
        batch_size=16,
        epochs=3,
        verbose=0,
        callbacks=[from_grid, from_directory, grids],
    )

    assert len(grids.paths) == 3
    frames, loop = _frames(tmp_path / "progress.gif")
    assert len(frames) == 3 and loop == 0
    assert all(duration == 250 for _, duration in frames)
    for (pixels, _), png in zip(frames, grids.paths):
        with Image.open(png) as image:
            np.testing.assert_array_equal(pixels, np.asarray(image))
    folder_frames, _ = _frames(tmp_path / "folder.gif")
    assert len(folder_frames) == 3
    assert sorted(os.listdir(tmp_path)) == ["folder.gif", "progress.gif", "samples"]
    assert len(os.listdir(tmp_path / "samples")) == 3
