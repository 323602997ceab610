"""Images/s and peak memory of DCGAN and ConditionalGAN at 64, 128 and 256 pixels.

Each configuration runs in its own process (so peak RSS is its own): build the model
(channels capped at `channel_max`, default 1,024), compile, and time `fit` steps after one
warm-up step on random RGB images.

Usage:
    KERAS_BACKEND=tensorflow python -m benchmarks.large_images --steps 3 --batch-size 16
Writes benchmarks/results/large_images_cpu.csv (large_images_<device>.csv on an accelerator).
"""

import argparse
import json
import os
import subprocess
import sys

from benchmarks.csv_rows import append_rows

ONE = r"""
import json, resource, sys, time
import numpy as np, keras, keras_gans
from keras_gans.utils.device import describe_device
name, size, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kwargs = dict(latent_dim=100, image_shape=(size, size, 3), width=64)
if name == "ConditionalGAN":
    kwargs["num_classes"] = 3
model = getattr(keras_gans, name)(**kwargs)
model.compile()
rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (batch * (steps + 1), size, size, 3)).astype("float32")
x = images if name != "ConditionalGAN" else (images, rng.integers(0, 3, len(images)))
first = (x[: batch] if name != "ConditionalGAN" else (x[0][:batch], x[1][:batch]))
model.fit(first, batch_size=batch, epochs=1, verbose=0)          # compile / warm up
start = time.perf_counter()
model.fit(x, batch_size=batch, epochs=1, verbose=0, steps_per_epoch=steps)
seconds = time.perf_counter() - start
print(json.dumps({
    "model": name, "image_size": size, "batch_size": batch,
    "generator_params": model.generator.count_params(),
    "discriminator_params": model.discriminator.count_params(),
    "images_per_s": round(batch * steps / seconds, 2),
    "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    "backend": keras.backend.backend(), "device": describe_device(),
}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--models", default="DCGAN,ConditionalGAN")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", default=None, help="CSV file (default by device)")
    args = parser.parse_args()
    rows = []
    for name in args.models.split(","):
        for size in map(int, args.sizes.split(",")):
            argv = [name, str(size), str(args.batch_size), str(args.steps)]
            result = subprocess.run(
                [sys.executable, "-c", ONE, *argv], capture_output=True, text=True, timeout=1800
            )
            if result.returncode != 0:
                raise SystemExit(f"{name} {size}: {result.stderr[-2000:]}")
            row = json.loads(result.stdout.strip().splitlines()[-1])
            print(row, flush=True)
            rows.append(row)
    device = rows[0]["device"].split(" (")[0].replace(" ", "_").lower()
    name = "cpu" if "CPU" in rows[0]["device"] else device
    out = args.out or os.path.join("benchmarks", "results", f"large_images_{name}.csv")
    append_rows(out, rows)
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
