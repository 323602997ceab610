"""What a run trains on: a dataset loaded whole, or an image folder streamed batch by batch.

Either way the runner gets the same few things (`image_shape`, `num_classes`,
`class_names`, `num_images`, `name`) and a `keras.utils.PyDataset` for `fit`
in the seeded per-epoch order of `keras_gans.data.order`, in which each
training process reads only its own slice of every global batch.
"""

from __future__ import annotations

from keras_gans import distribute
from keras_gans.data import builtin
from keras_gans.data.order import EpochBatches
from keras_gans.data.streaming import ImageFolderStream
from keras_gans.recipes import Recipe


def load_training_data(recipe: Recipe, stream: bool = False, setup=None):
    """The recipe's images: `ImageData` (uint8) in memory, or an `ImageFolderStream`.

    Args:
        recipe: the resolved recipe.
        stream: decode an image folder batch by batch instead of loading it.
        setup: the `distribute.ProcessSetup` (default: this process's); with
            several processes each streams its slice of every global batch.
    """
    size = recipe.dataset.get("image_size")
    if not stream:
        return builtin.load(
            recipe.dataset_name,
            image_size=size,
            max_images=recipe.dataset.get("max_images"),
            dtype="uint8",
        )
    if not builtin.is_folder(recipe.dataset_name):
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
            f"{recipe.name} is class-conditional but {data.name!r} has "
            f"{'no labels' if data.num_classes is None else 'one class'}; put the images "
            "in one sub-folder per class (at least two), or train gan/dcgan instead."
        )
    shape = recipe.model.get("image_shape")
    if shape is not None and tuple(shape) != tuple(data.image_shape):
        raise ValueError(
            f"{recipe.name} builds {tuple(shape)} images but {data.name!r} holds "
            f"{tuple(data.image_shape)} images; pass an image size or another dataset."
        )
