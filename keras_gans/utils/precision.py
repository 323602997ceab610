"""Which Keras dtype policy a run trains in: a recipe's `[training] precision`."""

from __future__ import annotations

import contextlib

from keras_gans.utils.device import accelerator_name

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
CHOICES = (*POLICIES, "auto")

# CPU flags (Linux /proc/cpuinfo) of instructions that compute in bfloat16.
_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags as Linux lists them; empty where it does not."""
    try:
        with open(path) as file:
            for line in file:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def resolve_precision(precision: str, backend: str | None = None, flags=None) -> str:
    """The dtype policy for a `precision` setting, with `"auto"` decided for this machine.

    `"auto"` is `"mixed_bfloat16"` where it was measured faster: TensorFlow or
    torch on a CPU with native bfloat16 instructions (AVX512-BF16 or AMX), about
    1.4x the images per second of float32 for DCGAN on 2 AMD EPYC cores
    (`benchmarks/results/cpu-x86_64-2cores.csv`). Everywhere else it is
    `"float32"`: XLA's CPU runs bfloat16 convolutions no faster than float32,
    CPUs without those instructions emulate them, and accelerators were not
    measured.

    Args:
        precision: `"float32"`, `"mixed_bfloat16"`, `"mixed_float16"` or `"auto"`.
        backend: the Keras backend (default the one in use); accelerators are
            those of the backend in use.
        flags: the CPU's feature flags (default read from `/proc/cpuinfo`).

    Example:

    ```python
    keras.mixed_precision.set_global_policy(resolve_precision("auto"))
    ```
    """
    if precision not in CHOICES:
        raise ValueError(f"precision must be one of {', '.join(CHOICES)}; received {precision!r}.")
    if precision != "auto":
        return precision
    import keras

    backend = backend or keras.backend.backend()
    if backend not in ("tensorflow", "torch") or accelerator_name() is not None:
        return "float32"
    flags = cpu_flags() if flags is None else set(flags)
    return "mixed_bfloat16" if flags.intersection(_BFLOAT16_FLAGS) else "float32"


@contextlib.contextmanager
def global_policy(policy: str):
    """Sets Keras' global dtype policy for the block, then puts the previous one back.

    Args:
        policy: a Keras dtype policy name such as `"mixed_bfloat16"`.

    Example:

    ```python
    with global_policy("mixed_bfloat16"):
        model = runner.build_model("dcgan.mnist5k")
    ```
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)
