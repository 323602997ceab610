"""Helpers shared by the per-model tests: tiny configurations and common checks."""

import os
import subprocess
import sys

import keras
import numpy as np

import keras_gans
from tests import jax_env

BACKEND = keras.backend.backend()
BACKENDS = ("jax", "tensorflow", "torch")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Network pickles written by NVIDIA's own code, with NVIDIA's outputs, beside the checkout.
SHARED_FIXTURES = os.path.join(os.path.dirname(REPO_ROOT), "shared", "fixtures")


def shared_fixture(name):
    """The path of `../shared/fixtures/NAME`; a missing fixture fails the test, loudly."""
    path = os.path.join(SHARED_FIXTURES, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} is missing: the suite reads NVIDIA's fixture pickles from ../shared/fixtures "
            "beside the checkout."
        )
    return path


# Small enough that a few epochs take seconds on 2 CPU cores.
TINY = {
    "GAN": dict(latent_dim=8, image_shape=(8, 8, 1)),
    "DCGAN": dict(latent_dim=8, image_shape=(8, 8, 1), width=8),
    "ConditionalGAN": dict(num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8),
    "WGANGP": dict(latent_dim=8, image_shape=(8, 8, 1), width=8, d_steps=2),
}


def load_digits():
    """scikit-learn's 8x8 digits as (N, 8, 8, 1) float32 in [-1, 1], int labels."""
    from sklearn.datasets import load_digits as sklearn_digits

    data = sklearn_digits()
    images = (data.images.astype("float32") / 8.0 - 1.0)[..., None]
    return images, data.target.astype("int32")


def make_model(name, **overrides):
    cls = getattr(keras_gans, name)
    return cls(**{**TINY[name], **overrides})


def is_translator(model):
    return hasattr(model, "translate") and not hasattr(model, "generate")


def training_data(model, num_images=64, seed=0):
    """Random images (and labels, or image pairs for translators) as `fit`'s `x`."""
    rng = np.random.default_rng(seed)
    if is_translator(model):
        if len(model.directions) == 1:  # Pix2Pix: (sources, targets)
            shapes = (model.source_shape, model.target_shape)
        else:  # CycleGAN: (images_a, images_b)
            shapes = tuple(model._source_shape(d) for d in model.directions)
        return tuple(rng.uniform(-1, 1, (num_images, *shape)).astype("float32") for shape in shapes)
    images = rng.uniform(-1, 1, (num_images,) + model.image_shape).astype("float32")
    if model.num_classes is None:
        return images
    return images, rng.integers(0, model.num_classes, num_images).astype("int32")


def outputs_of(model, num_images=4, seed=0):
    """What a model makes for fixed inputs: `generate_some`, or translations of fixed sources."""
    if not is_translator(model):
        return generate_some(model, num_images, seed)
    direction = model.directions[-1]
    shape = model._source_shape(direction)
    sources = np.random.default_rng(seed).uniform(-1, 1, (num_images, *shape)).astype("float32")
    kwargs = {"direction": direction} if direction else {}
    return model.translate(sources, **kwargs)


def generate_some(model, num_images=4, seed=0):
    if model.num_classes is None:
        return model.generate(num_images, seed=seed)
    labels = np.arange(num_images) % model.num_classes
    return model.generate(labels=labels, seed=seed)


def weights_of(model):
    return [np.array(v) for v in model.weights]


def process_env(backend, env=None):
    """The environment of a fresh test interpreter on `backend`, updated by `env`.

    A JAX interpreter gets the suite's compilation cache and quick compiles
    (`tests/jax_env.py`); an `XLA_FLAGS` in `env` is added to those flags.
    """
    full_env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env = dict(env or {})
    if backend == "jax":
        full_env.update(jax_env.settings(env.pop("XLA_FLAGS", "")))
    full_env.update(env)
    return full_env


def run_python(code, backend, env=None, timeout=300):
    """Runs `code` in a fresh interpreter on `backend` (`process_env`); returns its stdout."""
    full_env = process_env(backend, env)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO_ROOT,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"{backend} subprocess failed:\n{result.stderr[-4000:]}")
    return result.stdout


def pixel_frechet_distance(a, b):
    """Frechet distance between two image sets in raw pixel space (NumPy/SciPy)."""
    from scipy import linalg

    a = a.reshape(len(a), -1).astype("float64")
    b = b.reshape(len(b), -1).astype("float64")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    offset = np.eye(len(cov_a)) * 1e-6
    covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset)).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))
