"""Tests of keras_gans.data's data sets: the offline datasets, folders of images, and the errors."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

from keras_gans import data as datasets


def write_images(folder, count, size=(12, 10), mode="L", seed=0):
    """Writes `count` random PNGs of `size` (width, height) into `folder`."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    for i in range(count):
        pixels = rng.integers(0, 256, shape, dtype="uint8")
        Image.fromarray(pixels, mode=mode).save(os.path.join(folder, f"{seed}_{i}.png"))


def test_scale_images_maps_uint8_to_minus_one_one():
    scaled = datasets.scale_images(np.array([0, 127.5, 255]))
    np.testing.assert_allclose(scaled, [-1.0, 0.0, 1.0])
    assert datasets.scale_images(np.zeros(3, "uint8")).dtype == np.float32


def test_mnist5k_is_5000_real_digits_500_per_class():
    images, labels = data = datasets.load("mnist5k")
    assert images.shape == (5000, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(np.bincount(labels), [500] * 10)
    assert data.num_classes == 10 and data.class_names[3] == "3"
    assert data.image_shape == (28, 28, 1) and len(data) == 5000
    # Real digits: mostly background, strokes bright.
    assert 0.1 < (images > 0).mean() < 0.3


def test_digits_native_and_upsampled():
    small = datasets.load("digits")
    assert small.images.shape == (1797, 8, 8, 1)
    assert small.images.min() == -1.0 and small.images.max() == 1.0
    big = datasets.load("digits", image_size=16, max_images=10)
    assert big.images.shape == (10, 16, 16, 1) and big.labels.shape == (10,)
    assert -1.0 <= big.images.min() and big.images.max() <= 1.0
    # Upsampling keeps the picture: the mean brightness barely moves.
    np.testing.assert_allclose(big.images.mean(), small.images[:10].mean(), atol=0.05)


def test_uint8_dtype_returns_raw_pixels():
    images, _ = datasets.load("digits", dtype="uint8", max_images=4)
    assert images.dtype == np.uint8 and images.max() == 255


def test_resize_images_keeps_range_and_dtype():
    floats = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    resized = datasets.resize_images(floats, (16, 12))
    assert resized.shape == (2, 16, 12, 3) and resized.dtype == np.float32
    assert resized.min() >= -1.0 and resized.max() <= 1.0
    ints = np.zeros((2, 8, 8, 1), "uint8")
    assert datasets.resize_images(ints, 4).shape == (2, 4, 4, 1)


def test_unreachable_keras_dataset_names_the_offline_ones(monkeypatch):
    def fail():
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fail)
    with pytest.raises(ConnectionError, match="'mnist5k' or 'digits'"):
        datasets.load("mnist")


def test_keras_dataset_is_loaded_and_scaled(monkeypatch):
    x = np.full((4, 32, 32, 3), 255, "uint8")
    y = np.arange(4).reshape(4, 1)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: ((x, y), (x[:2], y[:2])))
    data = datasets.load("cifar10")
    assert data.images.shape == (4, 32, 32, 3) and data.images.max() == 1.0
    np.testing.assert_array_equal(data.labels, [0, 1, 2, 3])
    assert data.class_names[0] == "airplane"
    assert len(datasets.load("cifar10", split="test")) == 2


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'mnist'"):
        datasets.load("mnst")
    with pytest.raises(ValueError, match="no test split"):
        datasets.load("mnist5k", split="test")


def test_folder_without_sub_folders_is_unlabelled(tmp_path):
    write_images(tmp_path / "faces", 5, size=(12, 10))
    data = datasets.load(tmp_path / "faces")
    assert data.images.shape == (5, 10, 12, 1)  # grayscale kept, native size
    assert data.labels is None and data.num_classes is None
    assert data.images.min() >= -1.0 and data.images.max() <= 1.0
    resized = datasets.load(str(tmp_path / "faces"), image_size=8)
    assert resized.images.shape == (5, 8, 8, 1)


def test_folder_pixels_match_the_files(tmp_path):
    write_images(tmp_path / "one", 1, size=(6, 6), mode="RGB")
    (path,) = [os.path.join(tmp_path / "one", f) for f in os.listdir(tmp_path / "one")]
    expected = datasets.scale_images(np.asarray(Image.open(path)))
    images, _ = datasets.load(tmp_path / "one")
    np.testing.assert_allclose(images[0], expected)


def test_class_sub_folders_give_labels(tmp_path):
    write_images(tmp_path / "pets" / "cat", 3, mode="RGB", seed=1)
    write_images(tmp_path / "pets" / "dog", 2, mode="RGB", seed=2)
    data = datasets.load(tmp_path / "pets", image_size=8)
    assert data.images.shape == (5, 8, 8, 3)
    assert data.class_names == ["cat", "dog"]
    np.testing.assert_array_equal(np.bincount(data.labels), [3, 2])
    subset = datasets.load(tmp_path / "pets", image_size=8, max_images=3)
    assert len(subset) == 3 and len(subset.labels) == 3


def test_folder_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such folder"):
        datasets.load(tmp_path / "missing")
    os.makedirs(tmp_path / "empty" / "sub")
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="no images"):
        datasets.load(tmp_path / "empty")
    write_images(tmp_path / "mixed", 2, size=(12, 10), seed=1)
    write_images(tmp_path / "mixed", 2, size=(16, 16), seed=2)
    with pytest.raises(ValueError, match="2 different sizes.*--image-size"):
        datasets.load(tmp_path / "mixed")
    assert datasets.load(tmp_path / "mixed", image_size=8).images.shape == (4, 8, 8, 1)
    write_images(tmp_path / "both", 1, seed=1)
    write_images(tmp_path / "both" / "a", 1, seed=2)
    with pytest.raises(ValueError, match="directly and more in the sub-folders"):
        datasets.load(tmp_path / "both")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="Cannot read"):
        datasets.load(tmp_path / "broken")
