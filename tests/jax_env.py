"""JAX settings for every test process: one compilation cache and quick compiles.

A JAX test compiles a tiny train step and runs it for a few batches, so XLA's compile
time, not the run time, is most of its cost. Two settings cut it:

- a persistent compilation cache shared by the test process and the interpreters the
  tests start (`$KERAS_GANS_JAX_CACHE`, else `keras_gans_jax_cache` in the temporary
  folder), so a step compiled once is loaded by the next test that builds it;
- XLA's CPU back end without LLVM's expensive optimisation passes: compiles take about
  60% of the time and run slower code, which tiny networks don't notice.

`tests/conftest.py` applies `settings()` to its own environment before JAX starts, and
`helpers.run_python` to every JAX interpreter a test starts:

```python
env = {**os.environ, **jax_env.settings("--xla_force_host_platform_device_count=4")}
```

This module imports nothing heavy, so the conftest can use it before Keras loads.
"""

import os
import tempfile

QUICK_COMPILE_FLAGS = (
    "--xla_backend_optimization_level=0",
    "--xla_llvm_disable_expensive_passes=true",
)


def _merge_flags(*flag_lists):
    """XLA flags from left to right; a later `--name=value` replaces an earlier one."""
    merged = {}
    for flags in flag_lists:
        for flag in flags.split() if isinstance(flags, str) else flags:
            merged[flag.split("=", 1)[0]] = flag
    return " ".join(merged.values())


def settings(extra_xla_flags=""):
    """Environment variables for a JAX process of the test suite.

    Args:
        extra_xla_flags: XLA flags this process needs as well (e.g. a virtual device
            count); they replace any flag of the same name.

    Returns:
        A dict of `JAX_*` and `XLA_FLAGS` variables to merge into the environment. The
        user's own `XLA_FLAGS` are kept unless a flag here has the same name.
    """
    cache = os.environ.get(
        "KERAS_GANS_JAX_CACHE", os.path.join(tempfile.gettempdir(), "keras_gans_jax_cache")
    )
    return {
        "JAX_COMPILATION_CACHE_DIR": cache,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "XLA_FLAGS": _merge_flags(
            os.environ.get("XLA_FLAGS", ""), QUICK_COMPILE_FLAGS, extra_xla_flags
        ),
    }
