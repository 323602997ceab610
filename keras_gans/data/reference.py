"""Real images for FID/KID: a seeded sample of what a run trains on, and its description.

Example:

```python
from keras_gans.data import reference

real = reference.reference_images(data)           # up to 10,000 images in [-1, 1]
reference.reference_description(data)             # 'up to 10000 training images of mnist5k'
```
"""

from __future__ import annotations

import numpy as np

from keras_gans.data import pixels
from keras_gans.data.streaming import ImageFolderStream

REFERENCE_LIMIT = 10_000
# Reference images for FID/KID held at once when streaming (float32 bytes).
STREAMED_REFERENCE_BYTES = 1 << 30


def reference_images(data, limit: int = REFERENCE_LIMIT, seed: int = 0) -> np.ndarray:
    """Real images in [-1, 1] for FID/KID: a seeded sample of up to `limit` of them.

    Args:
        data: an `ImageData` (uint8 or float images) or an `ImageFolderStream`.
            A stream decodes its sample from the folder (at most 1 GiB of
            images, files it cannot decode left out).
        limit: the most images to sample.
        seed: seed of the sample.
    """
    if not isinstance(data, ImageFolderStream):
        return pixels.scale_images(data.images[_sample(len(data.images), limit, seed)])
    decoded = []
    for row in _sample(len(data.paths), _streamed_limit(data, limit), seed):
        try:
            decoded.append(data.decode(row))
        except Exception:  # the stream skips unreadable files too
            continue
    return pixels.scale_images(np.stack(decoded))


def reference_description(data, limit: int = REFERENCE_LIMIT) -> str:
    """What `reference_images` samples, in words, for metrics and model cards."""
    if isinstance(data, ImageFolderStream):
        count = min(len(data.paths), _streamed_limit(data, limit))
        return f"{count} images sampled from the folder {data.folder}"
    return f"up to {limit} training images of {data.name}"


def _streamed_limit(data, limit):
    per_image = 4 * int(np.prod(data.image_shape))
    return max(1, min(limit, STREAMED_REFERENCE_BYTES // per_image))


def _sample(count, limit, seed):
    rows = np.arange(count)
    if count > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
    return rows
