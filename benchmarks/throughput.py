"""Training throughput of `fit` next to a plain hand-written loop, per backend, in one run.

For each backend a fresh interpreter builds the same DCGAN twice and trains
it on the same data: once through `gan.fit`, once through the shortest
correct hand-written loop for that backend (a `tf.function` with two tapes,
a `jax.jit` step over `stateless_call`, a torch autograd loop), both doing
the same work per step as `fit`'s default: the generator runs forward once,
the discriminator trains on the real batch and that generated batch, then the
generator trains through the updated discriminator on the same generated batch
(its kept tape, vjp or graph). Both use Keras' Adam. `--dtype-policies` runs
each under `float32` and/or `mixed_bfloat16` (losses in float32).

Usage:

```bash
python benchmarks/throughput.py                      # DCGAN-MNIST shape, all backends
python benchmarks/throughput.py --backends tensorflow --steps 30
python benchmarks/throughput.py --out benchmarks/results/throughput_cpu.csv
python benchmarks/throughput.py --dtype-policies mixed_bfloat16 --image-shape 32 32 3
```
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.csv_rows import append_rows  # noqa: E402

FIELDS = [
    "backend",
    "device",
    "model",
    "image_shape",
    "dtype",
    "batch_size",
    "steps",
    "jit_compile",
    "fit_images_per_s",
    "loop_images_per_s",
    "fit_over_loop",
    "keras_version",
]


def device_name(backend):
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.platform}:{getattr(device, 'device_kind', '')}".strip(":")
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return "gpu:" + torch.cuda.get_device_name(0)
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return "gpu:" + gpus[0].name
    return f"cpu:{platform.processor() or platform.machine()} x{os.cpu_count()}"


def make_step_data(args):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (args.batch_size * args.steps,) + tuple(args.image_shape)
    return rng.uniform(-1, 1, shape).astype("float32")


def build_gan(args, jit_compile="auto"):
    import keras

    import keras_gans

    keras.utils.set_random_seed(0)
    gan = keras_gans.DCGAN(
        latent_dim=args.latent_dim, image_shape=tuple(args.image_shape), width=args.width
    )
    gan.compile(jit_compile=jit_compile)
    return gan


def time_fit(args, images, jit_compile="auto"):
    gan = build_gan(args, jit_compile)
    warmup = images[: args.batch_size * 2]
    gan.fit(warmup, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    gan.fit(images, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
    return len(images) / (time.perf_counter() - start), gan.jit_compile


def jax_gan_state(generator, discriminator, g_optimizer, d_optimizer):
    """The values a hand-written JAX GAN step carries: both networks' weights and states,
    both optimizers' slots, as copies (the steps donate their state, which must not be
    the variables' own buffers)."""
    import jax

    def values(variables):
        return [jax.numpy.array(v.value) for v in variables]

    return [
        values(generator.trainable_variables),
        values(generator.non_trainable_variables),
        values(discriminator.trainable_variables),
        values(discriminator.non_trainable_variables),
        values(g_optimizer.variables),
        values(d_optimizer.variables),
    ]


def hand_written_loop(backend, args):
    """Returns `run(images)` that trains a fresh DCGAN over `images` by hand."""
    gan = build_gan(args)
    generator, discriminator = gan.generator, gan.discriminator
    d_optimizer, g_optimizer = gan.d_optimizer, gan.g_optimizer
    batch, latent_dim = args.batch_size, args.latent_dim
    import keras
    from keras import ops

    def d_loss_of(logits):
        logits = ops.cast(logits, "float32")
        real, fake = logits[:batch], logits[batch:]
        return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))

    def g_loss_of(logits):
        return ops.mean(ops.softplus(-ops.cast(logits, "float32")))

    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(real):
            z = tf.random.normal((batch, latent_dim))
            d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
            with tf.GradientTape() as g_tape:
                fake = generator(z, training=True)
                with tf.GradientTape() as d_tape:
                    both = tf.concat([tf.cast(real, fake.dtype), tf.stop_gradient(fake)], 0)
                    d_loss = d_loss_of(discriminator(both, training=True))
                d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
                g_loss = g_loss_of(discriminator(fake, training=True))
            g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
            return d_loss, g_loss

        def run(images):
            for i in range(0, len(images), batch):
                losses = step(images[i : i + batch])
            return [float(x) for x in losses]

        return run

    if backend == "torch":
        import torch

        def run(images):
            d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
            for i in range(0, len(images), batch):
                fake = generator(torch.randn(batch, latent_dim), training=True)
                real = torch.from_numpy(images[i : i + batch]).to(fake.dtype)
                both = torch.cat([real, fake.detach()])
                d_loss = d_loss_of(discriminator(both, training=True))
                grads = torch.autograd.grad(d_loss, [v.value for v in d_vars])
                with torch.no_grad():
                    d_optimizer.apply(grads, d_vars)
                g_loss = g_loss_of(discriminator(fake, training=True))
                grads = torch.autograd.grad(g_loss, [v.value for v in g_vars])
                with torch.no_grad():
                    g_optimizer.apply(grads, g_vars)
            return [float(d_loss), float(g_loss)]

        return run

    import jax

    def step(state, real):
        g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt, key = state
        key, key_z = jax.random.split(key)
        z = jax.random.normal(key_z, (batch, latent_dim))
        fake, backward, g_ntv = jax.vjp(
            lambda g_tv: generator.stateless_call(g_tv, g_ntv, z, training=True),
            g_tv,
            has_aux=True,
        )

        def d_objective(d_tv):
            both = jax.numpy.concatenate([real.astype(fake.dtype), jax.lax.stop_gradient(fake)])
            logits, new_d_ntv = discriminator.stateless_call(d_tv, d_ntv, both, training=True)
            return d_loss_of(logits), new_d_ntv

        (d_loss, d_ntv), grads = jax.value_and_grad(d_objective, has_aux=True)(d_tv)
        d_tv, d_opt = d_optimizer.stateless_apply(d_opt, grads, d_tv)

        def g_objective(fake):
            logits, new_d_ntv = discriminator.stateless_call(d_tv, d_ntv, fake, training=True)
            return g_loss_of(logits), new_d_ntv

        (g_loss, d_ntv), fake_grad = jax.value_and_grad(g_objective, has_aux=True)(fake)
        (grads,) = backward(fake_grad)
        g_tv, g_opt = g_optimizer.stateless_apply(g_opt, grads, g_tv)
        return (g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt, key), d_loss, g_loss

    step = jax.jit(step, donate_argnums=0)

    def run(images):
        state = (
            *jax_gan_state(generator, discriminator, g_optimizer, d_optimizer),
            jax.random.PRNGKey(0),
        )
        for i in range(0, len(images), batch):
            state, d_loss, g_loss = step(state, images[i : i + batch])
        return [float(d_loss), float(g_loss)]

    del keras
    return run


def time_loop(backend, args, images):
    run = hand_written_loop(backend, args)
    run(images[: args.batch_size * 2])
    start = time.perf_counter()
    run(images)
    return len(images) / (time.perf_counter() - start)


def worker(args):
    import keras

    backend = keras.backend.backend()
    images = make_step_data(args)
    rows = []
    variants = [(policy, "auto", "auto") for policy in args.dtype_policies]
    if backend == "tensorflow" and "float32" in args.dtype_policies:
        variants.append(("float32", "xla", True))
    for policy, label, jit in variants:
        keras.mixed_precision.set_global_policy(policy)
        best_fit, best_loop = 0.0, 0.0
        for _ in range(args.repeats):
            fit_speed, resolved_jit = time_fit(args, images, jit)
            best_fit = max(best_fit, fit_speed)
            if label == "auto":
                best_loop = max(best_loop, time_loop(backend, args, images))
        rows.append(
            {
                "backend": backend,
                "device": device_name(backend),
                "model": f"DCGAN(width={args.width}, latent_dim={args.latent_dim})",
                "image_shape": "x".join(map(str, args.image_shape)),
                "dtype": policy,
                "batch_size": args.batch_size,
                "steps": args.steps,
                "jit_compile": f"{label}={resolved_jit}",
                "fit_images_per_s": round(best_fit, 1),
                "loop_images_per_s": round(best_loop, 1) if best_loop else "",
                "fit_over_loop": round(best_fit / best_loop, 3) if best_loop else "",
                "keras_version": keras.__version__,
            }
        )
    print("RESULT " + json.dumps(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--image-shape", type=int, nargs=3, default=[28, 28, 1])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--dtype-policies",
        nargs="+",
        default=["float32", "mixed_bfloat16"],
        choices=["float32", "mixed_bfloat16"],
        help="Keras dtype policies to measure (mixed_float16 would need loss scaling in "
        "the hand-written loops too)",
    )
    parser.add_argument("--out", help="CSV file to append the rows to")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    rows = []
    for backend in args.backends:
        command = [sys.executable, __file__, "--worker"] + [
            a for a in (argv if argv is not None else sys.argv[1:]) if a != "--worker"
        ]
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode != 0 or not lines:
            print(result.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"benchmark failed on {backend}")
        rows += json.loads(lines[-1][len("RESULT ") :])
        for row in json.loads(lines[-1][len("RESULT ") :]):
            print(
                f"{row['backend']:>10} {row['dtype']:>14} {row['jit_compile']:>12}  "
                f"fit {row['fit_images_per_s']:>8} "
                f"img/s  loop {row['loop_images_per_s'] or '-':>8} img/s  "
                f"fit/loop {row['fit_over_loop'] or '-'}  ({row['device']})"
            )
    if args.out:
        append_rows(args.out, rows, FIELDS)
    return rows


if __name__ == "__main__":
    main()
