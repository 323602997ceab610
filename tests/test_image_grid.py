"""Tests of the ImageGrid callback on tiny DCGAN / ConditionalGAN / Pix2Pix / CycleGAN models."""

import io
import os

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans.callbacks import ImageGrid
from keras_gans.images import make_grid, make_row_grid

# callback plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

IMAGES = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")


@pytest.fixture(scope="module")
def gan():
    keras.utils.set_random_seed(0)
    model = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)
    model.compile()
    return model


@pytest.fixture(scope="module")
def cgan():
    keras.utils.set_random_seed(0)
    model = keras_gans.ConditionalGAN(num_classes=3, latent_dim=8, image_shape=(8, 8, 3), width=8)
    model.compile()
    return model


def _pixels(path):
    with Image.open(path) as image:
        return np.asarray(image)


def test_epoch_grids_size_mode_and_progress(gan, tmp_path):
    grids = ImageGrid(tmp_path / "samples", num_images=16, seed=0)
    gan.fit(IMAGES, batch_size=16, epochs=3, verbose=0, callbacks=[grids])

    names = ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
    assert grids.paths == [str(tmp_path / "samples" / name) for name in names]
    assert sorted(os.listdir(tmp_path / "samples")) == names  # No temp files.
    for path in grids.paths:
        with Image.open(path) as image:
            assert image.mode == "L"
            assert image.size == (4 * 8 + 5 * 2, 4 * 8 + 5 * 2)
    frames = [_pixels(path) for path in grids.paths]
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])

    # Same seed and weights: the same grid, from this callback or a new one.
    np.testing.assert_array_equal(grids.render()[..., 0], frames[-1])
    same = ImageGrid(tmp_path / "other", num_images=16, seed=0)
    same.set_model(gan)
    np.testing.assert_array_equal(same.render(), grids.render())
    other = ImageGrid(tmp_path / "other", num_images=16, seed=1)
    other.set_model(gan)
    assert not np.array_equal(other.render(), grids.render())


def test_batch_grids_sort_in_the_order_written(gan, tmp_path):
    grids = ImageGrid(tmp_path, num_images=4, every_n_epochs=2, every_n_batches=2)
    gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=[grids])
    # 4 batches per epoch; the last batch of epoch 2 is the epoch grid.
    names = [
        "epoch_0000_batch_000002.png",
        "epoch_0000_batch_000004.png",
        "epoch_0001_batch_000002.png",
        "epoch_0002.png",
    ]
    assert [os.path.basename(path) for path in grids.paths] == names
    assert sorted(os.listdir(tmp_path)) == names
    # Grids written mid-epoch show the weights of that moment (on JAX too).
    frames = [_pixels(path) for path in grids.paths]
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    with Image.open(grids.paths[0]) as image:
        assert image.size == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2)


def _image_summaries(log_dir):
    import tensorflow as tf

    summaries = []
    for name in sorted(os.listdir(log_dir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(log_dir, name)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    summaries.append((value.tag, event.step, value.tensor.string_val))
    return summaries


@pytest.mark.parametrize("as_callback", [False, True])
def test_tensorboard_image_summaries(gan, tmp_path, as_callback):
    log_dir = str(tmp_path / "logs")
    tensorboard = keras.callbacks.TensorBoard(log_dir) if as_callback else log_dir
    grids = ImageGrid(tmp_path / "samples", num_images=4, tensorboard=tensorboard)
    gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=[grids])

    summaries = _image_summaries(os.path.join(log_dir, "images"))
    assert [(tag, step) for tag, step, _ in summaries] == [
        ("image_grid/epoch", 0),
        ("image_grid/epoch", 1),
    ]
    width, height, png = summaries[-1][2]
    assert (width, height) == (b"22", b"22")
    with Image.open(io.BytesIO(png)) as image:
        np.testing.assert_array_equal(np.asarray(image), _pixels(grids.paths[-1]))


def test_tensorboard_only(gan, tmp_path):
    grids = ImageGrid(None, num_images=4, tensorboard=str(tmp_path))
    gan.fit(IMAGES, batch_size=16, epochs=1, verbose=0, callbacks=[grids])
    assert grids.paths == [] and os.listdir(tmp_path) == ["images"]
    assert len(_image_summaries(tmp_path / "images")) == 1


def test_conditional_grid_has_one_labelled_row_per_class(cgan, tmp_path):
    images = np.random.default_rng(1).uniform(-1, 1, (48, 8, 8, 3)).astype("float32")
    labels = np.arange(48) % 3
    grids = ImageGrid(tmp_path, num_images=12, class_names=["zero", "one", "two"])
    cgan.fit((images, labels), batch_size=16, epochs=2, verbose=0, callbacks=[grids])

    assert sorted(os.listdir(tmp_path)) == ["epoch_0001.png", "epoch_0002.png"]
    with Image.open(grids.paths[-1]) as image:
        assert image.mode == "RGB"
        grid = np.asarray(image)
    assert grid.shape[0] == 3 * 8 + 4 * 2  # One row per class.
    # Right of the names: rows = classes, columns share the same latent vectors.
    latent = np.tile(cgan.sample_latent(4, 0), (3, 1))
    expected = make_grid(cgan.generate(labels=np.repeat([0, 1, 2], 4), latent=latent), rows=3)
    assert expected.shape[1] == 4 * 8 + 5 * 2
    np.testing.assert_array_equal(grid[:, -expected.shape[1] :], expected)
    margin = grid[:, : -expected.shape[1]]
    for row in range(3):
        assert (margin[2 + row * 10 : 10 + row * 10] < 128).any()

    chosen = ImageGrid(tmp_path / "chosen", num_images=4, labels=[2, 0])
    chosen.set_model(cgan)
    assert chosen.render().shape[0] == 2 * 8 + 3 * 2


def test_invalid_arguments(gan, cgan, tmp_path):
    with pytest.raises(ValueError, match="somewhere to write"):
        ImageGrid(None)
    with pytest.raises(ValueError, match="num_images"):
        ImageGrid(tmp_path, num_images=0)
    with pytest.raises(ValueError, match="every_n_batches"):
        ImageGrid(tmp_path, every_n_batches=0)
    with pytest.raises(ValueError, match="unconditional"):
        gan.fit(
            IMAGES, batch_size=16, epochs=1, verbose=0, callbacks=[ImageGrid(tmp_path, labels=[0])]
        )
    out_of_range = ImageGrid(tmp_path, labels=[0, 3])
    out_of_range.set_model(cgan)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        out_of_range.render()


# Translation models: rows of source | translation (| target) -----------------------

RNG = np.random.default_rng(2)
GRAY = RNG.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
COLOUR = RNG.uniform(-1, 1, (8, 16, 16, 3)).astype("float32")


@pytest.fixture(scope="module")
def pix2pix():
    model = keras_gans.Pix2Pix((16, 16, 1), (16, 16, 3), width=4, num_discriminator_layers=2)
    model.compile()
    return model


@pytest.fixture(scope="module")
def cyclegan():
    model = keras_gans.CycleGAN(
        (16, 16, 1), (16, 16, 3), width=4, num_blocks=1, num_discriminator_layers=2,
        identity_weight=0, pool_size=4,
    )  # fmt: skip
    model.compile()
    return model


def test_pix2pix_rows_show_source_translation_and_target(pix2pix, tmp_path):
    grids = ImageGrid(tmp_path, examples=(GRAY[:3], COLOUR[:3]))
    pix2pix.fit((GRAY, COLOUR), batch_size=4, epochs=2, verbose=0, callbacks=[grids])

    assert sorted(os.listdir(tmp_path)) == ["epoch_0001.png", "epoch_0002.png"]
    with Image.open(grids.paths[-1]) as image:
        assert image.mode == "RGB"
        grid = np.asarray(image)
    assert grid.shape == (3 * 16 + 4 * 2, 3 * 16 + 4 * 2, 3)  # 3 rows of 3 columns
    outputs = pix2pix.translate(GRAY[:3])
    np.testing.assert_array_equal(grid, make_row_grid(list(zip(GRAY, outputs, COLOUR))))
    # The gray source is shown as gray RGB at the left of each row.
    np.testing.assert_array_equal(
        grid[2:18, 2:18], np.repeat(make_grid(GRAY[:1], padding=0), 3, -1)
    )

    sources_only = ImageGrid(tmp_path / "sources", examples=GRAY[:2])
    sources_only.set_model(pix2pix)
    assert sources_only.render().shape == (2 * 16 + 3 * 2, 2 * 16 + 3 * 2, 3)


def test_cyclegan_shows_one_labelled_group_per_direction(cyclegan, tmp_path):
    grids = ImageGrid(tmp_path, examples={"b_to_a": COLOUR[:2], "a_to_b": (GRAY[:2], COLOUR[:2])})
    grids.set_model(cyclegan)
    grid = grids.render()

    rows = list(zip(GRAY[:2], cyclegan.translate(GRAY[:2], direction="a_to_b"), COLOUR[:2]))
    rows += list(zip(COLOUR[:2], cyclegan.translate(COLOUR[:2], direction="b_to_a")))
    expected = make_row_grid(rows)  # the model's order: A->B first; B->A has no targets
    assert expected.shape == (4 * 16 + 5 * 2, 3 * 16 + 4 * 2, 3)
    assert grid.shape[0] == expected.shape[0] and grid.shape[1] > expected.shape[1]
    np.testing.assert_array_equal(grid[:, -expected.shape[1] :], expected)
    margin = grid[:, : -expected.shape[1]]
    for row in range(4):  # each row is labelled with its direction
        assert (margin[2 + row * 18 : 18 + row * 18] < 128).any()

    first_only = ImageGrid(tmp_path, examples=GRAY[:3])  # a plain batch: the first direction
    first_only.set_model(cyclegan)
    assert first_only.render().shape[0] == 3 * 16 + 4 * 2


def test_translation_examples_are_checked(pix2pix, cyclegan, gan, tmp_path):
    def render(model, **kwargs):
        grids = ImageGrid(tmp_path, **kwargs)
        grids.set_model(model)
        return grids.render()

    with pytest.raises(ValueError, match="needs `examples` for a Pix2Pix"):
        render(pix2pix)
    with pytest.raises(ValueError, match=r"`examples` do not fit the Pix2Pix.*16, 16, 1"):
        render(pix2pix, examples=COLOUR[:2])
    with pytest.raises(ValueError, match=r"`examples` targets must have shape \(N, 16, 16, 3\)"):
        render(pix2pix, examples=(GRAY[:2], GRAY[:2]))
    with pytest.raises(ValueError, match=r"`examples` \(b_to_a\) do not fit the CycleGAN"):
        render(cyclegan, examples={"b_to_a": GRAY[:2]})
    with pytest.raises(ValueError, match=r"directions of the CycleGAN.*'b_to_c'"):
        render(cyclegan, examples={"b_to_c": GRAY[:2]})
    with pytest.raises(ValueError, match="directions of the Pix2Pix"):
        render(pix2pix, examples={"a_to_b": GRAY[:2]})
    with pytest.raises(ValueError, match="apply to translation models"):
        gan.fit(IMAGES, epochs=1, verbose=0, callbacks=[ImageGrid(tmp_path, examples=GRAY)])
    with pytest.raises(ValueError, match="`labels` apply to class-conditional"):
        render(pix2pix, examples=GRAY[:2], labels=[0])
    # Checked without a model: batch shape, dtype and one target per source.
    with pytest.raises(ValueError, match=r"`examples` must be a batch.*\(16, 16, 1\)"):
        ImageGrid(tmp_path, examples=GRAY[0])
    with pytest.raises(ValueError, match=r"floats in \[-1, 1\].*uint8"):
        ImageGrid(tmp_path, examples=np.zeros((2, 16, 16, 1), "uint8"))
    with pytest.raises(ValueError, match="2 sources but 3 targets"):
        ImageGrid(tmp_path, examples=(GRAY[:2], COLOUR[:3]))
