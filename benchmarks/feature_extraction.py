"""Images per second of FID Inception feature extraction on the current backend.

Times `keras_gans.metrics.fid_inception_v3` (random weights: the speed does
not depend on them) end to end, as FID computations call it: validation, the
resize to 299x299 (pytorch-fid's bilinear, or clean-fid's bicubic with
`--resize clean`) and the network, batch by batch, after one warm-up batch
(compilation). The best of `--repeats` passes is kept. One CSV row is
printed, and appended to `--out` if given.

Usage:

```bash
KERAS_BACKEND=jax python -m benchmarks.feature_extraction --num-images 64 --batch-size 32
KERAS_BACKEND=torch python -m benchmarks.feature_extraction --out benchmarks/results/fid_cpu.csv
```
"""

import argparse
import csv
import io
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.csv_rows import append_rows  # noqa: E402
from benchmarks.throughput import device_name  # noqa: E402
from keras_gans.metrics import fid_inception_v3  # noqa: E402

PROTOCOLS = {
    "bilinear": "pytorch-fid pool3 (2048-d), bilinear resize to 299 (align_corners=False)",
    "clean": "pytorch-fid pool3 (2048-d), clean-fid PIL bicubic resize to 299",
}


def measure(args):
    """Returns the CSV row (a dict) of one benchmark run."""
    rng = np.random.default_rng(0)
    shape = (args.num_images, args.image_size, args.image_size, args.channels)
    images = rng.uniform(-1, 1, shape).astype("float32")
    start = time.perf_counter()
    extractor = fid_inception_v3(weights="random", resize=args.resize)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    extractor(images[: args.batch_size], batch_size=args.batch_size)
    warmup_s = time.perf_counter() - start
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        features = extractor(images, batch_size=args.batch_size)
        best = min(best, time.perf_counter() - start)
    assert features.shape == (args.num_images, 2048)
    backend = keras.backend.backend()
    return {
        "backend": backend,
        "device": device_name(backend),
        "extractor": extractor.name,
        "protocol": PROTOCOLS[args.resize],
        "image_shape": "x".join(map(str, shape[1:])),
        "num_images": args.num_images,
        "batch_size": args.batch_size,
        "build_s": round(build_s, 2),
        "warmup_s": round(warmup_s, 2),
        "images_per_s": round(args.num_images / best, 2),
        "keras_version": keras.__version__,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32, help="square input images")
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--resize", default="bilinear", choices=sorted(PROTOCOLS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", help="CSV file to append the row to")
    args = parser.parse_args(argv)
    for name in ("num_images", "batch_size", "image_size", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    row = measure(args)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    print(text.getvalue(), end="")
    if args.out:
        append_rows(args.out, [row])
    return row


if __name__ == "__main__":
    main()
