"""Nothing a user trained is lost: kills, resumes, divergence and bad data (issue 16)."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans import runner
from keras_gans.runner import run_callbacks, run_folder
from tests import helpers

BACKEND = keras.backend.backend()
# GAN on the 1,797 digits, no dropout: the whole step is seeded on every backend.
TINY = dict(max_images=128, batch_size=32, evaluate=False, verbose=0)


def _weights(path):
    model = keras.saving.load_model(path)
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _assert_same_weights(a, b):
    for x, y in zip(a, b, strict=True):
        if BACKEND == "torch":  # torch's global RNG (dropout-free here) still reorders sums
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    runner.train("gan.digits", out, epochs=3, **TINY)
    return _weights(out / "model.keras")


class StopAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_resume_is_exact_with_shuffling(tmp_path, uninterrupted):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        runner.train("gan.digits", out, epochs=3, callbacks=[StopAt(2)], **TINY)
    run = runner.train("gan.digits", out, epochs=3, **TINY)
    assert run["epochs_done"] == 3
    _assert_same_weights(_weights(out / "model.keras"), uninterrupted)


def test_a_kill_during_the_final_save_retrains_nothing(tmp_path, monkeypatch, uninterrupted):
    out = tmp_path / "run"
    real_save = run_folder.save_model_atomically

    def killed_mid_save(model, path):
        temporary = os.path.join(os.path.dirname(path), ".model.999.abc.tmp.keras")
        with open(temporary, "wb") as file:
            file.write(b"PK half a zip")
        raise SystemExit("killed")  # as kill -9 would: nothing after this runs

    monkeypatch.setattr(run_folder, "save_model_atomically", killed_mid_save)
    with pytest.raises(SystemExit):
        runner.train("gan.digits", out, epochs=3, **TINY)
    assert (out / "backup").exists() and not (out / "model.keras").exists()
    monkeypatch.setattr(run_folder, "save_model_atomically", real_save)
    run = runner.train("gan.digits", out, epochs=3, **TINY)
    assert run["status"] == "finished"
    assert not [name for name in os.listdir(out) if ".tmp" in name]
    model = keras.saving.load_model(out / "model.keras")
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 3 * 4  # nothing twice
    _assert_same_weights(_weights(out / "model.keras"), uninterrupted)


def test_kill_9_during_training_resumes_to_the_same_weights(tmp_path, uninterrupted):
    out = tmp_path / "run"
    argv = ["train", "gan.digits", "--out", str(out), "--epochs", "3", "--max-images", "128"]
    argv += ["--batch-size", "32", "--no-eval", "--backup-every", "3"]  # also mid-epoch
    code = "import sys; from keras_gans import cli; sys.exit(cli.main(sys.argv[1:]))"
    # Steps of 0.2 s leave the kill a window mid-epoch (12 steps take ~1 s on JAX).
    slowed = (
        "import time; from keras_gans.runner import run_callbacks as c; "
        "c.EpochTimer.on_train_batch_end = lambda self, batch, logs=None: time.sleep(0.2); "
    )
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    process = subprocess.Popen(
        [sys.executable, "-c", slowed + code, *argv], env=env, cwd=helpers.REPO_ROOT
    )
    metadata = out / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if _backup_position(metadata) == (1, 2):  # after step 6 of 12, mid-epoch
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "model.keras").exists()  # killed before the end
    # The same command again: the resumed run keeps --no-eval and ends where one run ends.
    result = subprocess.run(
        [sys.executable, "-c", code, "train", "--resume", str(out)],
        env=env,
        cwd=helpers.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["options"]["evaluate"] is False
    assert run["options"]["backup_every"] == 3
    rows = (out / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2"]
    assert all(len(row.split(",")) == len(header) for row in rows[1:])
    assert "fid" not in header
    _assert_same_weights(_weights(out / "model.keras"), uninterrupted)


def _backup_position(path):
    try:
        metadata = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return metadata["epoch"], metadata.get("batches_done", 0)


class PoisonAt(keras.callbacks.Callback):
    """Turns the generator's weights to NaN when `epoch` begins (a divergence)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            for weight in self.model.generator.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan"), weight.dtype))


def test_a_diverged_run_keeps_its_last_finite_weights_and_resumes(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(runner.DivergedError, match="epoch 2, step 1"):
        runner.train("gan.digits", out, epochs=3, callbacks=[PoisonAt(1)], **TINY)
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "diverged" and run["diverged_at"]["epoch"] == 2
    assert run["epochs_done"] == 1
    model = keras.saving.load_model(out / "model.keras")
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)
    with pytest.raises(ValueError, match="--resume"):
        runner.train("gan.digits", out, epochs=3, **TINY)
    run = runner.train(None, out, resume=True, lr_scale=0.1, verbose=0)
    assert run["status"] == "finished" and run["epochs_done"] == 3
    resumed = keras.saving.load_model(out / "model.keras")
    rate = float(keras.ops.convert_to_numpy(resumed.g_optimizer.learning_rate))
    assert rate == pytest.approx(
        0.1 * float(keras.ops.convert_to_numpy(model.g_optimizer.learning_rate)), rel=1e-5
    )


def test_lr_scale_reaches_every_network_optimizer():
    model = keras_gans.CycleGAN((16, 16, 1), (16, 16, 1), width=4)
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-3),
        d_a_optimizer=keras.optimizers.Adam(2e-3),
        d_b_optimizer=keras.optimizers.Adam(4e-3),
    )
    scale = run_callbacks.LearningRateScale(0.5)
    scale.set_model(model)
    scale.on_train_begin()
    rates = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in model.optimizer.optimizers]
    assert rates == pytest.approx([5e-4, 1e-3, 2e-3])


def test_an_exploding_loss_counts_as_divergence(tmp_path):
    with pytest.raises(runner.DivergedError, match="no epoch finished"):
        runner.train("gan.digits", tmp_path / "run", epochs=2, max_loss=1e-3, **TINY)


def test_a_failed_fit_never_destroys_the_model():
    gan = helpers.make_model("GAN")
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, *gan.image_shape)).astype("float32")
    before = gan.generate(2, seed=0)
    for bad in (-5, 0, 2.5):
        with pytest.raises(ValueError, match="batch_size"):
            gan.fit(images, batch_size=bad, epochs=1, verbose=0)
    np.testing.assert_array_equal(gan.generate(2, seed=0), before)


def test_bad_pixels_and_iterables_are_refused():
    gan = helpers.make_model("GAN")
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, *gan.image_shape)).astype("float32")
    poisoned = images.copy()
    poisoned[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*image 3"):
        gan.fit(poisoned, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="holds no images"):
        gan.fit(images[:0], batch_size=8, epochs=1, verbose=0)

    def batches():
        yield images[:8]
        yield (images[8:] + 1) * 127.5  # 0..255 in a later batch

    with pytest.raises(ValueError, match=r"batch 1.*\[-1, 1\]"):
        gan.fit(batches(), epochs=1, steps_per_epoch=2, verbose=0)
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        gan.fit((images + 1) / 2, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        gan.fit(images, batch_size=8, sample_weight=np.ones(16), verbose=0)


def test_bad_generate_and_constructor_arguments_are_named():
    gan = helpers.make_model("GAN")
    latent = np.zeros((3, gan.latent_dim), "float32")
    assert gan.generate(latent).shape[0] == 3  # a positional latent array
    with pytest.raises(ValueError, match="num_images"):
        gan.generate(2.7)
    cgan = helpers.make_model("ConditionalGAN")
    with pytest.raises(ValueError, match="empty"):
        cgan.generate(labels=[])
    with pytest.raises(ValueError, match="integer class ids"):
        cgan.generate(labels=["cat", "dog"])
    with pytest.raises(ValueError, match="width"):
        keras_gans.DCGAN(image_shape=(8, 8, 1), width=0)
    with pytest.raises(ValueError, match="dropout"):
        keras_gans.DCGAN(image_shape=(8, 8, 1), dropout=1.5)
    with pytest.raises(ValueError, match="latent_dim"):
        keras_gans.GAN(latent_dim=8.5)


def test_model_files_that_are_missing_or_damaged_say_so(tmp_path, capsys):
    import zipfile

    from keras_gans import cli

    with pytest.raises(FileNotFoundError, match="No such model file"):
        keras_gans.from_pretrained(str(tmp_path / "sub" / "model.keras"))
    gan = helpers.make_model("GAN")
    gan.compile()
    gan.save(tmp_path / "whole.keras")
    whole = (tmp_path / "whole.keras").read_bytes()
    damaged = tmp_path / "model.keras"
    with zipfile.ZipFile(tmp_path / "whole.keras") as archive:
        offset = archive.getinfo("model.weights.h5").header_offset + 100
    cases = {  # the file's bytes -> what the message says (in our words, not Keras')
        b"PK\x03\x04 truncated": "not a whole .keras (zip) archive (cut short or damaged)",
        whole[: len(whole) // 2]: "not a whole .keras (zip) archive (cut short or damaged)",
        whole[:offset] + bytes(64) + whole[offset + 64 :]: "its model.weights.h5 is damaged",
    }
    for content, words in cases.items():
        damaged.write_bytes(content)
        with pytest.raises(ValueError, match="not a readable Keras model file") as error:
            keras_gans.from_pretrained(str(damaged))
        assert words in str(error.value) and "File not found" not in str(error.value)
    status = cli.main(["sample", str(damaged), "--out", str(tmp_path / "grid.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1 and "its model.weights.h5 is damaged" in err[0]


def test_damaged_images_and_empty_class_folders_are_named(tmp_path, capsys):
    from keras_gans import cli, data
    from tests.test_datasets import write_images

    write_images(tmp_path / "imgs" / "a", 4, size=(8, 8))
    write_images(tmp_path / "imgs" / "b", 4, size=(8, 8), seed=1)
    (tmp_path / "imgs" / "c").mkdir()
    with pytest.raises(ValueError, match=r"\['c'\].*hold no images"):
        data.load(str(tmp_path / "imgs"))
    (tmp_path / "imgs" / "c").rmdir()
    good = (tmp_path / "imgs" / "b" / "1_0.png").read_bytes()
    (tmp_path / "imgs" / "b" / "1_0.png").write_bytes(good[: len(good) // 2])  # valid header
    status = cli.main(
        [
            "train",
            "dcgan",
            "--data",
            str(tmp_path / "imgs"),
            "--out",
            str(tmp_path / "run"),
            "--epochs",
            "1",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1
    assert "cannot be decoded" in err[0] and "1_0.png" in err[0]


def test_a_generator_ending_in_sigmoid_gets_a_warning():
    latent = keras.Input((4,))
    images = keras.layers.Reshape((8, 8, 1))(keras.layers.Dense(64, activation="sigmoid")(latent))
    generator = keras.Model(latent, images)
    with pytest.warns(UserWarning, match="sigmoid"):
        keras_gans.GAN(latent_dim=4, image_shape=(8, 8, 1), generator=generator)


def test_bad_batches_later_in_a_dataset_are_refused_before_they_train():
    import tensorflow as tf

    cgan = helpers.make_model("ConditionalGAN")
    cgan.compile()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, *cgan.image_shape)).astype("float32")
    labels = rng.integers(0, cgan.num_classes, 32).astype("int32")
    bad_labels = labels.copy()
    bad_labels[-1] = cgan.num_classes + 4  # in the last of four batches
    before = helpers.weights_of(cgan)
    dataset = tf.data.Dataset.from_tensor_slices((images, bad_labels)).batch(8)
    with pytest.raises(ValueError, match=r"labels of a batch must be class ids in \[0, 3\)"):
        cgan.fit(dataset, epochs=1, verbose=0)
    bad_images = images.copy()
    bad_images[-1] *= 255.0
    dataset = tf.data.Dataset.from_tensor_slices((bad_images, labels)).batch(8)
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]"):
        cgan.fit(dataset, epochs=1, verbose=0)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            rows = slice(8 * index, 8 * index + 8)
            return images[rows], bad_labels[rows]

    with pytest.raises(ValueError, match=r"labels of batch 3"):
        cgan.fit(Batches(), epochs=1, verbose=0)
    # Each failure came before a bad batch trained; the first batches did train.
    assert all(np.isfinite(w).all() for w in helpers.weights_of(cgan))
    assert len(before) == len(helpers.weights_of(cgan))


def _run_folder(out, run, model, backup):
    """A run folder holding `run.json`, maybe `model.keras`, maybe a backup at `backup`."""
    import h5py

    from keras_gans.callbacks import backup_and_restore

    (out / "backup").mkdir(parents=True)
    (out / "run.json").write_text(json.dumps(run))
    if model:
        (out / "model.keras").write_bytes(b"PK")
    if backup is not None:
        position = {"epoch": backup[0], "batches_done": backup[1], "iterations": 0}
        with h5py.File(out / "backup" / "latest.weights.h5", "w") as file:
            file.attrs[backup_and_restore._POSITION_ATTRIBUTE] = json.dumps(position)


FINISHED = {"status": "finished", "epochs_done": 2, "model_epoch": 2}
CONTINUED = {**FINISHED, "status": "training"}  # a continuation to more epochs, killed
NEW = {"status": "training", "epochs_done": 0, "model_epoch": None}
OLDER = {"status": "finished", "epochs_done": 2}  # written before model_epoch existed


@pytest.mark.parametrize(
    "run, model, backup, expected",  # expected: (finished epochs, start from model.keras)
    [
        pytest.param(FINISHED, True, None, (2, True), id="finished"),
        pytest.param(OLDER, True, None, (2, True), id="finished-older-run-json"),
        pytest.param(CONTINUED, True, None, (2, True), id="continued-no-backup-yet"),
        pytest.param(CONTINUED, True, (3, 0), (3, False), id="continued-backed-up"),
        pytest.param(CONTINUED, True, (2, 1), (2, False), id="mid-epoch-backup-past-model"),
        pytest.param(CONTINUED, True, (1, 0), (2, True), id="backup-older-than-model"),
        pytest.param(NEW, False, (1, 0), (1, False), id="never-finished"),
        pytest.param(NEW, False, None, (0, False), id="nothing-trained"),
    ],
)
def test_finished_epochs_are_what_the_folder_holds(tmp_path, run, model, backup, expected):
    out = tmp_path / "run"
    _run_folder(out, run, model, backup)
    assert run_folder.resume_point(run, out) == expected
    assert run_folder.finished_epochs(run, out) == expected[0]
