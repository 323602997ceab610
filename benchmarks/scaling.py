"""Data-parallel scaling: images/s of `fit` on 1, 2 and 4 devices with JAX's DataParallel.

Runs each device count in a fresh interpreter. With no accelerators it uses
virtual CPU devices (`--xla_force_host_platform_device_count`), which share
the machine's cores: that checks the sharded program runs and what it costs,
not the speed-up real devices would give.

Usage:

```bash
python -m benchmarks.scaling --out benchmarks/results/scaling_cpu.csv
```
"""

import argparse
import json
import os
import subprocess
import sys

from benchmarks.csv_rows import append_rows

WORKER = """
import json, time
import numpy as np, jax, keras, keras_gans
devices = {devices}
if devices > 1:
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices()[:devices]))
keras.utils.set_random_seed(0)
gan = keras_gans.DCGAN(latent_dim=100, image_shape=(28, 28, 1), width={width})
gan.compile()
images = np.random.default_rng(0).uniform(-1, 1, ({batch} * {steps}, 28, 28, 1)).astype("float32")
gan.fit(images[: {batch} * 2], batch_size={batch}, epochs=1, verbose=0)
start = time.perf_counter()
gan.fit(images, batch_size={batch}, epochs=1, verbose=0)
elapsed = time.perf_counter() - start
device = jax.devices()[0]
print(json.dumps({{"devices": devices, "images_per_s": len(images) / elapsed,
                   "platform": device.platform, "visible_devices": len(jax.devices())}}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    if "XLA_FLAGS" not in env:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={max(args.devices)}"
    rows = []
    for count in args.devices:
        code = WORKER.format(
            devices=count, width=args.width, batch=args.batch_size, steps=args.steps
        )
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
        row = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(row)
    base = rows[0]["images_per_s"]
    for row in rows:
        row["images_per_s"] = round(row["images_per_s"], 1)
        row["speedup"] = round(row["images_per_s"] / base, 2)
        row["efficiency"] = round(row["speedup"] / row["devices"], 2)
        row.update(batch_size=args.batch_size, width=args.width)
        print(
            f"{row['devices']} x {row['platform']}: {row['images_per_s']} img/s  "
            f"speed-up {row['speedup']}  efficiency {row['efficiency']}"
        )
    if args.out:
        append_rows(args.out, rows)
    return rows


if __name__ == "__main__":
    main()
