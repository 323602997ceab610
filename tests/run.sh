#!/usr/bin/env bash
# Runs the whole test suite once per Keras backend (JAX, TensorFlow, PyTorch).
# Usage: bash tests/run.sh [pytest args...]   e.g. bash tests/run.sh -m "not slow"
# Exits non-zero if any backend's run fails.
set -u
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONDONTWRITEBYTECODE=1
status=0
for backend in ${KERAS_GANS_TEST_BACKENDS:-jax tensorflow torch}; do
    echo "=== KERAS_BACKEND=$backend ==="
    start=$SECONDS
    KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider "$@" || status=1
    echo "=== $backend: $((SECONDS - start)) s ==="
done
exit $status
