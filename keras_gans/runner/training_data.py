"""What a run trains on: a dataset loaded whole, or an image folder streamed batch by batch.

Either way the runner gets the same few things: the image shape, the classes,
the number of images, a sample of real images for FID/KID, and a
`keras.utils.PyDataset` for `fit` whose per-epoch order comes from the seed, in
which each training process reads only its own slice of every global batch.
"""

from __future__ import annotations

import numpy as np

from keras_gans import datasets, distribute
from keras_gans.recipes import Recipe
from keras_gans.runner.batches import EpochBatches
from keras_gans.streaming import ImageFolderStream, decode_image

REFERENCE_LIMIT = 10_000
# Reference images for FID/KID held at once when streaming (float32 bytes).
STREAMED_REFERENCE_BYTES = 1 << 30


def load_training_data(recipe: Recipe, stream: bool = False, setup=None):
    """The recipe's images: `datasets.ImageData` in memory, or an `ImageFolderStream`.

    Args:
        recipe: the resolved recipe.
        stream: decode an image folder batch by batch instead of loading it.
        setup: the `distribute.ProcessSetup` (default: this process's); with
            several processes each streams its slice of every global batch.
    """
    size = recipe.dataset.get("image_size")
    if not stream:
        return datasets.load(
            recipe.dataset_name,
            image_size=size,
            max_images=recipe.dataset.get("max_images"),
            dtype="uint8",
        )
    if not datasets.is_folder(recipe.dataset_name):
        raise ValueError(
            f"--stream decodes an image folder batch by batch; {recipe.dataset_name!r} is a "
            "built-in dataset, loaded whole. Pass --data FOLDER, or drop --stream."
        )
    if recipe.dataset.get("max_images"):
        raise ValueError(
            "--max-images picks images to load into memory; with --stream the whole folder "
            "is read batch by batch. Drop one of the two."
        )
    setup = setup or distribute.process_setup()
    return ImageFolderStream(
        recipe.dataset_name,
        recipe.batch_size,
        size,
        seed=recipe.seed,
        num_shards=setup.num_processes,
        shard_index=setup.process_id,
    )


def num_images(data) -> int:
    """How many images (or pairs) the data holds (a stream's `len` is its steps)."""
    if isinstance(data, ImageFolderStream):
        return len(data.paths)
    return data.num_images if hasattr(data, "batches") else len(data)


def data_name(data) -> str:
    return data.folder if isinstance(data, ImageFolderStream) else data.name


def fit_inputs(data, model, batch_size, seed, initial_epoch, setup=None):
    """The `PyDataset` to pass to `fit` (with `shuffle=False` and its `epoch_setter()`)."""
    setup = setup or distribute.process_setup()
    if isinstance(data, ImageFolderStream):
        if model.num_classes is None:
            data.labels = None  # class folders, an unconditional model: images alone
        data.initial_epoch = initial_epoch
        data.set_epoch(initial_epoch)
        return data
    labels = data.labels if model.num_classes is not None else None
    return EpochBatches(
        data.images,
        labels,
        batch_size,
        seed,
        initial_epoch,
        num_shards=setup.num_processes,
        shard_index=setup.process_id,
    )


def check_data_fits(recipe, data):
    """Refuses data the recipe's model cannot train on, saying what to change."""
    conditional = recipe.model_class == "ConditionalGAN"
    if conditional and (data.num_classes is None or data.num_classes < 2):
        raise ValueError(
            f"{recipe.name} is class-conditional but {data_name(data)!r} has "
            f"{'no labels' if data.num_classes is None else 'one class'}; put the images "
            "in one sub-folder per class (at least two), or train gan/dcgan instead."
        )
    shape = recipe.model.get("image_shape")
    if shape is not None and tuple(shape) != tuple(data.image_shape):
        raise ValueError(
            f"{recipe.name} builds {tuple(shape)} images but {data_name(data)!r} holds "
            f"{tuple(data.image_shape)} images; pass an image size or another dataset."
        )


def reference_images(data, limit=REFERENCE_LIMIT, seed=0):
    """Real images in [-1, 1] for FID/KID: a seeded sample of up to `limit` of them.

    A stream decodes its sample from the folder (at most 1 GiB of images, files
    it cannot decode left out).
    """
    if not isinstance(data, ImageFolderStream):
        return datasets.scale_images(data.images[_sample(len(data.images), limit, seed)])
    decoded = []
    for row in _sample(len(data.paths), _streamed_limit(data, limit), seed):
        try:
            decoded.append(decode_image(data.paths[row], data.image_size, data.channels))
        except Exception:  # the stream skips unreadable files too
            continue
    return datasets.scale_images(np.stack(decoded))


def reference_description(data, limit=REFERENCE_LIMIT) -> str:
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
