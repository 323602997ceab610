"""A run over several training processes: data parallel on JAX, files from process 0 only.

Every process runs the same runner code, callbacks included (grids and metrics
call the model, which under a multi-process distribution every process must
join). Only process 0 writes the run folder; every other process writes into a
private scratch copy that starts from the run folder's state (so a resumed run
resumes alike everywhere, given a run folder every host can read: a shared
filesystem) and is deleted at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras

from keras_gans import distribute
from keras_gans.runner import run_folder

_STATE = (run_folder.RUN_FILE, "metrics.csv", run_folder.MODEL_FILE)


def start_data_parallel(setup) -> bool:
    """Spreads each global batch over every device of every process, where there are several.

    On JAX with more than one device in all (several processes, or several local
    accelerators) it sets `keras.distribution.DataParallel` unless a distribution
    is already set. Returns whether training is data parallel.

    Raises:
        ValueError: several processes on a backend the runner cannot spread over.
    """
    backend = keras.backend.backend()
    if backend != "jax":
        if setup.num_processes > 1:
            raise ValueError(
                f"keras-gans train runs several processes on the JAX backend only; this is "
                f"{backend}. Use KERAS_BACKEND=jax, or for TensorFlow's "
                "MultiWorkerMirroredStrategy train from Python (docs/distributed.md)."
            )
        return False
    if keras.distribution.distribution() is not None:
        return True
    if len(keras.distribution.list_devices()) < 2:
        return False
    keras.distribution.set_distribution(distribute.data_parallel())
    return True


def private_run_folder(out_dir) -> str:
    """A scratch run folder for a process other than 0, holding `out_dir`'s state.

    Args:
        out_dir: the run folder process 0 writes.

    Returns:
        The scratch folder; delete it when the run ends.
    """
    scratch = tempfile.mkdtemp(prefix="keras-gans-process-")
    for name in _STATE:
        source = os.path.join(os.fspath(out_dir), name)
        if os.path.exists(source):
            shutil.copy2(source, os.path.join(scratch, name))
    backup = os.path.join(os.fspath(out_dir), run_folder.BACKUP_DIR)
    if os.path.isdir(backup):
        shutil.copytree(backup, os.path.join(scratch, run_folder.BACKUP_DIR))
    return scratch
