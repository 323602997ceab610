"""Exploring a trained generator: walks between two latents (`interpolate`).

Backend-free: everything goes through the models' `generate` (and, for the style
families, `latents_to_ws` / `ws_to_images`), so the same seed gives the same frame as
`generate(seed=...)` on every backend.

Example:

```python
frames = keras_gans.interpolate(gan, start=0, end=1, steps=48)          # seeds 0 -> 1
keras_gans.images.save_video(frames, "walk.gif", fps=24)
frames = keras_gans.interpolate(stylegan, 3, 7, steps=16, space="w", truncation_psi=0.7)
```
"""

from __future__ import annotations

import numpy as np

from keras_gans.utils.arguments import check_integer

SPACES = ("z", "w")


def slerp(a, b, t):
    """Spherical interpolation between vectors `a` and `b` at fractions `t` (rows of `a`, `b`).

    Falls back to linear interpolation when the two are (anti-)parallel.
    """
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    t = np.asarray(t, "float64").reshape(-1, 1)
    unit_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    omega = np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1, keepdims=True), -1.0, 1.0))
    sin = np.sin(omega)
    if np.all(np.abs(sin) > 1e-6):
        return np.sin((1.0 - t) * omega) / sin * a + np.sin(t * omega) / sin * b
    return (1.0 - t) * a + t * b


def _latent(model, point, name):
    """A seed or a latent vector -> `(1, latent_dim)`."""
    if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
        return model.sample_latent(1, int(point))
    latent = np.asarray(point, dtype="float32").reshape(1, -1)
    if latent.shape[1] != model.latent_dim:
        raise ValueError(
            f"`{name}` must be a seed (int) or a latent vector of size {model.latent_dim}; "
            f"received shape {np.shape(point)}."
        )
    return latent


def _labels(model, labels, end_labels, space):
    if model.num_classes is None:
        if labels is not None or end_labels is not None:
            raise ValueError(f"This {type(model).__name__} is unconditional; it takes no labels.")
        return None, None
    if labels is None:
        raise ValueError(
            f"This {type(model).__name__} is class-conditional: give `labels` (the class of "
            "the walk) and, to move between two classes, `end_labels`."
        )
    start, end = int(labels), int(labels if end_labels is None else end_labels)
    for value in (start, end):
        if not 0 <= value < model.num_classes:
            raise ValueError(f"Labels must be in [0, {model.num_classes}); received {value}.")
    if start != end and (space != "w" or not hasattr(model, "latents_to_ws")):
        raise ValueError(
            "Moving between two classes blends their styles in w: use space='w' with "
            "StyleGAN2 or StyleGAN3 (other models take one class per image)."
        )
    return start, end


def interpolate(model, start, end, steps=8, space="z", labels=None, end_labels=None,
                **generate_options) -> np.ndarray:  # fmt: skip
    """Frames of a walk from `start` to `end`: spherical in z, linear in w.

    The first and last frames are `model.generate(seed=start)` and
    `model.generate(seed=end)` (with the same `generate_options`).

    Args:
        model: a trained generator model (`GAN`, `DCGAN`, `ConditionalGAN`, `WGANGP`,
            `StyleGAN2`, `R3GAN`, ...).
        start, end: seeds (ints) or latent vectors of size `latent_dim`.
        steps: number of frames (>= 2).
        space: `"z"` (spherical interpolation of the latents, every model) or `"w"`
            (linear interpolation of the mapped ws, StyleGAN2/StyleGAN3).
        labels: the class of a conditional model's frames.
        end_labels: the class of the last frame; the walk blends the two classes'
            ws (`space="w"`).
        **generate_options: e.g. `truncation_psi=0.7`, `noise_mode="const"`.

    Returns:
        float32 array `(steps, H, W, C)` in [-1, 1].

    Example:

    ```python
    frames = interpolate(gan, 0, 1, steps=24)
    frames = interpolate(stylegan, 0, 1, steps=24, space="w", labels=3, end_labels=5)
    ```
    """
    if space not in SPACES:
        raise ValueError(f"`space` must be one of {SPACES}. Received: {space!r}")
    check_integer("steps", steps, minimum=2)
    if space == "w" and not hasattr(model, "latents_to_ws"):
        raise ValueError(
            f"space='w' needs a model with a mapping network (StyleGAN2, StyleGAN3); "
            f"{type(model).__name__} has none: use space='z'."
        )
    first, last = _latent(model, start, "start"), _latent(model, end, "end")
    label_start, label_end = _labels(model, labels, end_labels, space)
    fractions = np.linspace(0.0, 1.0, int(steps))
    if space == "z":
        latent = slerp(first, last, fractions).astype("float32")
        latent[0], latent[-1] = first[0], last[0]  # exactly the endpoints' seeds
        frame_labels = None if label_start is None else [label_start] * len(latent)
        return model.generate(latent=latent, labels=frame_labels, **generate_options)
    noise_mode = generate_options.pop("noise_mode", "const")
    ends = [
        model.latents_to_ws(point, None if label is None else [label], **generate_options)
        for point, label in ((first, label_start), (last, label_end))
    ]
    t = fractions[:, None, None]
    ws = ((1.0 - t) * ends[0] + t * ends[1]).astype("float32")
    return model.ws_to_images(ws, noise_mode=noise_mode)
