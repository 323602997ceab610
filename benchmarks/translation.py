"""Training throughput of Pix2Pix and CycleGAN through `fit`, next to a hand-written loop.

On the current backend (KERAS_BACKEND), each model is trained at 64x64 on random
images for `--steps` timed steps after one warm-up epoch, through `model.fit`
and through the shortest hand-written loop doing the same updates with the
same networks, losses (`keras_gans.objective.translation`) and Keras Adam: a
`tf.function` with a `GradientTape` per update on TensorFlow, an autograd loop on
torch. JAX has no hand-written loop here (its column is empty): a stateless
`jax.jit` loop over four networks and three optimizers is the trainer itself.

Usage:

```bash
KERAS_BACKEND=tensorflow python -m benchmarks.translation \
    --out benchmarks/results/translation_cpu.csv
KERAS_BACKEND=torch python -m benchmarks.translation --models pix2pix --steps 10
KERAS_BACKEND=tensorflow python -m benchmarks.translation --edges2digits 5   # quality, 5 epochs
```

`--edges2digits EPOCHS` instead trains Pix2Pix on the offline edges2digits task
(`keras_gans.data.edges2digits`: 4,500 train / 500 held-out pairs, 32x32) and
prints L1, PSNR and SSIM on the held-out pairs, next to the untrained model and
the mean training digit.
"""

import argparse
import time

import keras
import numpy as np

import keras_gans
from benchmarks.csv_rows import append_rows
from benchmarks.throughput import device_name
from keras_gans.objective import translation as objective

BACKEND = keras.backend.backend()
FIELDS = [
    "backend",
    "device",
    "model",
    "image_shape",
    "width",
    "batch_size",
    "steps",
    "fit_images_per_s",
    "loop_images_per_s",
    "fit_over_loop",
    "keras_version",
]


def build(name, args):
    keras.utils.set_random_seed(0)
    shape = (args.image_size, args.image_size, 3)
    if name == "pix2pix":
        model = keras_gans.Pix2Pix(shape, width=args.width, seed=0)
    else:
        model = keras_gans.CycleGAN(shape, width=args.width, seed=0)
    model.compile()
    return model


def minimizer():
    """`minimize(variables, optimizer, loss_fn)` written directly with the backend's autograd."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        def minimize(variables, optimizer, loss_fn):
            with tf.GradientTape() as tape:
                loss, aux = loss_fn()
            optimizer.apply(tape.gradient(loss, variables), variables)
            return loss, aux

        return minimize
    import torch

    def minimize(variables, optimizer, loss_fn):
        loss, aux = loss_fn()
        gradients = torch.autograd.grad(loss, [v.value for v in variables])
        with torch.no_grad():
            optimizer.apply(gradients, variables)
        return loss, aux

    return minimize


def hand_step(name, model):
    minimize = minimizer()
    if name == "pix2pix":

        def step(a, b):
            minimize(
                model.discriminator.trainable_variables,
                model.d_optimizer,
                lambda: objective.pix2pix_discriminator_loss(model, a, b, True),
            )
            minimize(
                model.generator.trainable_variables,
                model.g_optimizer,
                lambda: objective.pix2pix_generator_loss(model, a, b, True),
            )

    else:
        generators = model.generator_ab.trainable_variables + model.generator_ba.trainable_variables

        def step(a, b):
            _, (fake_a, fake_b, *_) = minimize(
                generators,
                model.g_optimizer,
                lambda: objective.cyclegan_generator_loss(model, a, b, True),
            )
            seed = model.seed_generator
            pooled_a = objective.query_pool(model.pool_a, model.pool_a_count, fake_a, seed)
            pooled_b = objective.query_pool(model.pool_b, model.pool_b_count, fake_b, seed)
            for discriminator, optimizer, real, fake in (
                (model.discriminator_a, model.d_a_optimizer, a, pooled_a),
                (model.discriminator_b, model.d_b_optimizer, b, pooled_b),
            ):
                minimize(
                    discriminator.trainable_variables,
                    optimizer,
                    lambda d=discriminator, r=real, f=fake: objective.cyclegan_discriminator_loss(
                        d, r, f, True
                    ),
                )

    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(step)
    return step


def time_model(name, args, a, b):
    model = build(name, args)
    images = args.batch_size * args.steps
    model.fit((a[: args.batch_size], b[: args.batch_size]), batch_size=args.batch_size, verbose=0)
    start = time.perf_counter()
    model.fit((a, b), batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
    fit_rate = images / (time.perf_counter() - start)
    loop_rate = None
    if BACKEND != "jax":
        model = build(name, args)
        step = hand_step(name, model)
        tensor = keras.ops.convert_to_tensor  # as fit feeds them (torch layers refuse NumPy)
        batches = [
            (tensor(a[i : i + args.batch_size]), tensor(b[i : i + args.batch_size]))
            for i in range(0, len(a), args.batch_size)
        ]
        step(*batches[0])  # trace / warm up
        start = time.perf_counter()
        for batch_a, batch_b in batches:
            step(batch_a, batch_b)
        keras.ops.convert_to_numpy(model.trainable_variables[0])  # wait for the last step
        loop_rate = images / (time.perf_counter() - start)
    return {
        "backend": BACKEND,
        "device": device_name(BACKEND),
        "model": name,
        "image_shape": f"{args.image_size}x{args.image_size}x3",
        "width": args.width,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "fit_images_per_s": round(fit_rate, 2),
        "loop_images_per_s": "" if loop_rate is None else round(loop_rate, 2),
        "fit_over_loop": "" if loop_rate is None else round(fit_rate / loop_rate, 3),
        "keras_version": keras.__version__,
    }


def psnr(images, targets):
    """Mean PSNR in dB of images in [-1, 1] (peak-to-peak 2): 10 log10(4 / MSE) per image."""
    mse = np.mean((images - targets) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(4.0 / np.maximum(mse, 1e-10))))


def ssim(images, targets):
    """Mean SSIM (Wang et al., 2004) with a 7x7 uniform window, data range 2, per channel."""
    from scipy.ndimage import uniform_filter

    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    size = (1, 7, 7, 1)
    x, y = images.astype("float64"), targets.astype("float64")
    mx, my = uniform_filter(x, size), uniform_filter(y, size)
    vx = uniform_filter(x * x, size) - mx**2
    vy = uniform_filter(y * y, size) - my**2
    cov = uniform_filter(x * y, size) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s[:, 3:-3, 3:-3].mean())


def edges2digits_quality(epochs, width=16, batch_size=32):
    from keras_gans import data

    edges, digits = data.edges2digits("train")
    test_edges, test_digits = data.edges2digits("test")
    keras.utils.set_random_seed(0)
    model = keras_gans.Pix2Pix((32, 32, 1), width=width, seed=0)

    def scores(images):
        l1 = float(np.abs(images - test_digits).mean())
        return {
            "l1": round(l1, 4),
            "psnr": round(psnr(images, test_digits), 2),
            "ssim": round(ssim(images, test_digits), 4),
        }

    mean_digit = np.broadcast_to(digits.mean(0), test_digits.shape)
    print("mean training digit", scores(mean_digit))
    print("untrained", scores(model.translate(test_edges, batch_size=250)))
    model.compile()
    start = time.perf_counter()
    model.fit((edges, digits), batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    print(
        f"trained {epochs} epochs in {seconds:.0f}s on {BACKEND}",
        scores(model.translate(test_edges, batch_size=250)),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pix2pix", "cyclegan"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", default=None, help="append rows to this CSV")
    parser.add_argument("--edges2digits", type=int, default=0, metavar="EPOCHS")
    args = parser.parse_args(argv)
    if args.edges2digits:
        return edges2digits_quality(args.edges2digits)
    rng = np.random.default_rng(0)
    shape = (args.batch_size * args.steps, args.image_size, args.image_size, 3)
    a = rng.uniform(-1, 1, shape).astype("float32")
    b = rng.uniform(-1, 1, shape).astype("float32")
    rows = [time_model(name, args, a, b) for name in args.models]
    for row in rows:
        print(row)
    if args.out:
        append_rows(args.out, rows, FIELDS)


if __name__ == "__main__":
    main()
