"""Setting up training over several processes (hosts): who is who, and who writes files.

One process runs per host (or per accelerator group). They find each other through
a coordinator, process 0's `HOST:PORT`. `resolve` reads the set-up from explicit
arguments or from the launcher's environment variables, first match wins per field:

1. arguments (`--num-processes N --process-id I --coordinator HOST:PORT`);
2. Keras' own `KERAS_DISTRIBUTION_NUM_PROCESSES`, `KERAS_DISTRIBUTION_PROCESS_ID`,
   `KERAS_DISTRIBUTION_JOB_ADDRESSES` (comma-separated; the first is the coordinator);
3. SLURM (`srun`): `SLURM_NTASKS`, `SLURM_PROCID`, the first host of
   `SLURM_STEP_NODELIST` / `SLURM_JOB_NODELIST`, port `MASTER_PORT` or 12355;
4. Kubernetes / torchrun style: `WORLD_SIZE`, `RANK` (or an Indexed Job's
   `JOB_COMPLETION_INDEX`), `MASTER_ADDR`, `MASTER_PORT`.

On JAX, `initialize` starts `jax.distributed` through `keras.distribution.initialize`;
then `data_parallel()` spreads each global batch over every process's devices. On
TensorFlow, `tf_config` writes the `TF_CONFIG` that `MultiWorkerMirroredStrategy`
reads. Files (checkpoints, grids, cards, pushes) are written where `is_chief()`.

Example:

```python
from keras_gans import distribute

setup = distribute.initialize(num_processes=2, process_id=0, coordinator="10.0.0.1:1234")
keras.distribution.set_distribution(distribute.data_parallel())
if distribute.is_chief():
    gan.save("run/model.keras")
```
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re

import keras

DEFAULT_PORT = 12355
_SETUP = None


@dataclasses.dataclass(frozen=True)
class ProcessSetup:
    """Where this process stands among the training processes.

    Attributes:
        num_processes: how many processes train together.
        process_id: this process's index, 0 for the chief.
        coordinator: process 0's `HOST:PORT` (None for one process).
        source: where the values came from, in words.
    """

    num_processes: int = 1
    process_id: int = 0
    coordinator: str | None = None
    source: str = "single process"

    @property
    def is_chief(self) -> bool:
        return self.process_id == 0


def first_slurm_host(nodelist: str) -> str:
    """The first host of a SLURM node list: `"gpu[03-05,9],cpu1"` -> `"gpu03"`."""
    match = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist.strip())
    if not match:
        raise ValueError(f"Cannot read the SLURM node list {nodelist!r}.")
    prefix, ranges = match.groups()
    if not ranges:
        return prefix
    return prefix + re.split(r"[-,]", ranges)[0]


def _from_environment(environ) -> tuple[dict, str] | tuple[None, None]:
    if "KERAS_DISTRIBUTION_NUM_PROCESSES" in environ:
        addresses = environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES", "")
        return {
            "num_processes": environ["KERAS_DISTRIBUTION_NUM_PROCESSES"],
            "process_id": environ.get("KERAS_DISTRIBUTION_PROCESS_ID"),
            "coordinator": addresses.split(",")[0] or None,
        }, "KERAS_DISTRIBUTION_* variables"
    port = environ.get("MASTER_PORT", str(DEFAULT_PORT))
    if "SLURM_PROCID" in environ and ("SLURM_NTASKS" in environ or "SLURM_NPROCS" in environ):
        nodelist = environ.get("SLURM_STEP_NODELIST") or environ.get("SLURM_JOB_NODELIST")
        return {
            "num_processes": environ.get("SLURM_NTASKS") or environ["SLURM_NPROCS"],
            "process_id": environ["SLURM_PROCID"],
            "coordinator": f"{first_slurm_host(nodelist)}:{port}" if nodelist else None,
        }, "SLURM"
    if "WORLD_SIZE" in environ:
        rank = environ.get("RANK", environ.get("JOB_COMPLETION_INDEX"))
        address = environ.get("MASTER_ADDR")
        return {
            "num_processes": environ["WORLD_SIZE"],
            "process_id": rank,
            "coordinator": f"{address}:{port}" if address else None,
        }, "WORLD_SIZE/RANK/MASTER_ADDR"
    return None, None


def resolve(num_processes=None, process_id=None, coordinator=None, environ=None) -> ProcessSetup:
    """This process's `ProcessSetup` from arguments, else the environment (see module doc).

    Raises:
        ValueError: a process id out of range, or several processes without a
            `HOST:PORT` coordinator.
    """
    environ = os.environ if environ is None else environ
    given = {"num_processes": num_processes, "process_id": process_id, "coordinator": coordinator}
    found, source = _from_environment(environ)
    source = "arguments" if num_processes is not None else (source or "single process")
    values = {
        key: value if value is not None else (found or {}).get(key) for key, value in given.items()
    }
    count = int(values["num_processes"] or 1)
    index = int(values["process_id"] or 0)
    address = values["coordinator"]
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"The process id must be in [0, {count}); got {index} ({source}).")
    if count > 1:
        if not address or not re.fullmatch(r"[^\s:]+:\d+", address):
            raise ValueError(
                f"{count} processes need the coordinator's HOST:PORT (process 0's address, "
                f"e.g. --coordinator 10.0.0.1:12355); got {address!r} ({source})."
            )
    return ProcessSetup(count, index, address if count > 1 else None, source)


def initialize(num_processes=None, process_id=None, coordinator=None) -> ProcessSetup:
    """Resolves the set-up and, for several JAX processes, connects them.

    Call it before anything else touches the backend (no model built yet). On
    one process it changes nothing. On TensorFlow it checks that `TF_CONFIG` is
    set (see `tf_config`); torch runs one process.
    """
    global _SETUP
    setup = resolve(num_processes, process_id, coordinator)
    if setup.num_processes > 1:
        backend = keras.backend.backend()
        if backend == "jax":
            keras.distribution.initialize(setup.coordinator, setup.num_processes, setup.process_id)
        elif backend == "tensorflow":
            if "TF_CONFIG" not in os.environ:
                raise ValueError(
                    "Several TensorFlow workers need TF_CONFIG (see "
                    "keras_gans.distribute.tf_config) before the strategy is built."
                )
        else:
            raise ValueError(f"Training over several processes is not supported on {backend}.")
    _SETUP = setup
    return setup


def data_parallel():
    """`keras.distribution.DataParallel` over every process's devices (JAX).

    Each process feeds its own slice of the global batch (for example an
    `ImageFolderStream` with `num_shards`), so Keras' automatic sharding of
    tf.data input is turned off.
    """
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    distribution.auto_shard_dataset = False
    return distribution


@contextlib.contextmanager
def process_local():
    """Runs the block with no distribution set: for what process 0 does alone.

    `model.save` builds a throw-away optimizer variable; under a multi-process
    distribution that placement is a collective every process must join, so a
    save on process 0 alone would wait forever. Inside this block it is local.
    Only reading values (`np.array(variable)`) and writing files belong here:
    computing with the model (sample grids, metrics) must run on every process,
    and only the writing be left to the chief.

    Example:

    ```python
    if distribute.is_chief():
        with distribute.process_local():
            gan.save("run/checkpoint.keras")
    ```
    """
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(previous)


def tf_config(workers: list[str], index: int) -> str:
    """The `TF_CONFIG` JSON for worker `index` of `workers` (`HOST:PORT` each).

    Example:

    ```python
    os.environ["TF_CONFIG"] = tf_config(["10.0.0.1:12345", "10.0.0.2:12345"], 0)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    ```
    """
    if not 0 <= index < len(workers):
        raise ValueError(f"`index` must be in [0, {len(workers)}); got {index}.")
    return json.dumps(
        {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": int(index)}}
    )


def _tf_config_chief(text) -> bool:
    config = json.loads(text)
    task = config.get("task", {})
    if task.get("type") == "chief":
        return True
    has_chief = "chief" in config.get("cluster", {})
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and not has_chief


def process_setup() -> ProcessSetup:
    """The set-up `initialize` made, else the one the environment describes."""
    return _SETUP if _SETUP is not None else resolve()


def is_chief() -> bool:
    """Whether this process writes the run's files (process 0 / TF chief)."""
    if _SETUP is None and "TF_CONFIG" in os.environ:
        return _tf_config_chief(os.environ["TF_CONFIG"])
    return process_setup().is_chief
