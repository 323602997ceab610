"""Tests of keras_gans.images: uint8 conversion, grids, row labels, atomic writes."""

import os

import numpy as np
import pytest
from PIL import Image

from keras_gans.images import (
    grid_shape,
    label_rows,
    make_grid,
    save_image,
    to_uint8,
)
from keras_gans.utils.files import atomic_path


def test_to_uint8_maps_rounds_and_clips():
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, -3.0, 3.0, np.nan], "float32")
    np.testing.assert_array_equal(
        to_uint8(values), np.array([0, 64, 128, 191, 255, 0, 255, 0], "uint8")
    )
    already = np.array([[0, 7, 255]], "uint8")
    assert to_uint8(already) is already


def test_grid_shape_near_square_and_derived():
    assert grid_shape(16) == (4, 4)
    assert grid_shape(10) == (3, 4)
    assert grid_shape(10, rows=2) == (2, 5)
    assert grid_shape(10, cols=3) == (4, 3)
    with pytest.raises(ValueError, match="holds 4 images"):
        grid_shape(5, rows=2, cols=2)
    with pytest.raises(ValueError, match="rows"):
        grid_shape(5, rows=0)


def test_make_grid_places_images_row_by_row():
    images = np.stack([np.full((2, 3, 1), 10 * (i + 1), "uint8") for i in range(5)])
    grid = make_grid(images, padding=1, pad_value=0)
    # 3 columns, 2 rows: (2 * 2 + 3, 3 * 3 + 4, 1).
    assert grid.shape == (7, 13, 1) and grid.dtype == np.uint8
    for index in range(5):
        row, col = divmod(index, 3)
        top, left = 1 + row * 3, 1 + col * 4
        assert (grid[top : top + 2, left : left + 3] == 10 * (index + 1)).all()
    assert (grid[4:6, 9:12] == 0).all()  # The unused sixth cell.
    assert (grid[0] == 0).all() and (grid[:, 0] == 0).all() and (grid[3] == 0).all()
    assert grid.sum() == sum(10 * (i + 1) * 6 for i in range(5))


def test_make_grid_shapes_channels_and_floats():
    rgb = np.zeros((6, 8, 8, 3), "float32")
    assert make_grid(rgb).shape == (2 * 8 + 3 * 2, 3 * 8 + 4 * 2, 3)
    assert make_grid(rgb, rows=1).shape == (8 + 4, 6 * 8 + 7 * 2, 3)
    gray = make_grid(np.ones((4, 5, 5), "float32"), padding=0)
    assert gray.shape == (10, 10, 1) and (gray == 255).all()
    white_padding = make_grid(-np.ones((1, 2, 2, 1), "float32"))
    assert white_padding[0, 0, 0] == 255 and white_padding[2, 2, 0] == 0
    with pytest.raises(ValueError, match="shape"):
        make_grid(np.zeros((8, 8)))


def test_label_rows_adds_a_margin_with_text():
    grid = make_grid(np.zeros((6, 8, 8, 3), "float32"), rows=3)
    labeled = label_rows(grid, ["cat", "dog", "bird"])
    assert labeled.shape[0] == grid.shape[0] and labeled.shape[2] == 3
    margin = labeled.shape[1] - grid.shape[1]
    assert margin > 0
    np.testing.assert_array_equal(labeled[:, margin:], grid)
    for row in range(3):
        band = labeled[2 + row * 10 : 2 + row * 10 + 8, :margin]
        assert (band < 128).any(), f"no text in row {row}"
    with pytest.raises(ValueError, match="equal rows"):
        label_rows(grid, ["a", "b", "c", "d"])


def test_save_image_modes_round_trip_and_no_temp_files(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (10, 12, 1), dtype="uint8")
    rgb = rng.integers(0, 256, (10, 12, 3), dtype="uint8")
    save_image(gray, tmp_path / "nested" / "gray.png")
    save_image(rgb, tmp_path / "nested" / "rgb.png")
    save_image(np.zeros((4, 4), "float32"), tmp_path / "nested" / "float.png")
    with Image.open(tmp_path / "nested" / "gray.png") as image:
        assert image.mode == "L" and image.size == (12, 10)
        np.testing.assert_array_equal(np.asarray(image), gray[..., 0])
    with Image.open(tmp_path / "nested" / "rgb.png") as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), rgb)
    with Image.open(tmp_path / "nested" / "float.png") as image:
        assert (np.asarray(image) == 128).all()
    assert sorted(os.listdir(tmp_path / "nested")) == ["float.png", "gray.png", "rgb.png"]


def test_failed_writes_leave_the_old_file_and_no_temp_files(tmp_path):
    target = tmp_path / "grid.png"
    save_image(np.zeros((4, 4, 1), "uint8"), target)
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        Image.new("L", (2, 2)).save(temporary)
        raise RuntimeError("interrupted")
    with pytest.raises(ValueError):
        save_image(np.zeros((4, 4, 1), "uint8"), tmp_path / "grid.unknown")
    assert os.listdir(tmp_path) == ["grid.png"]
    with Image.open(target) as image:
        assert image.size == (4, 4)
