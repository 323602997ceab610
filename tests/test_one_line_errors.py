"""The last unclear failures say what happened in our words (issue 30): dropped pushes, folders
damaged while a run streams them, translation domains of different channels."""

import glob
import json
import os

import keras
import numpy as np
import pytest

from keras_gans import runner
from keras_gans.hub import repo
from tests import helpers
from tests.test_datasets import write_images


class _DroppedPush:
    """An `HfApi` whose connection drops while the commit uploads."""

    def __init__(self, error):
        self.error = error

    def create_repo(self, *args, **kwargs):
        return None

    def create_commit(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError(104, "Connection reset by peer"), ConnectionResetError(), TimeoutError()],
    ids=["reset", "no-message", "timeout"],
)
def test_a_dropped_push_says_the_connection_broke(monkeypatch, error):
    monkeypatch.setattr(repo, "api", lambda token: _DroppedPush(error))
    gan = helpers.make_model("GAN")
    with pytest.raises(OSError, match="connection to the Hub broke before it answered") as raised:
        gan.push_to_hub("me/gan")
    message = str(raised.value)
    assert "None" not in message and len(message.splitlines()) == 1
    assert type(error).__name__ in message and "retry the push" in message


class DamageFolderAt(keras.callbacks.Callback):
    """When `epoch` begins: deletes, truncates and overwrites files, or deletes them all."""

    def __init__(self, folder, epoch, everything=False):
        super().__init__()
        self.folder, self.epoch, self.everything = folder, epoch, everything

    def on_epoch_begin(self, epoch, logs=None):
        if epoch != self.epoch:
            return
        paths = sorted(glob.glob(os.path.join(self.folder, "**", "*.png"), recursive=True))
        if self.everything:
            for path in paths:
                os.remove(path)
            return
        os.remove(paths[0])
        with open(paths[1], "r+b") as file:
            file.truncate(os.path.getsize(paths[1]) // 2)
        with open(paths[2], "wb") as file:
            file.write(b"not a png")


def test_a_streamed_folder_damaged_mid_run_skips_files_or_stops_in_one_line(tmp_path):
    images = tmp_path / "images"
    write_images(images, 32, size=(8, 8))
    options = dict(data=str(images), epochs=3, batch_size=8, stream=True, evaluate=False)
    options.update(verbose=0, model_overrides={"width": 8})
    with pytest.warns(UserWarning, match="Skipped unreadable image") as caught:
        run = runner.train(
            "dcgan", tmp_path / "run", **options, callbacks=[DamageFolderAt(images, 1)]
        )
    assert run["status"] == "finished" and run["epochs_done"] == 3
    skipped = " ".join(str(warning.message) for warning in caught)
    assert "No such file" in skipped and "truncated" in skipped and "cannot identify" in skipped

    everything = DamageFolderAt(images, 1, everything=True)
    gone = r"^batch 0 of `x`: No image in .* could be decoded\.$"  # not TensorFlow's wrapping
    with pytest.warns(UserWarning, match="Skipped"), pytest.raises(ValueError, match=gone):
        runner.train("dcgan", tmp_path / "gone", **options, callbacks=[everything])
    run = json.loads((tmp_path / "gone" / "run.json").read_text())
    assert run["status"] == "training" and run["epochs_done"] == 1  # resumable once restored


def test_translation_domains_of_different_channels_train_or_say_why(tmp_path, capsys):
    from keras_gans import cli

    write_images(tmp_path / "c" / "trainA", 8, size=(16, 16))  # grayscale
    write_images(tmp_path / "c" / "trainB", 8, size=(16, 16), mode="RGB")
    tiny = dict(width=4, num_blocks=1, num_discriminator_layers=2, pool_size=4)
    run = runner.train(
        "cyclegan",
        tmp_path / "run",
        data=str(tmp_path / "c"),
        epochs=1,
        batch_size=4,
        evaluate=False,
        verbose=0,
        model_overrides=tiny,
    )
    assert run["status"] == "finished"
    assert "No identity loss: domain A has 1 channel(s) and B 3" in capsys.readouterr().out
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.identity_weight == 0 and model.shape_a[-1] == 1 and model.shape_b[-1] == 3
    translated = model.translate(np.zeros((1, 16, 16, 1), "float32"), direction="a_to_b")
    assert translated.shape == (1, 16, 16, 3)

    # `keras-gans translate` converts files to the channels each direction takes.
    from PIL import Image

    Image.fromarray(np.zeros((20, 20, 3), "uint8")).save(tmp_path / "colour.png")
    argv = ["translate", str(tmp_path / "run"), str(tmp_path / "colour.png")]
    assert cli.main([*argv, "--out", str(tmp_path / "to_b")]) == 0
    assert Image.open(tmp_path / "to_b" / "colour.png").mode == "RGB"
