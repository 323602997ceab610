"""Paired and unpaired data for translation models: folders, batches, offline tasks."""

import numpy as np
import pytest
from PIL import Image

from keras_gans import data


def write_images(folder, names, size=(8, 8), colour=False, value=0):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        shape = (size[1], size[0], 3) if colour else (size[1], size[0])
        Image.fromarray(np.full(shape, value + i, "uint8")).save(folder / name)


def test_paired_folders_match_names_and_split_side_by_side(tmp_path):
    write_images(tmp_path / "ab" / "A", ["x.png", "y.png", "z.png"])
    write_images(tmp_path / "ab" / "B", ["x.png", "y.png", "z.png"], colour=True, value=100)
    batches = data.paired_folders(tmp_path / "ab", batch_size=2, shuffle=False)
    assert len(batches) == 2
    sources, targets = batches[0]
    assert sources.shape == (2, 8, 8, 1) and targets.shape == (2, 8, 8, 3)
    # x.png of A goes with x.png of B, scaled to [-1, 1]
    np.testing.assert_allclose(sources[0], -1.0)
    np.testing.assert_allclose(targets[0], 100 / 127.5 - 1, atol=1e-6)

    # side-by-side A|B images, resized
    pixels = np.concatenate([np.zeros((8, 8), "uint8"), np.full((8, 8), 255, "uint8")], axis=1)
    (tmp_path / "sbs").mkdir()
    Image.fromarray(pixels).save(tmp_path / "sbs" / "0.png")
    sources, targets = data.paired_folders(tmp_path / "sbs", image_size=4)[0]
    assert sources.shape == targets.shape == (1, 4, 4, 1)
    assert sources.max() == -1.0 and targets.min() == 1.0


def test_paired_folder_errors_name_the_problem(tmp_path):
    write_images(tmp_path / "bad" / "A", ["x.png", "y.png"])
    write_images(tmp_path / "bad" / "B", ["x.png", "w.png"])
    with pytest.raises(ValueError, match="no partner.*w, y"):
        data.paired_folders(tmp_path / "bad")
    write_images(tmp_path / "sizes", ["a.png"], size=(16, 8))
    write_images(tmp_path / "sizes", ["b.png"], size=(32, 8))
    with pytest.raises(ValueError, match="b.png.*pass `image_size`"):
        data.paired_folders(tmp_path / "sizes", batch_size=2)[0]
    (tmp_path / "empty" / "trainA").mkdir(parents=True)
    write_images(tmp_path / "empty" / "trainB", ["b.png"])
    with pytest.raises(ValueError, match="holds no images"):
        data.unpaired_folders(tmp_path / "empty")


def test_unpaired_epoch_covers_the_longer_domain_and_cycles_the_shorter(tmp_path):
    write_images(tmp_path / "h2z" / "trainA", [f"{i}.png" for i in range(5)])
    write_images(tmp_path / "h2z" / "trainB", ["0.png", "1.png"], value=50)
    batches = data.unpaired_folders(tmp_path / "h2z", batch_size=2, seed=0)
    assert len(batches) == 3
    seen_a = np.concatenate([batches[i][0] for i in range(3)])[:, 0, 0, 0]
    seen_b = np.concatenate([batches[i][1] for i in range(3)])[:, 0, 0, 0]
    assert len(seen_a) == len(seen_b) == 5
    assert len(set(seen_a.round(4))) == 5  # every A image once
    assert len(set(seen_b.round(4))) == 2  # both B images, reshuffled passes


def test_edges2digits_is_a_held_out_split_of_real_digits():
    edges, digits, labels = data.edges2digits("test", num_test=100, labels=True)
    assert edges.shape == digits.shape == (100, 32, 32, 1) and labels.shape == (100,)
    assert edges.min() == -1.0 and edges.max() == 1.0 and digits.min() == -1.0
    train_digits = data.edges2digits("train", num_test=100)[1]
    assert len(train_digits) == 4900
    # the strongest edges lie on the digit's border, not in the background corner
    assert (edges[:, :3, :3] == -1.0).all()
