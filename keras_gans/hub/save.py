"""Writing a keras-gans Hub repo's files into a folder: `save_pretrained`, `sample_grid`.

The folder is what Keras itself writes for a Hub path (`keras.saving.save_model(model,
folder, zipped=False)`), so `keras.saving.load_model("hf://owner/name")` works as well
as `keras_gans.from_pretrained`; keras-gans adds a `"library"` marker and a
`"keras_gans"` block to `config.json`, a sample grid and the model card.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np

from keras_gans import images as image_utils
from keras_gans.hub.card import _shapes, is_translation, make_model_card
from keras_gans.hub.repo import CARD_FILE, CONFIG_FILE, GRID_FILE, LIBRARY
from keras_gans.utils import files
from keras_gans.utils.version import VERSION

_GRID_COLUMNS = 8
_GRID_MAX_CLASSES = 10


def is_keras_gans_model(model) -> bool:
    """Whether `model` is an instance of a class keras-gans registered with Keras."""
    name = keras.saving.get_registered_name(type(model))
    return isinstance(model, keras.Model) and name.startswith("keras_gans>")


def _copy_without_optimizer(model):
    """An uncompiled copy of `model` with the same variables, seed states included."""
    copy = type(model).from_config(model.get_config())
    if len(copy.variables) != len(model.variables):
        raise ValueError(
            f"Cannot save {type(model).__name__} without its optimizer: a copy built "
            f"from get_config() has {len(copy.variables)} variables, the model "
            f"{len(model.variables)}. Push with include_optimizer=True, or make "
            "get_config() describe every network."
        )
    for target, source in zip(copy.variables, model.variables):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(
                f"Cannot save {type(model).__name__} without its optimizer: variable "
                f"{source.path} has shape {tuple(source.shape)} but the copy built from "
                f"get_config() has {tuple(target.shape)} there."
            )
        target.assign(source)
    return copy


def default_grid_size(model) -> int:
    """Images in an unconditional grid: 64 up to 128 px, 16 up to 512 px, 9 above."""
    side = max(model.image_shape[:2])
    return 64 if side <= 128 else 16 if side <= 512 else 9


def sample_grid(
    model, num_images: int | None = None, labels=None, seed: int = 0, **generate_options
) -> np.ndarray:
    """Generates images and tiles them into one uint8 grid.

    Unconditional models: `num_images` samples (default `default_grid_size`), near-square.
    Conditional models: one row per label in `labels` (default: the first 10
    classes), `num_images` in all (default 8 per row).

    Args:
        model: a `keras_gans.BaseGAN`.
        num_images: number of images in the grid.
        labels: class ids, one row each (conditional models only).
        seed: seed of the latent noise.
        **generate_options: passed to `model.generate` (StyleGAN2: `truncation_psi`, ...).

    Returns:
        A `(H, W, C)` uint8 array; `keras_gans.images.save_image` writes it.

    Example:

    ```python
    grid = sample_grid(cgan, num_images=30, labels=[0, 1, 2])   # 3 rows of 10
    save_image(grid, "grid.png")
    ```
    """
    if model.num_classes is None:
        if labels is not None:
            raise ValueError(
                f"This {type(model).__name__} is unconditional; labels apply to "
                "class-conditional models only."
            )
        count = default_grid_size(model) if num_images is None else int(num_images)
        images = model.generate(count, seed=seed, **generate_options)
        return image_utils.make_grid(images)
    if labels is None:
        labels = range(min(model.num_classes, _GRID_MAX_CLASSES))
    rows = [int(label) for label in np.atleast_1d(labels)]
    if not rows:
        raise ValueError("`labels` is empty; give at least one class id.")
    total = len(rows) * _GRID_COLUMNS if num_images is None else int(num_images)
    if total < 1:
        raise ValueError(f"`num_images` must be a positive integer. Received: {num_images!r}")
    per_row = math.ceil(total / len(rows))
    grid_labels = np.repeat(rows, per_row)[:total]
    images = model.generate(labels=grid_labels, seed=seed, **generate_options)
    return image_utils.make_grid(images, cols=per_row)


def _grid_caption(model, grid_seed, grid_options=None):
    options = "".join(f", {key.replace('_', ' ')} {value}"
                      for key, value in (grid_options or {}).items())  # fmt: skip
    if model.num_classes is None:
        return f"{default_grid_size(model)} samples, seed {grid_seed}{options}."
    shown = min(model.num_classes, _GRID_MAX_CLASSES)
    return (
        f"{_GRID_COLUMNS} samples per class for classes 0 to {shown - 1}, one class "
        f"per row, seed {grid_seed}{options}."
    )


def _keras_gans_config(model, dataset, include_optimizer):
    config = {
        "class_name": type(model).__name__,
        "version": VERSION,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "include_optimizer": bool(include_optimizer),
    }
    if is_translation(model):
        config["task"] = "image-to-image"
        config.update({key: list(value) for key, value in _shapes(model)})
    else:
        config["latent_dim"] = model.latent_dim
        config["image_shape"] = list(model.image_shape)
        config["num_classes"] = model.num_classes
    if dataset:
        config["dataset"] = dataset
    return config


def save_pretrained(
    model,
    directory,
    *,
    include_optimizer: bool = False,
    dataset: str | None = None,
    training_info: dict | None = None,
    metrics: dict | None = None,
    repo_id: str | None = None,
    grid_seed: int = 0,
    examples=None,
    grid_options: dict | None = None,
) -> str:
    """Writes the files of a keras-gans Hub repo into a local directory.

    `push_to_hub` commits exactly these files; `from_pretrained(directory)`
    loads them back.

    Args:
        model: a `keras_gans.BaseGAN`.
        directory: where to write; created if missing, files overwritten.
        include_optimizer: also save the optimizer state (and compile
            config), so that `fit` can resume after loading. Without it the
            model loads uncompiled.
        dataset: name or Hub id of the training data, for the card.
        training_info: training settings for the card, e.g. `{"epochs": 50,
            "batch_size": 128}`.
        metrics: measured metrics for the card, e.g. `{"fid": 12.3,
            "feature_extractor": "fid_inception", "num_samples": 10000}`.
        repo_id: `owner/name` shown in the card's usage snippet.
        grid_seed: seed of the sample grid.
        examples: source images for a translation model's grid (rows of source |
            translation); without them its card has no grid.
        grid_options: `generate` options of the sample grid, e.g. `{"truncation_psi": 0.7}`.

    Returns:
        `directory`, as a string.

    Example:

    ```python
    save_pretrained(gan, "dcgan-mnist", dataset="mnist")
    gan = from_pretrained("dcgan-mnist")
    ```
    """
    if not is_keras_gans_model(model):
        raise TypeError(
            f"`model` must be a keras_gans model (a BaseGAN); received {type(model).__name__}."
        )
    if include_optimizer and not model.compiled:
        raise ValueError(
            "include_optimizer=True needs a compiled model: there is no optimizer state "
            "to save. Call compile() (and fit()) first, or push without it."
        )
    directory = os.fspath(directory)
    if getattr(model, "_jax_state", None):  # on JAX, the weights are still in fit's state
        model.jax_state_sync()
    saved = model if include_optimizer else _copy_without_optimizer(model)
    os.makedirs(directory, exist_ok=True)
    keras.saving.save_model(saved, directory, zipped=False)

    config_path = os.path.join(directory, CONFIG_FILE)
    config = files.read_json(config_path)
    config["library"] = LIBRARY
    config["keras_gans"] = _keras_gans_config(model, dataset, include_optimizer)
    files.write_json(config_path, config)

    if is_translation(model):
        grid_file, caption = "", ""
        if examples is not None:
            grid = translation_grid(model, examples)
            image_utils.save_image(grid, os.path.join(directory, GRID_FILE))
            grid_file, caption = GRID_FILE, f"{len(grid_rows(examples))} examples: source | output."
    else:
        grid_options = dict(grid_options or {})
        grid_file, caption = GRID_FILE, _grid_caption(model, grid_seed, grid_options)
        image_utils.save_image(
            sample_grid(model, seed=grid_seed, **grid_options), os.path.join(directory, GRID_FILE)
        )
    card = make_model_card(
        model,
        repo_id=repo_id,
        dataset=dataset,
        training_info=training_info,
        metrics=metrics,
        include_optimizer=include_optimizer,
        grid_file=grid_file,
        grid_caption=caption,
    )
    card.save(os.path.join(directory, CARD_FILE))
    return directory


def grid_rows(examples):
    """At most 8 example images, as a float32 array."""
    return np.asarray(examples, dtype="float32")[:8]


def translation_grid(model, examples, direction=None):
    """A uint8 grid with one row per example: the source, then its translation.

    Args:
        model: a Pix2Pix or CycleGAN.
        examples: source images in [-1, 1] (the first 8 are used).
        direction: for CycleGAN, `"a_to_b"` (default) or `"b_to_a"`.
    """
    sources = grid_rows(examples)
    direction = direction or model.directions[0]
    outputs = (
        model.translate(sources, direction=direction) if direction else model.translate(sources)
    )
    return image_utils.make_row_grid(list(zip(sources, outputs)))
