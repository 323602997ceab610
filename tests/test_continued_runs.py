"""Carrying on a finished run never throws it away: kill -9 or divergence at any instant (issue 30).

Each test drives `keras-gans train` in fresh interpreters on one backend (a parameter, so
every backend is covered) and SIGKILLs them at chosen instants through code run before
the CLI. `spread_across_backends` deals the cases out to the suite's backend runs.
"""

import json
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests import helpers

pytestmark = pytest.mark.spread_across_backends

# gan.digits on 128 images in batches of 32: 4 steps per epoch, no dropout.
TINY = ["--max-images", "128", "--batch-size", "32", "--no-eval"]
CLI = "import sys; from keras_gans import cli; sys.exit(cli.main(sys.argv[1:]))"
# Run before the CLI: each kills the process itself (SIGKILL) at one instant.
KILL_IN_FIRST_EPOCH = (  # the second step of the first epoch it trains, before any backup
    "import os, signal; from keras_gans.runner import run_callbacks as c; "
    "c.EpochTimer.on_train_batch_end = "
    "lambda self, batch, logs=None: batch == 1 and os.kill(os.getpid(), signal.SIGKILL); "
)
KILL_IN_FIRST_BACKUP = (  # its weights file is in place, its training_metadata.json is not
    "import os, signal; from keras_gans.utils import files; write = files.write_json; "
    "files.write_json = lambda path, data: os.kill(os.getpid(), signal.SIGKILL) "
    "if str(path).endswith('training_metadata.json') else write(path, data); "
)
KILL_IN_FINAL_SAVE = (  # half a temporary model file written
    "import os, signal; from keras_gans.runner import run_folder; "
    "run_folder.save_model_atomically = lambda model, path: ("
    "open(os.path.join(os.path.dirname(path), '.model.9.x.tmp.keras'), 'wb').write(b'PK'), "
    "os.kill(os.getpid(), signal.SIGKILL)); "
)


def _cli(backend, *argv, kill_at="", killed=False):
    """`keras-gans ARGV` in a fresh interpreter; asserts it ended as expected."""
    result = subprocess.run(
        [sys.executable, "-c", kill_at + CLI, *map(str, argv)],
        env=helpers.process_env(backend),
        cwd=helpers.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if killed:
        assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    return result


def _finished(backend, out, epochs):
    result = _cli(backend, "train", "gan.digits", "--out", out, "--epochs", epochs, *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    return (out / "model.keras").read_bytes()


def _run_json(out):
    return json.loads((out / "run.json").read_text())


def _epochs_in_csv(out):
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    return [int(row.split(",")[0]) for row in rows]


def _model(out):
    model = keras.saving.load_model(out / "model.keras")
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    return steps, [keras.ops.convert_to_numpy(w) for w in model.weights]


def _assert_same_weights(a, b, backend):
    for x, y in zip(a, b, strict=True):
        if backend == "torch":  # torch reorders float sums between processes
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("backend", helpers.BACKENDS)
def test_a_continued_run_killed_at_any_instant_keeps_its_model_and_carries_on(tmp_path, backend):
    out, reference = tmp_path / "run", tmp_path / "reference"
    finished = _finished(backend, out, 2)
    shutil.copytree(out, reference)

    # kill -9 one step into the first new epoch, before its backup
    _cli(backend, "train", "--resume", out, "--epochs", 4, kill_at=KILL_IN_FIRST_EPOCH, killed=True)
    assert (out / "model.keras").read_bytes() == finished and not (out / "backup").exists()
    # kill -9 within that epoch's backup: the weights file written, its JSON not
    result = _cli(backend, "train", "--resume", out, kill_at=KILL_IN_FIRST_BACKUP, killed=True)
    assert "from epoch 3 (model.keras)" in result.stdout and "epochs 3-4" in result.stdout
    assert (out / "model.keras").read_bytes() == finished
    assert not (out / "backup" / "training_metadata.json").exists()
    # kill -9 within the final save
    result = _cli(backend, "train", "--resume", out, kill_at=KILL_IN_FINAL_SAVE, killed=True)
    assert "from epoch 4 (the backup in backup/)" in result.stdout
    assert (out / "model.keras").read_bytes() == finished
    assert _run_json(out)["epochs_done"] == 4  # as the backup says, written before the save
    # the same command once more finishes the run without training anything twice
    result = _cli(backend, "train", "--resume", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "all 4 epochs are trained" in result.stdout
    run = _run_json(out)
    assert (run["status"], run["epochs_done"], run["model_epoch"]) == ("finished", 4, 4)
    assert not (out / "backup").exists()
    assert _epochs_in_csv(out) == [0, 1, 2, 3]

    result = _cli(backend, "train", "--resume", reference, "--epochs", 4)  # never killed
    assert result.returncode == 0, result.stderr[-3000:]
    steps, weights = _model(out)
    expected_steps, expected = _model(reference)
    assert steps == expected_steps == 4 * 4
    _assert_same_weights(weights, expected, backend)


@pytest.mark.parametrize("backend", helpers.BACKENDS)
def test_a_continued_run_that_diverges_keeps_its_model_and_resumes_from_it(tmp_path, backend):
    out, reference = tmp_path / "run", tmp_path / "reference"
    finished = _finished(backend, out, 2)
    shutil.copytree(out, reference)

    result = _cli(backend, "train", "--resume", out, "--epochs", 4, "--lr-scale", "1e8")
    assert result.returncode == 1, result.stderr[-3000:]
    message = [line for line in result.stderr.splitlines() if "diverged" in line]
    assert len(message) == 1, result.stderr[-3000:]
    assert "Training diverged at epoch 3, step " in message[0]
    assert f"{out / 'model.keras'} holds the last finite weights, those of epoch 2." in message[0]
    assert message[0].endswith(f"keras-gans train --resume {out} --lr-scale 0.1")
    run = _run_json(out)
    assert (run["status"], run["epochs_done"], run["model_epoch"]) == ("diverged", 2, 2)
    assert (out / "model.keras").read_bytes() == finished

    # Its advice, with another scale: carries on from the 2-epoch model.
    result = _cli(backend, "train", "--resume", out, "--lr-scale", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "from epoch 3 (model.keras)" in result.stdout
    run = _run_json(out)
    assert (run["status"], run["epochs_done"], run["model_epoch"]) == ("finished", 4, 4)
    assert _epochs_in_csv(out) == [0, 1, 2, 3]

    result = _cli(backend, "train", "--resume", reference, "--epochs", 4, "--lr-scale", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    steps, weights = _model(out)
    expected_steps, expected = _model(reference)
    assert steps == expected_steps == 4 * 4
    _assert_same_weights(weights, expected, backend)
