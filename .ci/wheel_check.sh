#!/usr/bin/env bash
# Builds the wheel, installs it into a fresh virtual environment (the heavy
# dependencies come from the system site-packages) and, from a folder outside the
# repository, runs what a new user runs first: --help, list and a one-epoch train.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python -m pip wheel -q --no-deps --no-build-isolation "$repo" -w "$work/dist"
python -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-deps --force-reinstall "$work"/dist/keras_gans-*.whl
cd "$work"
installed="$("$work/venv/bin/python" -c 'import keras_gans, os; print(os.path.dirname(keras_gans.__file__))')"
case "$installed" in
    "$repo"*) echo "wheel check: keras_gans imported from the checkout ($installed), not the wheel"; exit 1 ;;
esac
seconds() {  # wall seconds of one command, output discarded
    python -c 'import subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - start:.2f}")' "$@"
}
help_s=$(seconds "$work/venv/bin/keras-gans" --help)
keras_s=$(seconds "$work/venv/bin/python" -c "import keras")
echo "wheel check: keras-gans --help ${help_s} s, python -c 'import keras' ${keras_s} s"
python -c "import sys; sys.exit(not float('$help_s') <= float('$keras_s') / 2)" \
    || { echo "wheel check: --help is slower than half of 'import keras'"; exit 1; }
"$work/venv/bin/keras-gans" list | tee "$work/list.txt" | tail -n 3
for recipe in dcgan.mnist5k cgan.mnist5k gan.digits wgan_gp.fashion_mnist sngan.cifar10 stylegan3.mnist5k; do
    grep -q "$recipe" "$work/list.txt" || { echo "wheel check: $recipe missing from list"; exit 1; }
done
"$work/venv/bin/keras-gans" --backend tensorflow train gan.digits --epochs 1 --max-images 64 \
    --batch-size 32 --no-eval --out "$work/run" 2>"$work/train.err"
if grep -E "oneDNN|cpu_feature_guard|absl::InitializeLog|remapper" "$work/train.err"; then
    echo "wheel check: TensorFlow log lines reached the terminal"; exit 1
fi
test -f "$work/run/model.keras" && test -f "$work/run/README.md"
"$work/venv/bin/python" - 2>"$work/api.err" <<'PY' || { cat "$work/api.err"; exit 1; }
import keras_gans
model = keras_gans.from_pretrained("run/model.keras")
assert model.generate(4, seed=0).shape == (4, 8, 8, 1)
PY
echo "wheel check: passed (list shows every recipe, one-epoch train from outside the repo)"
