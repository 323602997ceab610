"""Images/s of StyleGAN2 and R3GAN training through `fit`, next to a hand-written loop, per backend.

For each backend a fresh interpreter (KERAS_BACKEND set) builds each model
(`keras_gans.StyleGAN2`, `keras_gans.R3GAN`) at each size (32x32x3, 64x64x3) on
random images, trains one warm-up epoch of `--warmup-steps` steps, then times
`--steps` steps of `fit` (one epoch, no shuffling). A second, identically seeded
model is then trained by the shortest hand-written loop that does the same work:

- the same networks, the same objective functions
  (`keras_gans.objective.stylegan2`: `stylegan2_discriminator_loss`,
  `stylegan2_generator_loss`, `r3gan_discriminator_loss`, `r3gan_generator_loss`)
  and the model's own optimizers (`d_optimizer`, `g_optimizer`);
- per step one discriminator update, then one generator update on the same
  batch, then the EMA update of the sampling generator (both models keep one);
- StyleGAN2's lazy regularisation at the model's cadence (`r1_interval`,
  `pl_interval`, the defaults), counted from step 0 in both: the loop passes the same 1.0/0.0
  masks the model computes, a tensor on TensorFlow and JAX (the penalty is
  computed and multiplied by 0, as in `fit`), a Python float on torch (the
  penalty is skipped, as in `fit`). Both runs use the same warm-up length, so the
  timed window holds the same penalty steps. R3GAN's R1 + R2 run every step in both.

The loops: TensorFlow, a `tf.function` with one `GradientTape` per update; torch,
a plain `torch.autograd.grad` loop; JAX, one `jax.jit` step over an explicit list
of values. The objective functions read and assign model state (the noise
`SeedGenerator`, `w_avg`, `pl_mean`) and call the networks directly, so a
per-network `stateless_call` cannot run them: the JAX loop maps every model and
optimizer variable to its value in a `keras.StatelessScope` (what `stateless_call`
does inside) and differentiates a pure function of one network's weights with
`jax.value_and_grad`, then applies `optimizer.stateless_apply`. That is the same
gradient mechanic as `keras_gans.trainers.jax`, so on JAX fit/loop measures what
Keras' `fit` adds around the step (data adapter, data checks, metrics, state
plumbing), not a different way of computing it. The input gradients of R1 / R2 /
path length come from `model._input_gradient` in every loop (the objective calls it).

What the loops leave out, and `fit` does: the five loss/accuracy metrics, the
model's step counters (`d_reg_step`, `g_reg_step`, `optimizer.iterations`) and the
per-batch data checks. As a check that both did the same updates, each pair prints
the largest difference between the two models' generator, discriminator, EMA
generator, `w_avg` and `pl_mean` after training (same seed, batches and noise stream).

Usage:

```bash
python -m benchmarks.style_families --out benchmarks/results/style_families_cpu.csv
python -m benchmarks.style_families --backends tensorflow --sizes 64 --steps 4
python -m benchmarks.style_families --models r3gan --sizes 32 --batch-size 16
python -m benchmarks.style_families --threads 1      # a CPU shared with other work
```

Caveats:

- On CPU a row is a window of a few steps (`--steps`), seconds long, so a busy
  machine moves it by tens of percent; read fit/loop within one row, and compare
  rows only within one run.
- `--threads N` sets OMP_NUM_THREADS and TensorFlow's intra/inter-op threads in
  each backend's process (written into `settings`). On a CPU shared with another
  job, torch's default two-thread OpenMP pool ran 4-20x slower than one thread.
- The model settings (the `settings` column) are small, far below the papers'
  widths, so that a 64x64 step stays around a second on a 2-core CPU; they are
  complete in structure (mapping network, modulated convs, lazy R1 and path
  length, minibatch std; R3GAN's grouped-conv ResNets with R1 + R2), not in size.
- R3GAN's grouped convolutions are slow off-GPU on TensorFlow (Keras' TensorFlow
  backend compiles each grouped conv alone with XLA on CPU; not the whole step)
  and on JAX/XLA CPU, so its CPU rows there say little about a GPU.
- On torch a lazy penalty is skipped on the steps it does not run, so the rate
  depends on how many penalty steps fall in the timed window (`--warmup-steps`,
  `--steps`); fit and loop see the same ones.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.csv_rows import append_rows  # noqa: E402
from benchmarks.throughput import device_name  # noqa: E402

FIELDS = [
    "backend",
    "device",
    "model",
    "image_shape",
    "settings",
    "batch_size",
    "steps",
    "fit_images_per_s",
    "loop_images_per_s",
    "fit_over_loop",
    "keras_version",
]

# Small but complete networks: a 64x64 step about a second or less on 2 CPU cores (torch).
SETTINGS = {
    "stylegan2": dict(latent_dim=64, mapping_layers=2, channel_base=1024, channel_max=64),
    # StyleGAN3-T as the stylegan3.mnist5k recipe sizes it (8 alias-free layers), RGB here
    "stylegan3": dict(
        latent_dim=32,
        mapping_layers=2,
        num_layers=8,
        channel_base=1024,
        channel_max=32,
        d_channel_base=1024,
        d_channel_max=64,
    ),
    "r3gan": dict(latent_dim=64, width=24, cardinality=4, blocks=1, expansion=2),
}
# Model options that decide the work of a step, written into the `settings` column.
RECORDED = {
    "stylegan2": ("r1_gamma", "r1_interval", "pl_weight", "pl_interval", "ema_decay"),
    "stylegan3": ("config", "r1_gamma", "r1_interval", "ema_decay"),
    "r3gan": ("gamma", "ema_decay"),
}


def build(name, size):
    import keras

    import keras_gans

    keras.utils.set_random_seed(0)
    classes = {"stylegan2": keras_gans.StyleGAN2, "stylegan3": keras_gans.StyleGAN3}
    cls = classes.get(name, keras_gans.R3GAN)
    model = cls(image_shape=(size, size, 3), seed=0, **SETTINGS[name])
    model.compile()
    return model


def settings_of(name, model):
    values = dict(SETTINGS[name], **{key: getattr(model, key) for key in RECORDED[name]})
    return " ".join(f"{key}={value}" for key, value in values.items())


def objective_calls(name, model):
    """`(d_loss(real, mask), g_loss(real, mask))`: the model's objective, as its step calls it."""
    from keras import ops

    from keras_gans.objective import stylegan2 as objective
    from keras_gans.objective import stylegan3

    if name == "stylegan3":  # T config: no blur (sigma 0), so the step's blur is a no-op

        def g_loss(real, _):
            loss = stylegan3.stylegan3_generator_loss(model, ops.shape(real)[0], None, 0.0)
            model.images_seen.assign_add(ops.cast(ops.shape(real)[0], "float32"))
            return loss

        return (
            lambda real, r1_mask: stylegan3.stylegan3_discriminator_loss(
                model, real, None, r1_mask, 0.0
            ),
            g_loss,
        )
    if name == "stylegan2":
        return (
            lambda real, r1_mask: objective.stylegan2_discriminator_loss(
                model, real, None, r1_mask
            ),
            lambda real, pl_mask: objective.stylegan2_generator_loss(
                model, ops.shape(real)[0], None, pl_mask
            ),
        )
    gamma = model.gamma or None  # no gamma schedule here: the constant, as `current_gamma()`
    return (
        lambda real, _: objective.r3gan_discriminator_loss(model, real, None, gamma),
        lambda real, _: objective.r3gan_generator_loss(model, real, None),
    )


def update_ema(model, step):
    """ema = w + d (ema - w), d = min(decay, (1 + step) / (10 + step)): `enable_ema`'s average."""
    from keras import ops

    decay = ops.minimum(model.ema_decay, (1.0 + step) / (10.0 + step))
    for average, weight in zip(model.ema_generator.weights, model.generator.weights):
        if weight.trainable or type(model).__name__ != "StyleGAN3":
            average.assign(weight + decay * (average - weight))
        else:  # StyleGAN3 copies its state (magnitude averages, filters), as NVIDIA does
            average.assign(weight)


def masks(name, model, step):
    """The lazy-regularisation masks of `step` (counted from 0): 1.0 when the penalty runs."""
    if name == "r3gan":
        return 1.0, 1.0

    def mask(interval):
        return 1.0 if interval <= 1 else float(step % interval == 0)

    return mask(model.r1_interval), mask(getattr(model, "pl_interval", 1))


def hand_written_loop(backend, name, model):
    """Returns `run(batches, first_step)` training `model` by hand, one update per network."""
    d_loss_of, g_loss_of = objective_calls(name, model)
    generator, discriminator = model.generator, model.discriminator
    d_optimizer, g_optimizer = model.d_optimizer, model.g_optimizer

    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(real, r1_mask, pl_mask, ema_step):
            d_vars = discriminator.trainable_variables
            with tf.GradientTape() as tape:
                d_loss, _ = d_loss_of(real, r1_mask)
            d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
            g_vars = generator.trainable_variables
            with tf.GradientTape() as tape:
                g_loss, _ = g_loss_of(real, pl_mask)
            g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
            update_ema(model, ema_step)
            return d_loss, g_loss

        def run(batches, first_step):
            for i, real in enumerate(batches):
                r1_mask, pl_mask = masks(name, model, first_step + i)
                losses = step(
                    tf.constant(real), tf.constant(r1_mask), tf.constant(pl_mask),
                    tf.constant(float(first_step + i)),
                )  # fmt: skip
            return [float(x) for x in losses]

        return run

    if backend == "torch":
        import torch

        def run(batches, first_step):
            d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
            for i, real in enumerate(batches):
                real = torch.from_numpy(real)
                r1_mask, pl_mask = masks(name, model, first_step + i)  # Python floats
                d_loss, _ = d_loss_of(real, r1_mask)
                grads = torch.autograd.grad(d_loss, [v.value for v in d_vars])
                with torch.no_grad():
                    d_optimizer.apply(grads, d_vars)
                g_loss, _ = g_loss_of(real, pl_mask)
                grads = torch.autograd.grad(g_loss, [v.value for v in g_vars])
                with torch.no_grad():
                    g_optimizer.apply(grads, g_vars)
                    update_ema(model, float(first_step + i))
            return [float(d_loss), float(g_loss)]

        return run

    import jax
    import numpy as np
    from keras import StatelessScope

    state_vars, seen = [], set()
    for v in model.variables + d_optimizer.variables + g_optimizer.variables:
        if id(v) not in seen:
            seen.add(id(v))
            state_vars.append(v)

    def minimize(scope, weights, optimizer, loss_fn):
        weight_ids = {id(v) for v in weights}
        others = [v for v in state_vars if id(v) not in weight_ids]

        def pure(weight_values):
            mapping = [(v, scope.get_current_value(v)) for v in others]
            with StatelessScope(state_mapping=mapping + list(zip(weights, weight_values))) as inner:
                loss, _ = loss_fn()
            # noise seeds, w_avg, pl_mean as the loss left them
            return loss, [inner.get_current_value(v) for v in others]

        values = [scope.get_current_value(v) for v in weights]
        (loss, updated), grads = jax.value_and_grad(pure, has_aux=True)(values)
        for v, value in zip(others, updated):
            v.assign(value)
        slots = [scope.get_current_value(v) for v in optimizer.variables]
        new_values, new_slots = optimizer.stateless_apply(slots, grads, values)
        for v, value in zip(weights + optimizer.variables, new_values + new_slots):
            v.assign(value)
        return loss

    def step(state, real, r1_mask, pl_mask, ema_step):
        with StatelessScope(state_mapping=list(zip(state_vars, state))) as scope:
            d_loss = minimize(
                scope, discriminator.trainable_variables, d_optimizer,
                lambda: d_loss_of(real, r1_mask),
            )  # fmt: skip
            g_loss = minimize(
                scope, generator.trainable_variables, g_optimizer, lambda: g_loss_of(real, pl_mask)
            )
            update_ema(model, ema_step)
            state = [scope.get_current_value(v) for v in state_vars]
        return state, d_loss, g_loss

    step = jax.jit(step, donate_argnums=0)

    def run(batches, first_step):
        # Copies: the step donates its state, which must not be the variables' own buffers.
        state = [jax.numpy.array(v.value) for v in state_vars]
        for i, real in enumerate(batches):
            r1_mask, pl_mask = masks(name, model, first_step + i)
            scalars = (np.float32(r1_mask), np.float32(pl_mask), np.float32(first_step + i))
            state, d_loss, g_loss = step(state, real, *scalars)
        losses = [float(d_loss), float(g_loss)]  # waits for the last step
        for v, value in zip(state_vars, state):
            v.assign(value)
        return losses

    return run


def trained_state(model):
    """The values both trainings must agree on: the three networks, `w_avg` and `pl_mean`."""
    from keras import ops

    networks = (model.generator, model.discriminator, model.ema_generator)
    state = [v for network in networks for v in network.weights]
    state += [getattr(model, key) for key in ("w_avg", "pl_mean", "images_seen")
              if hasattr(model, key)]  # fmt: skip
    return [ops.convert_to_numpy(v) for v in state]


def time_pair(backend, name, size, args):
    """`(fit images/s, loop images/s, settings)` of one model at one size."""
    import numpy as np

    batch = args.batch_size
    rng = np.random.default_rng(0)
    shape = (batch * (args.warmup_steps + args.steps), size, size, 3)
    data = rng.uniform(-1, 1, shape).astype("float32")
    warmup, timed = data[: batch * args.warmup_steps], data[batch * args.warmup_steps :]

    fitted = build(name, size)
    settings = settings_of(name, fitted)
    fitted.fit(warmup, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    fitted.fit(timed, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    fit_rate = len(timed) / (time.perf_counter() - start)

    model = build(name, size)
    run = hand_written_loop(backend, name, model)
    batches = [data[i : i + batch] for i in range(0, len(data), batch)]
    run(batches[: args.warmup_steps], 0)
    start = time.perf_counter()
    losses = run(batches[args.warmup_steps :], args.warmup_steps)
    loop_rate = len(timed) / (time.perf_counter() - start)
    if not all(np.isfinite(losses)):
        raise FloatingPointError(f"{name} {size}x{size}: hand-written loop losses {losses}")
    # Same start, same batches, same noise stream: both models must end with the same weights.
    difference = max(
        float(np.max(np.abs(a - b))) for a, b in zip(trained_state(fitted), trained_state(model))
    )
    print(
        f"# {backend} {name} {size}x{size}: largest weight difference fit vs loop {difference:.2e}"
    )
    return fit_rate, loop_rate, settings


def worker(args):
    import keras

    backend = keras.backend.backend()
    rows = []
    for name in args.models:
        for size in args.sizes:
            best_fit, best_loop = 0.0, 0.0
            for _ in range(args.repeats):
                fit_rate, loop_rate, settings = time_pair(backend, name, size, args)
                best_fit, best_loop = max(best_fit, fit_rate), max(best_loop, loop_rate)
            if args.threads:
                settings += f" threads={args.threads}"
            rows.append(
                {
                    "backend": backend,
                    "device": device_name(backend),
                    "model": name,
                    "image_shape": f"{size}x{size}x3",
                    "settings": settings,
                    "batch_size": args.batch_size,
                    "steps": args.steps,
                    "fit_images_per_s": round(best_fit, 2),
                    "loop_images_per_s": round(best_loop, 2),
                    "fit_over_loop": round(best_fit / best_loop, 3),
                    "keras_version": keras.__version__,
                }
            )
    print("RESULT " + json.dumps(rows))


def markdown_table(rows):
    columns = ["backend", "model", "image_shape", "batch_size", "steps"]
    columns += ["fit_images_per_s", "loop_images_per_s", "fit_over_loop", "device"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    settings = {row["model"]: row["settings"] for row in rows}
    lines += [""] + [f"{model}: {value}" for model, value in settings.items()]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--models", nargs="+", default=["stylegan2", "stylegan3", "r3gan"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--steps", type=int, default=4, help="timed steps")
    parser.add_argument("--warmup-steps", type=int, default=1, help="steps of the warm-up epoch")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads per backend (OMP, TF intra/inter-op); default theirs",
    )
    parser.add_argument("--out", help="CSV file to append the rows to")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    rows = []
    for backend in args.backends:
        command = [sys.executable, os.path.abspath(__file__), "--worker"] + [
            a for a in (argv if argv is not None else sys.argv[1:]) if a != "--worker"
        ]
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        if args.threads:
            for key in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
                env[key] = str(args.threads)
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode != 0 or not lines:
            print(result.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"benchmark failed on {backend}")
        rows += json.loads(lines[-1][len("RESULT ") :])
        for line in result.stdout.splitlines():
            if line.startswith("# "):
                print(line[2:], file=sys.stderr)
        print(f"{backend}: {time.perf_counter() - start:.0f}s", file=sys.stderr)
    print(markdown_table(rows))
    if args.out:
        append_rows(args.out, rows, FIELDS)
    return rows


if __name__ == "__main__":
    main()
