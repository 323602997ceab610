"""DiffAugment (Zhao et al., 2020): differentiable augmentation for the discriminator.

The same random colour, translation and cutout transforms are applied to
real and generated images before the discriminator sees them, in both the
discriminator and generator updates; because every op is differentiable the
generator still gets gradients through them. Written once in `keras.ops`,
with randomness from the model's `SeedGenerator`.

Example:

```python
gan = keras_gans.DCGAN(image_shape=(32, 32, 3), augment="diffaugment")
augmented = diff_augment(images, seed=keras.random.SeedGenerator(0))
```
"""

import keras
from keras import ops

POLICIES = ("color", "translation", "cutout")


def _uniform(shape, seed, dtype):
    return keras.random.uniform(shape, seed=seed, dtype=dtype)


def random_color(images, seed):
    """Random brightness, saturation and contrast, one draw per image."""
    images = ops.convert_to_tensor(images)
    batch = ops.shape(images)[0]
    dtype = images.dtype
    images = images + (_uniform((batch, 1, 1, 1), seed, dtype) - 0.5)
    mean = ops.mean(images, axis=3, keepdims=True)
    images = (images - mean) * (_uniform((batch, 1, 1, 1), seed, dtype) * 2.0) + mean
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * (_uniform((batch, 1, 1, 1), seed, dtype) + 0.5) + mean


def _shift_indices(length, max_shift, batch, seed):
    shifts = keras.random.randint((batch, 1), -max_shift, max_shift + 1, seed=seed)
    # Index into the zero-padded axis: position i reads padded[i + max_shift - shift].
    return ops.arange(length, dtype="int32")[None, :] + max_shift - ops.cast(shifts, "int32")


def random_translation(images, seed, ratio=0.125):
    """Shifts each image by up to `ratio` of its size, filling with zeros."""
    images = ops.convert_to_tensor(images)
    batch, height, width, channels = (ops.shape(images)[0],) + tuple(images.shape[1:])
    shift_h, shift_w = max(int(height * ratio + 0.5), 1), max(int(width * ratio + 0.5), 1)
    padded = ops.pad(images, [[0, 0], [shift_h, shift_h], [shift_w, shift_w], [0, 0]])
    rows = _shift_indices(height, shift_h, batch, seed)[:, :, None, None]
    rows = ops.broadcast_to(rows, (batch, height, width + 2 * shift_w, channels))
    padded = ops.take_along_axis(padded, rows, axis=1)
    cols = _shift_indices(width, shift_w, batch, seed)[:, None, :, None]
    cols = ops.broadcast_to(cols, (batch, height, width, channels))
    return ops.take_along_axis(padded, cols, axis=2)


def random_cutout(images, seed, ratio=0.5):
    """Zeroes one square of `ratio` times the image size at a random place per image."""
    images = ops.convert_to_tensor(images)
    batch, height, width = (ops.shape(images)[0],) + tuple(images.shape[1:3])
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    center_y = keras.random.randint((batch, 1, 1, 1), 0, height + (1 - cut_h % 2), seed=seed)
    center_x = keras.random.randint((batch, 1, 1, 1), 0, width + (1 - cut_w % 2), seed=seed)
    ys = ops.reshape(ops.arange(height, dtype="int32"), (1, height, 1, 1))
    xs = ops.reshape(ops.arange(width, dtype="int32"), (1, 1, width, 1))
    inside = ops.logical_and(
        ops.abs(ys - ops.cast(center_y, "int32")) < (cut_h + 1) // 2,
        ops.abs(xs - ops.cast(center_x, "int32")) < (cut_w + 1) // 2,
    )
    return images * (1.0 - ops.cast(inside, images.dtype))


def diff_augment(images, seed, policy=POLICIES):
    """Applies the DiffAugment transforms named in `policy`, in order.

    Args:
        images: `(batch, height, width, channels)` images in [-1, 1].
        seed: a `keras.random.SeedGenerator` (or seed) for the random draws.
        policy: a subset of `("color", "translation", "cutout")`.
    """
    transforms = {"color": random_color, "translation": random_translation, "cutout": random_cutout}
    unknown = set(policy) - set(transforms)
    if unknown:
        raise ValueError(f"Unknown DiffAugment transforms {sorted(unknown)}; use {POLICIES}.")
    for name in policy:
        images = transforms[name](images, seed)
    return images
