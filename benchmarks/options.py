"""Cost of each training option per step, next to a plain DCGAN, on the current backend.

Every variant trains the same DCGAN shape on the same data through `fit`; the
CSV gives milliseconds per generator step and the ratio to the plain model.
WGAN-GP is timed with `d_steps=1` here so the ratio shows the penalty's own
cost (the default 5 critic steps cost about 5 discriminator updates more).

`--compile` instead times the plain DCGAN under each backend's compile options:
`jit_compile=True` (torch: `torch.compile` of the step; TensorFlow: XLA) against the
default, and on JAX `steps_per_execution=4` (four steps per compiled call) against 1.

Usage:

```bash
KERAS_BACKEND=tensorflow python -m benchmarks.options --out benchmarks/results/options_cpu.csv
KERAS_BACKEND=torch python -m benchmarks.options --compile --out benchmarks/results/compile_cpu.csv
```
"""

import argparse
import time

import keras
import numpy as np

import keras_gans
from benchmarks.csv_rows import append_rows
from benchmarks.throughput import device_name

VARIANTS = {
    "dcgan": ("DCGAN", {}),
    "hinge": ("DCGAN", {"loss": "hinge"}),
    "least_squares": ("DCGAN", {"loss": "least_squares"}),
    "spectral_norm": ("DCGAN", {"spectral_norm": True}),
    "r1": ("DCGAN", {"r1_weight": 1.0}),
    "diffaugment": ("DCGAN", {"augment": "diffaugment"}),
    "ema": ("DCGAN", {"ema_decay": 0.999}),
    "wgan_gp(d_steps=1)": ("WGANGP", {"d_steps": 1}),
    "conditional_concat": ("ConditionalGAN", {"num_classes": 10}),
    "conditional_projection": ("ConditionalGAN", {"num_classes": 10, "conditioning": "projection"}),
    "conditional_acgan": ("ConditionalGAN", {"num_classes": 10, "conditioning": "acgan"}),
}


COMPILE_VARIANTS = {
    "jax": {"default (jit)": {}, "steps_per_execution=4": {"steps_per_execution": 4}},
    "tensorflow": {"default (no XLA)": {}, "jit_compile=True (XLA)": {"jit_compile": True}},
    "torch": {"default (eager)": {}, "jit_compile=True (torch.compile)": {"jit_compile": True}},
}


def time_variant(class_name, kwargs, args, images, labels, compile_kwargs=None):
    keras.utils.set_random_seed(0)
    model = getattr(keras_gans, class_name)(
        latent_dim=args.latent_dim, image_shape=tuple(args.image_shape), width=args.width, **kwargs
    )
    model.compile(**(compile_kwargs or {}))
    data = images if model.num_classes is None else (images, labels)
    warmup = (
        data[: args.batch_size * 2]
        if model.num_classes is None
        else (
            images[: args.batch_size * 2],
            labels[: args.batch_size * 2],
        )
    )
    model.fit(warmup, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
    best = float("inf")
    for _ in range(args.repeats):  # the fastest of a few epochs: less noise from other load
        start = time.perf_counter()
        model.fit(data, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
        best = min(best, time.perf_counter() - start)
    return best / args.steps * 1000.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--image-shape", type=int, nargs=3, default=[28, 28, 1])
    parser.add_argument("--out", help="CSV file to append the rows to")
    parser.add_argument("--compile", action="store_true", help="time the compile options")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    count = args.batch_size * args.steps
    images = rng.uniform(-1, 1, (count,) + tuple(args.image_shape)).astype("float32")
    labels = rng.integers(0, 10, count).astype("int32")
    backend, device = keras.backend.backend(), device_name(keras.backend.backend())
    rows, baseline = [], None
    if args.compile:
        variants = {name: ("DCGAN", {}, kw) for name, kw in COMPILE_VARIANTS[backend].items()}
    else:
        variants = {name: (cls, kwargs, {}) for name, (cls, kwargs) in VARIANTS.items()}
    for name, (class_name, kwargs, compile_kwargs) in variants.items():
        try:
            ms = time_variant(class_name, kwargs, args, images, labels, compile_kwargs)
        except Exception as error:  # a compile option this backend cannot run: say why
            print(f"{backend:>10} {name:>24} failed: {type(error).__name__}: {error}"[:300])
            continue
        baseline = baseline or ms
        row = {
            "backend": backend,
            "device": device,
            "variant": name,
            "image_shape": "x".join(map(str, args.image_shape)),
            "width": args.width,
            "batch_size": args.batch_size,
            "ms_per_step": round(ms, 1),
            "relative_to_dcgan": round(ms / baseline, 2),
        }
        rows.append(row)
        print(
            f"{backend:>10} {name:>24} {row['ms_per_step']:>8} ms/step  x{row['relative_to_dcgan']}"
        )
    if args.out:
        append_rows(args.out, rows)
    return rows


if __name__ == "__main__":
    main()
