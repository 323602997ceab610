"""What feeds `fit`: built-in data sets, image folders, image pairs, the per-epoch order, checks.

Modules:

- `builtin`: `load(name)` of a built-in data set ("mnist", "fashion_mnist",
  "cifar10", the offline "mnist5k" and "digits") or a folder, as `ImageData`.
- `pixels`: the one image-size parser, grey/colour rule and crop/resize rule,
  and the scaling to [-1, 1].
- `folders`: which files and labels a folder holds, its size and channels, and
  reading it whole (the one reader, shared with the stream and the pairs).
- `order`: the seeded per-epoch order with its sharding over processes
  (`EpochBatches` for arrays in memory).
- `streaming`: `ImageFolderStream`, a folder decoded batch by batch.
- `pairs`: Pix2Pix's paired and CycleGAN's unpaired batches, folders and offline tasks.
- `reference`: the real images FID/KID compare with.
- `checks`: what `fit` checks of its input; `pipeline`: arrays as a `tf.data`
  pipeline for TensorFlow's `fit`.

`import keras_gans.data` imports no Keras: the names that need it (the
`PyDataset`s, the pairs) load on first use.

Example:

```python
from keras_gans import data

images, labels = data.load("mnist5k")             # (5000, 28, 28, 1) in [-1, 1]
faces = data.load("./faces", image_size=64)       # a folder, read whole
stream = data.ImageFolderStream("./faces", batch_size=64, image_size=64)
edges, digits = data.edges2digits("train")        # an offline Pix2Pix task
```
"""

import importlib

from keras_gans.data.builtin import (
    CLASS_NAMES,
    KERAS_DATASETS,
    OFFLINE,
    DatasetUnavailableError,
    ImageData,
    is_folder,
    load,
    names,
)
from keras_gans.data.folders import IMAGE_EXTENSIONS, scan_folder
from keras_gans.data.pixels import decode_image, parse_image_size, resize_images, scale_images

# Names whose modules import Keras: loaded on first use.
_LAZY = {
    "EpochBatches": "keras_gans.data.order",
    "EpochSetter": "keras_gans.data.order",
    "ImageFolderStream": "keras_gans.data.streaming",
    "tf_dataset": "keras_gans.data.streaming",
    "ImageFiles": "keras_gans.data.pairs",
    "PairedBatches": "keras_gans.data.pairs",
    "UnpairedBatches": "keras_gans.data.pairs",
    "paired_folders": "keras_gans.data.pairs",
    "unpaired_folders": "keras_gans.data.pairs",
    "edges2digits": "keras_gans.data.pairs",
    "digits2mnist": "keras_gans.data.pairs",
    "sobel_edges": "keras_gans.data.pairs",
    "reference_images": "keras_gans.data.reference",
    "reference_description": "keras_gans.data.reference",
}
_SUBMODULES = ("checks", "order", "pairs", "pipeline", "reference", "streaming")

__all__ = [
    "CLASS_NAMES",
    "IMAGE_EXTENSIONS",
    "KERAS_DATASETS",
    "OFFLINE",
    "DatasetUnavailableError",
    "ImageData",
    "decode_image",
    "is_folder",
    "load",
    "names",
    "parse_image_size",
    "resize_images",
    "scale_images",
    "scan_folder",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__, *_SUBMODULES})
