"""Shared pytest set-up: quiet TensorFlow logs, seeds, and small real datasets.

The Keras backend is chosen by KERAS_BACKEND before pytest starts
(`tests/run.sh` runs the suite once per backend).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# huggingface_hub must point at the test server before anything loads its constants;
# the server itself starts only for the tests that use the `hub` fixture.
from tests.hub_fixtures import configure_client  # noqa: E402

configure_client()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import helpers  # noqa: E402
from tests.hub_fixtures import hub, hub_offline, hub_repo_id, hub_token  # noqa: E402, F401

if keras.backend.backend() == "jax":
    # Many tests compile the same tiny networks: share compiled steps between them.
    import tempfile

    import jax

    jax.config.update(
        "jax_compilation_cache_dir",
        os.environ.get(
            "KERAS_GANS_JAX_CACHE", os.path.join(tempfile.gettempdir(), "keras_gans_jax_cache")
        ),
    )
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _seed_everything():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 1,797 real 8x8 digits in [-1, 1] and their labels."""
    return helpers.load_digits()


@pytest.fixture
def tiny_images():
    return np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
