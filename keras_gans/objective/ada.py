"""Adaptive discriminator augmentation (ADA; Karras et al., 2020) in `keras.ops`.

Every image the discriminator sees (real, generated, and inside the R1/R2/path
penalties) goes through the same random pipeline; each transform is applied to an
image with probability `p`. `p` is adjusted during training from the sign of the
discriminator's real logits: the overfitting heuristic `r_t = E[sign(D(x_real))]`
is pushed towards `target` (0.6), moving `p` by `batch * interval / (kimg * 1000)`
every `interval` discriminator steps, as `training_loop.py` of stylegan2-ada does.

Geometric transforms (x-flip, 90-degree rotations, integer translation, isotropic
scaling, arbitrary rotation) are composed into one affine map per image and applied
with one bilinear resampling with reflected borders; colour transforms are
brightness, contrast and saturation. All ops are differentiable with respect to
the images, so gradients reach the generator and the penalties.

Example:

```python
ada = AdaptiveAugment(target=0.6, kimg=100)
augmented = ada(images)          # in a training step
ada.update(real_logits)          # after each discriminator update
```
"""

import math

import keras
from keras import ops


def _chance(batch, p, seed):
    """1.0 for each image picked with probability p, else 0.0: shape (batch,)."""
    return ops.cast(keras.random.uniform((batch,), seed=seed) < p, "float32")


def _rotation(theta):
    c, s = ops.cos(theta), ops.sin(theta)
    return ops.stack([ops.stack([c, -s], -1), ops.stack([s, c], -1)], -2)  # (batch, 2, 2)


def _reflect(coordinate, size):
    """Mirrors coordinates into [0, size - 1] (reflect padding without repeating the edge)."""
    if size == 1:
        return ops.zeros_like(coordinate)
    period = 2.0 * (size - 1)
    return (size - 1) - ops.abs((size - 1) - ops.mod(coordinate, period))


def _bilinear_sample(images, xs, ys):
    """Samples images at pixel coordinates `xs`, `ys` (batch, H, W) with reflected borders."""
    batch = ops.shape(images)[0]
    height, width, channels = images.shape[1:]
    xs, ys = _reflect(xs, width), _reflect(ys, height)
    x0, y0 = ops.floor(xs), ops.floor(ys)
    wx, wy = (xs - x0)[..., None], (ys - y0)[..., None]
    x0, y0 = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    x1, y1 = ops.minimum(x0 + 1, width - 1), ops.minimum(y0 + 1, height - 1)
    flat = ops.reshape(images, (batch, height * width, channels))

    def gather(y, x):
        index = ops.reshape(y * width + x, (batch, height * width, 1))
        index = ops.broadcast_to(index, (batch, height * width, channels))
        return ops.reshape(ops.take_along_axis(flat, index, axis=1), ops.shape(images))

    top = gather(y0, x0) * (1.0 - wx) + gather(y0, x1) * wx
    bottom = gather(y1, x0) * (1.0 - wx) + gather(y1, x1) * wx
    return top * (1.0 - wy) + bottom * wy


def geometric(images, p, seed, max_translation=0.125, scale_std=0.2, xflip=True, rotate90=True):
    """x-flip, rot90, integer translation, isotropic scale and rotation, each with probability p."""
    images = ops.convert_to_tensor(images)
    batch = ops.shape(images)[0]
    height, width = images.shape[1:3]
    uniform = lambda: keras.random.uniform((batch,), seed=seed)  # noqa: E731
    one = ops.ones((batch,))
    # Sampling map: input = M @ output + t in centred pixel coordinates.
    matrix = ops.broadcast_to(ops.eye(2)[None], (batch, 2, 2))
    if xflip:  # x -> -x with probability p / 2, as NVlabs' xflip
        flip = ops.floor(uniform() * 2.0) * _chance(batch, p, seed)
        matrix = matrix * ops.stack([1.0 - 2.0 * flip, one], -1)[:, None, :]
    if rotate90 and height == width:  # k * 90 degrees
        k = ops.floor(uniform() * 4.0) * _chance(batch, p, seed)
        matrix = ops.einsum("bij,bjk->bik", matrix, _rotation(k * (math.pi / 2)))
    # integer translation of up to max_translation of the size
    shift = _chance(batch, p, seed)[:, None] * ops.round(
        (keras.random.uniform((batch, 2), seed=seed) * 2.0 - 1.0)
        * ops.convert_to_tensor([max_translation * width, max_translation * height])
    )
    # isotropic scaling s = 2^N(0, scale_std); sampling with 1/s magnifies by s
    scale = ops.exp2(keras.random.normal((batch,), seed=seed) * scale_std * _chance(batch, p, seed))
    matrix = matrix / scale[:, None, None]
    # arbitrary rotation, uniform in [-pi, pi)
    theta = (uniform() * 2.0 - 1.0) * math.pi * _chance(batch, p, seed)
    matrix = ops.einsum("bij,bjk->bik", matrix, _rotation(theta))
    ys, xs = ops.meshgrid(
        ops.arange(height, dtype="float32") - (height - 1) / 2.0,
        ops.arange(width, dtype="float32") - (width - 1) / 2.0,
        indexing="ij",
    )
    grid = ops.stack([xs, ys], -1)  # (H, W, 2) as (x, y)
    source = ops.einsum("bij,hwj->bhwi", matrix, grid) + shift[:, None, None, :]
    sample_x = source[..., 0] + (width - 1) / 2.0
    sample_y = source[..., 1] + (height - 1) / 2.0
    return _bilinear_sample(images, sample_x, sample_y)


def color(images, p, seed, brightness_std=0.2, contrast_std=0.5, saturation_std=1.0):
    """Brightness (+N(0, 0.2)), contrast (x 2^N(0, 0.5)) and saturation (RGB), each with p."""
    images = ops.convert_to_tensor(images)
    batch = ops.shape(images)[0]
    shape = (batch, 1, 1, 1)
    normal = lambda: keras.random.normal(shape, seed=seed)  # noqa: E731
    chance = lambda: ops.reshape(_chance(batch, p, seed), shape)  # noqa: E731
    images = images + normal() * brightness_std * chance()
    images = images * ops.exp2(normal() * contrast_std * chance())
    if images.shape[-1] == 3:  # saturation: scale the distance from the grey (luma) axis
        luma = ops.mean(images, axis=-1, keepdims=True)
        images = luma + (images - luma) * ops.exp2(normal() * saturation_std * chance())
    return images


def augment(images, p, seed):
    """The ADA pipeline ('bgc': geometric then colour) at probability p."""
    return color(geometric(images, p, seed), p, seed)


@keras.saving.register_keras_serializable(package="keras_gans")
class AdaptiveAugment(keras.layers.Layer):
    """ADA as a layer: `call` augments; `update(real_logits)` adjusts `p` towards `target`.

    `p` and the running sums are non-trainable variables, so they are saved with the
    model, carried through jit-compiled JAX steps and restored by `BackupAndRestore`.

    Args:
        target: the wanted `E[sign(D(x_real))]` (0.6 in the paper).
        kimg: thousands of real images for `p` to go from 0 to 1 (500 in the paper;
            smaller for short runs).
        interval: discriminator steps between adjustments (4 in the paper).
        initial_p: starting probability; a fixed `p` is `target=None`.
    """

    def __init__(self, target=0.6, kimg=500.0, interval=4, initial_p=0.0, **kwargs):
        super().__init__(**kwargs)
        self.target = None if target is None else float(target)
        self.kimg = float(kimg)
        self.interval = int(interval)
        self.initial_p = float(initial_p)
        self.seed_generator = keras.random.SeedGenerator(name="ada_seed")
        state = dict(shape=(), trainable=False, dtype="float32")
        self.p = self.add_weight(
            initializer=keras.initializers.Constant(self.initial_p), name="p", **state
        )
        self.sign_sum = self.add_weight(initializer="zeros", name="sign_sum", **state)
        self.count = self.add_weight(initializer="zeros", name="count", **state)
        self.steps = self.add_weight(initializer="zeros", name="steps", **state)
        self.built = True

    def call(self, images):
        return augment(images, ops.cast(self.p, images.dtype), self.seed_generator)

    def update(self, real_logits):
        """Accumulates sign(D(x_real)); every `interval` calls moves p by its step size."""
        if self.target is None:
            return
        real_logits = ops.stop_gradient(ops.cast(real_logits, "float32"))
        # sum of sign(D(x_real)) and number of real images since the last adjustment
        sign_sum = self.sign_sum + ops.sum(ops.sign(real_logits))
        count = self.count + ops.cast(ops.shape(real_logits)[0], "float32")
        steps = self.steps + 1.0
        due = ops.cast(ops.equal(ops.mod(steps, self.interval), 0.0), "float32")
        # r_t = E[sign(D(x_real))]; p += sign(r_t - target) * N / (kimg * 1000), clipped to [0, 1]
        r_t = sign_sum / ops.maximum(count, 1.0)
        adjust = ops.sign(r_t - self.target) * count / (self.kimg * 1000.0)
        self.p.assign(ops.clip(self.p + due * adjust, 0.0, 1.0))
        self.sign_sum.assign(sign_sum * (1.0 - due))
        self.count.assign(count * (1.0 - due))
        self.steps.assign(steps)

    def compute_output_shape(self, shape):
        return shape

    def get_config(self):
        return {
            **super().get_config(),
            "target": self.target,
            "kimg": self.kimg,
            "interval": self.interval,
            "initial_p": self.initial_p,
        }
