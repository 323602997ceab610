"""Shared pytest set-up: quiet TensorFlow logs, seeds, and small real datasets.

The Keras backend is chosen by KERAS_BACKEND before pytest starts
(`tests/run.sh` runs the suite once per backend).
"""

import os
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tests import jax_env  # noqa: E402

if os.environ.get("KERAS_BACKEND") == "jax":
    # Before JAX starts: a compilation cache shared with the tests' subprocesses, and
    # quick compiles (tests/jax_env.py says why).
    os.environ.update(jax_env.settings())

# huggingface_hub must point at the test server before anything loads its constants;
# the server itself starts only for the tests that use the `hub` fixture.
from tests.hub_fixtures import configure_client  # noqa: E402

configure_client()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import helpers  # noqa: E402
from tests.hub_fixtures import hub, hub_offline, hub_repo_id, hub_token  # noqa: E402, F401


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


def pytest_collection_modifyitems(config, items):
    """Tests marked `spread_across_backends` are dealt out to the backends of one run.

    `tests/run.sh` names the backends it runs in `KERAS_GANS_TEST_BACKENDS`. When that
    lists this backend and others, the marked tests of each file (cases of a
    parametrized test included) are dealt in id order to the backends in turn, starting
    at a backend picked by the file's name, so each runs once per run and every backend
    runs a share. `@pytest.mark.spread_across_backends(backends=("jax", "tensorflow"))`
    deals a test only to those. A plain `pytest` runs every test.
    """
    backend = keras.backend.backend()
    # `@pytest.mark.backends("jax", ...)`: a test of one backend's own machinery (its
    # distribution API, say) runs where that backend runs and is deselected elsewhere.
    foreign = [item for item in items if _backends_of(item) and backend not in _backends_of(item)]
    if foreign:
        config.hook.pytest_deselected(items=foreign)
        items[:] = [item for item in items if item not in foreign]
    backends = os.environ.get("KERAS_GANS_TEST_BACKENDS", "").split()
    if len(backends) < 2 or backend not in backends:
        return
    by_file = {}
    for item in items:
        if item.get_closest_marker("spread_across_backends"):
            by_file.setdefault(item.path.name, []).append(item)
    elsewhere = set()
    for name, group in by_file.items():
        first = zlib.crc32(name.encode())
        for index, item in enumerate(sorted(group, key=lambda item: item.nodeid)):
            # `backends=(...)` on the marker: where the test can run (it skips elsewhere).
            able = item.get_closest_marker("spread_across_backends").kwargs.get("backends")
            able = [b for b in backends if able is None or b in able] or backends
            if able[(first + index) % len(able)] != backend:
                elsewhere.add(item)
    if elsewhere:
        config.hook.pytest_deselected(items=[item for item in items if item in elsewhere])
        items[:] = [item for item in items if item not in elsewhere]


def _backends_of(item):
    marker = item.get_closest_marker("backends")
    return marker.args if marker else ()
