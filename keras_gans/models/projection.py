"""Projecting images into a StyleGAN2 generator: the w (and noise maps) that remake them.

Follows NVIDIA's `projector.py` (stylegan2-ada-pytorch): start from the average w of
10,000 mapped latents, optimise one w per image (broadcast to every layer) and the
constant noise maps with Adam (betas 0.9, 0.999), the learning rate ramped up over the
first 5% of the steps and cosine-ramped down over the last 25%, Gaussian noise of
`0.05 * std(w)` added to w and faded out over the first 75%, and the noise maps
regularised (their autocorrelation at every scale, weight 1e5) and re-normalised after
every step. The distance is pluggable: mean squared pixels by default, or any feature
network (LPIPS-VGG16 from `keras_gans.convert.lpips`) whose squared feature difference
is the distance. Backend-free: the optimisation is a small `keras.Model` trained with
`train_on_batch`, so Keras' own trainers take the gradients on JAX, TensorFlow and torch.

Example:

```python
result = gan.project(photo[None], steps=500)     # photo in [-1, 1], the model's shape
result["ws"].shape                                # (1, num_ws, w_dim)
save_image(result["images"][0], "projected.png")
```
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_gans.utils.arguments import check_integer


class ProjectionSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """NVIDIA's projection learning rate: ramped up, then cosine-ramped down, per step."""

    def __init__(self, learning_rate, steps, rampup=0.05, rampdown=0.25):
        self.learning_rate, self.steps = float(learning_rate), int(steps)
        self.rampup, self.rampdown = float(rampup), float(rampdown)

    def __call__(self, step):
        t = ops.cast(step, "float32") / self.steps
        # lr = lr0 * (0.5 - 0.5 cos(pi min(1, (1 - t) / rampdown))) * min(1, t / rampup)
        down = ops.minimum(1.0, (1.0 - t) / self.rampdown)
        ramp = (0.5 - 0.5 * ops.cos(down * math.pi)) * ops.minimum(1.0, t / self.rampup)
        return self.learning_rate * ramp

    def get_config(self):
        return {"learning_rate": self.learning_rate, "steps": self.steps,
                "rampup": self.rampup, "rampdown": self.rampdown}  # fmt: skip


def _area_resize(images, size):
    """Area-average downsampling to `size` (NVIDIA feeds VGG at most 256x256)."""
    height = images.shape[1]
    if height <= size:
        return images
    factor = height // size
    shape = (-1, size, factor, images.shape[2] // factor, factor, images.shape[3])
    return ops.mean(ops.reshape(images, shape), axis=(2, 4))


def _noise_regularization(noise):
    """Squared autocorrelation of a noise map at shifts of one pixel, at every 2x scale."""
    total = 0.0
    noise = noise[None, :, :, None]
    while True:
        # mean(n * roll(n, 1, x))^2 + mean(n * roll(n, 1, y))^2
        total = total + ops.square(ops.mean(noise * ops.roll(noise, 1, axis=2)))
        total = total + ops.square(ops.mean(noise * ops.roll(noise, 1, axis=1)))
        if noise.shape[1] <= 8:
            return total
        noise = _area_resize(noise, noise.shape[1] // 2)


class _Projection(keras.Model):
    """One image's projection: w and the noise maps are its trainable variables."""

    def __init__(self, synthesis, w_avg, w_std, num_ws, features, options, seed):
        super().__init__(name="projection")
        self.synthesis, self.features = synthesis, features
        self.num_ws, self.options = int(num_ws), options
        self.w = self.add_weight(shape=w_avg.shape, initializer=keras.initializers.Constant(
            w_avg), name="w")  # fmt: skip
        self.step = self.add_weight(shape=(), initializer="zeros", trainable=False, name="step")
        self.w_std = float(w_std)
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.noise_maps = [
            v for v in synthesis.weights if v.path.endswith("noise_const") and v.trainable
        ]

    def call(self, target_features, training=False):
        o = self.options
        t = self.step / o["steps"]
        self.step.assign_add(1.0)
        # w noise std(w) * 0.05 * max(0, 1 - t / 0.75)^2
        scale = self.w_std * o["initial_noise_factor"]
        scale = scale * ops.square(ops.maximum(0.0, 1.0 - t / o["noise_ramp_length"]))
        w = self.w + keras.random.normal(ops.shape(self.w), seed=self.noise_seed) * scale
        ws = ops.repeat(w, self.num_ws, axis=1)
        images = self.synthesis(ws, training=False, noise_mode="const")
        features = self.features(_area_resize(ops.cast(images, "float32"), 256))
        # distance = ||features(x) - features(G(w))||^2
        distance = ops.sum(ops.square(features - target_features))
        regularization = sum(_noise_regularization(n) for n in self.noise_maps)
        return distance, regularization

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        distance, regularization = y_pred
        # loss = distance + 1e5 * noise regularisation
        return distance + regularization * self.options["regularize_noise_weight"]


class PixelDistance(keras.layers.Layer):
    """The default distance's features: pixels scaled so that their squared sum is the MSE."""

    def call(self, images):
        count = float(np.prod(images.shape[1:]))
        return ops.reshape(images, (ops.shape(images)[0], -1)) / math.sqrt(count)


def _synthesis_copy(model):
    """The sampling synthesis network, copied, with only its noise maps trainable."""
    original = model.sampling_generator.get_layer("synthesis")
    copy = type(original).from_config(original.get_config())
    for layer in copy._flatten_layers():
        if hasattr(layer, "trainable_noise"):
            layer.trainable_noise = True
    copy.build((None, model.num_ws, model.w_dim))
    values = {variable.path: variable for variable in original.weights}
    for variable in copy.weights:  # by name (trainable ones come first), as copies: JAX
        variable.assign(ops.convert_to_numpy(values[variable.path]))  # donates its buffers
    for variable in copy.weights:
        variable.trainable = variable.path.endswith("noise_const")
    return copy


def w_statistics(model, labels=None, samples=10000, seed=123):
    """`(w_avg (1, 1, w_dim), w_std)` of `samples` mapped latents (NVIDIA draws seed 123)."""
    latent = np.random.RandomState(seed).randn(samples, model.latent_dim).astype("float32")
    if model.num_classes is not None:
        labels = np.full(samples, 0 if labels is None else int(labels), "int32")
    ws = np.concatenate([
        model.latents_to_ws(latent[i : i + 1000], None if labels is None else labels[i : i + 1000])
        for i in range(0, samples, 1000)
    ])[:, :1]  # fmt: skip
    w_avg = ws.mean(axis=0, keepdims=True)
    return w_avg, float(np.sqrt(np.sum((ws - w_avg) ** 2) / samples))


def project(model, images, steps=1000, features=None, labels=None, initial_learning_rate=0.1,
            initial_noise_factor=0.05, lr_rampdown_length=0.25, lr_rampup_length=0.05,
            noise_ramp_length=0.75, regularize_noise_weight=1e5, w_avg_samples=10000, seed=303,
            progress=None) -> dict:  # fmt: skip
    """Finds, for each image, the w (and noise maps) whose synthesis remakes it.

    Args:
        model: a StyleGAN2 (a converted NVIDIA pickle included).
        images: `(n, H, W, C)` in [-1, 1] at the model's image shape.
        steps: optimisation steps per image (NVIDIA: 1000).
        features: None (mean squared pixel difference) or a Keras layer/model mapping
            images in [-1, 1] to features whose squared difference is the distance, e.g.
            `keras_gans.convert.lpips.lpips_vgg16(...)`.
        labels: the class of a conditional model's images.
        initial_learning_rate: Adam's peak learning rate (0.1).
        initial_noise_factor: the w noise at the start, times std(w) (0.05).
        lr_rampdown_length: fraction of the steps of the cosine ramp-down (0.25).
        lr_rampup_length: fraction of the steps of the ramp-up (0.05).
        noise_ramp_length: fraction of the steps the w noise fades over (0.75).
        regularize_noise_weight: weight of the noise-map regularisation (1e5).
        w_avg_samples: mapped latents that give w's mean and spread (10000).
        seed: seed of the w noise and the initial noise maps.
        progress: called as `progress(image_index, step, steps, loss)` after every step.

    Returns:
        `{"ws": (n, num_ws, w_dim), "images": (n, H, W, C) reconstructions with the
        optimised noise maps, "distance": (n,) final distances}`.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[None]
    if images.shape[1:] != tuple(model.image_shape):
        raise ValueError(
            f"`images` must have shape (n, {', '.join(map(str, model.image_shape))}) for this "
            f"model; received {images.shape}. Resize them first."
        )
    check_integer("steps", steps)
    options = dict(steps=int(steps), initial_noise_factor=float(initial_noise_factor),
                   noise_ramp_length=float(noise_ramp_length),
                   regularize_noise_weight=float(regularize_noise_weight))  # fmt: skip
    w_avg, w_std = w_statistics(model, labels, int(w_avg_samples))
    features = features if features is not None else PixelDistance()
    features.trainable = False
    results = {"ws": [], "images": [], "distance": []}
    for index, target in enumerate(images):
        synthesis = _synthesis_copy(model)
        rng = np.random.default_rng(seed + index)
        for noise in synthesis.weights:  # the noise maps start from fresh N(0, 1)
            if noise.trainable:
                noise.assign(rng.standard_normal(noise.shape).astype("float32"))
        projection = _Projection(synthesis, w_avg, w_std, model.num_ws, features, options,
                                 seed + index)  # fmt: skip
        schedule = ProjectionSchedule(initial_learning_rate, steps, lr_rampup_length,
                                      lr_rampdown_length)  # fmt: skip
        projection.compile(optimizer=keras.optimizers.Adam(schedule, 0.9, 0.999, epsilon=1e-8))
        target_features = ops.convert_to_numpy(
            features(_area_resize(ops.convert_to_tensor(target[None]), 256))
        )
        for step in range(int(steps)):
            loss = projection.train_on_batch(target_features, target_features)
            for noise in projection.noise_maps:  # n <- (n - mean(n)) / sqrt(mean(n^2))
                value = ops.convert_to_numpy(noise)
                value = value - value.mean()
                noise.assign(value / np.sqrt(np.mean(value**2)))
            if progress is not None:
                progress(index, step + 1, int(steps), float(np.asarray(loss)))
        w = ops.convert_to_numpy(projection.w)
        ws = np.repeat(w, model.num_ws, axis=1)
        remade = np.clip(ops.convert_to_numpy(synthesis(ws, noise_mode="const")), -1, 1)
        distance = ops.convert_to_numpy(
            ops.sum(ops.square(features(_area_resize(ops.convert_to_tensor(remade), 256))
                               - target_features))
        )  # fmt: skip
        results["ws"].append(ws[0])
        results["images"].append(remade[0])
        results["distance"].append(float(distance))
    return {key: np.asarray(value, dtype="float32") for key, value in results.items()}
