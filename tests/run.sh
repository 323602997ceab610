#!/usr/bin/env bash
# Runs the whole test suite once per Keras backend (JAX, TensorFlow, PyTorch), each
# on KERAS_GANS_TEST_WORKERS pytest-xdist workers (default 2; 0 runs in one process),
# whole test files per worker; torch's workers get OMP_NUM_THREADS=1 unless it is set.
# Tests marked `spread_across_backends` run on one of the backends each (conftest.py).
# Usage: bash tests/run.sh [pytest args...]   e.g. bash tests/run.sh -m "not slow"
# Exits non-zero if any backend's run fails.
set -u
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONDONTWRITEBYTECODE=1
export KERAS_GANS_TEST_BACKENDS="${KERAS_GANS_TEST_BACKENDS:-jax tensorflow torch}"
status=0
workers="${KERAS_GANS_TEST_WORKERS:-2}"
for backend in $KERAS_GANS_TEST_BACKENDS; do
    echo "=== KERAS_BACKEND=$backend ==="
    start=$SECONDS
    threads=()
    if [ "$backend" = torch ] && [ "$workers" -gt 1 ] && [ -z "${OMP_NUM_THREADS:-}" ]; then
        threads=(OMP_NUM_THREADS=1)  # eager torch workers oversubscribe the cores otherwise
    fi
    env ${threads[@]+"${threads[@]}"} KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider \
        -n "$workers" --dist loadfile "$@" || status=1
    echo "=== $backend: $((SECONDS - start)) s ==="
done
exit $status
