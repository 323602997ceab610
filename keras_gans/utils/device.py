"""What training runs on, in words, for run folders, model cards and results."""

from __future__ import annotations

import os
import platform


def jax_on_cpu() -> bool:
    """True on JAX with a CPU as the default device, where XLA's CPU convolutions are slow.

    The networks take other, numerically equal routes there (see
    `networks.transposed`, `networks.convolution` and `networks.filtered_lrelu`).
    """
    import keras

    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "cpu"


def describe_device() -> str:
    """What training runs on, e.g. `"2 CPU cores"` or `"NVIDIA H100 80GB HBM3"`."""
    name = accelerator_name()
    if name is not None:
        return name
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores ({platform.machine()})"


def accelerator_name() -> str | None:
    """The first accelerator of the Keras backend in use (e.g. a GPU's name), or None on CPU."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return str(device.device_kind)
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
        elif backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return details.get("device_name", "GPU")
    except Exception:  # A device query must never stop training.
        pass
    return None
