"""`keras-gans translate` on tiny saved Pix2Pix / CycleGAN models, and its errors."""

import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans import cli
from keras_gans.commands.translate import read_image
from keras_gans.images import make_row_grid

TOLERANCE = 1 / 255 + 1e-5  # uint8 rounding of an output in [-1, 1]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A Pix2Pix (gray -> RGB), a CycleGAN (A gray, B RGB) and a DCGAN, saved as .keras files."""
    folder = tmp_path_factory.mktemp("models")
    built = {
        "pix2pix": keras_gans.Pix2Pix(
            (16, 16, 1), (16, 16, 3), width=4, num_discriminator_layers=2, seed=1
        ),
        "cyclegan": keras_gans.CycleGAN(
            (16, 16, 1),
            (16, 16, 3),
            width=4,
            num_blocks=1,
            num_discriminator_layers=2,
            identity_weight=0,
            seed=1,
        ),  # fmt: skip
        "dcgan": keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8),
    }
    paths = {}
    for name, model in built.items():
        paths[name] = str(folder / f"{name}.keras")
        model.save(paths[name])
    return built, paths


def write_images(folder, names, size, mode, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "RGB": 3}[mode]
    for name in names:
        pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype="uint8")
        Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(folder / name)
    return [folder / name for name in names]


def read_png(path):
    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def as_model_input(path, mode):
    with Image.open(path) as image:
        pixels = np.asarray(image.convert(mode), dtype="float32")
    return (pixels.reshape(*pixels.shape[:2], -1)) / 127.5 - 1


def test_pix2pix_translates_files_and_folders(models, tmp_path, capsys):
    built, paths = models
    folder = write_images(tmp_path / "in", ["a.png", "b.png"], (16, 16), "RGB")
    (tmp_path / "in" / "notes.txt").write_text("not an image")  # skipped in a folder
    large = write_images(tmp_path / "more", ["c.png"], (24, 20), "L", seed=1)
    out, grid = tmp_path / "out", tmp_path / "grid.png"
    argv = ["translate", paths["pix2pix"], str(tmp_path / "in"), str(large[0])]
    assert cli.main(argv + ["--out", str(out), "--grid", str(grid)]) == 0

    printed = capsys.readouterr().out
    assert "Resized 1 of 3 images to 16x16" in printed and "c.png (24x20)" in printed
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]
    sources = np.stack(
        [as_model_input(path, "L") for path in folder]
        + [read_image(str(large[0]), (16, 16, 1))[0]]  # resized as the command does
    )
    expected = built["pix2pix"].translate(sources)
    for name, translation in zip(["a.png", "b.png", "c.png"], expected):
        mode, pixels = read_png(out / name)
        assert mode == "RGB" and pixels.shape == (16, 16, 3)
        np.testing.assert_allclose(pixels / 127.5 - 1, translation, atol=TOLERANCE)
    _, grid_pixels = read_png(grid)
    assert grid_pixels.shape == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2, 3)  # rows of source | output
    np.testing.assert_array_equal(grid_pixels, make_row_grid(list(zip(sources, expected))))


@pytest.mark.parametrize(
    "direction, mode, out_mode",
    [(None, "L", "RGB"), ("a_to_b", "L", "RGB"), ("b_to_a", "RGB", "L")],
)
def test_cyclegan_translates_either_way(models, tmp_path, capsys, direction, mode, out_mode):
    built, paths = models
    inputs = write_images(tmp_path / "in", ["x.png", "y.png"], (16, 16), mode)
    argv = ["translate", paths["cyclegan"], *map(str, inputs), "--out", str(tmp_path / "out")]
    argv += [] if direction is None else ["--direction", direction]
    assert cli.main(argv) == 0

    assert f"({direction or 'a_to_b'})" in capsys.readouterr().out
    sources = np.stack([as_model_input(path, mode) for path in inputs])
    expected = built["cyclegan"].translate(sources, direction=direction or "a_to_b")
    for path, translation in zip(inputs, expected):
        saved_mode, pixels = read_png(tmp_path / "out" / path.name)
        assert saved_mode == out_mode
        pixels = pixels.reshape(16, 16, -1)
        assert pixels.shape == translation.shape
        np.testing.assert_allclose(pixels / 127.5 - 1, translation, atol=TOLERANCE)


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", "--help"])
    assert exit_info.value.code == 0
    assert "usage: keras-gans translate" in capsys.readouterr().out


def error_of(argv, capsys):
    assert cli.main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    assert lines[0].startswith(f"keras-gans {argv[0]}: error: ")
    return lines[0]


def test_errors_name_the_file_or_argument_and_the_fix(models, tmp_path, capsys):
    _, paths = models
    image = write_images(tmp_path / "in", ["a.png"], (16, 16), "L")[0]
    out = ["--out", str(tmp_path / "out")]

    line = error_of(["translate", paths["pix2pix"], str(tmp_path / "missing.png"), *out], capsys)
    assert "missing.png" in line and "does not exist" in line
    (tmp_path / "empty").mkdir()
    line = error_of(["translate", paths["pix2pix"], str(tmp_path / "empty"), *out], capsys)
    assert "empty" in line and "holds no images" in line
    (tmp_path / "bad.png").write_text("not an image")
    line = error_of(["translate", paths["pix2pix"], str(tmp_path / "bad.png"), *out], capsys)
    assert "bad.png" in line and "not a readable image" in line
    line = error_of(["translate", paths["dcgan"], str(image), *out], capsys)
    assert "DCGAN" in line and "keras-gans sample" in line
    line = error_of(
        ["translate", paths["pix2pix"], str(image), "--direction", "b_to_a", *out], capsys
    )
    assert "--direction" in line and "leave it out" in line
    line = error_of(["translate", paths["pix2pix"], str(image), "--out", str(image.parent)], capsys)
    assert "would overwrite" in line
    line = error_of(["sample", paths["cyclegan"], "--out", str(tmp_path / "grid.png")], capsys)
    assert "CycleGAN" in line and "keras-gans translate" in line

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", paths["cyclegan"], str(image), "--direction", "up", *out])
    assert exit_info.value.code == 2
    assert "--direction: invalid choice: 'up'" in capsys.readouterr().err


@pytest.mark.parametrize("mode, channels", [("RGB", 3), ("L", 1), ("RGB", 1)])
def test_inputs_are_prepared_as_the_training_folders_are(tmp_path, mode, channels):
    # The command, the demo's upload and the folder reader crop and resize alike, so a
    # model sees at inference what it saw in training.
    from keras_gans.data.folders import read_folder
    from keras_gans.demo.actions import DemoActions

    (path,) = write_images(tmp_path / "in", ["wide.png"], (40, 24), mode, seed=2)
    shape = (16, 12, channels)
    trained_on = read_folder(tmp_path / "in", image_size=(16, 12), channels=channels)[0][0]
    command, size = read_image(str(path), shape)
    assert size == (40, 24)
    np.testing.assert_allclose(command, trained_on / 127.5 - 1.0, atol=1e-6)
    with Image.open(path) as opened:
        upload = np.asarray(opened)
    np.testing.assert_array_equal(DemoActions.prepare_upload(upload, shape), command)
