"""The zoo's recipes as package data, and the one registry that reads them.

A recipe is a TOML file `<arch>.<dataset>.toml` in the repository's `zoo/` (timm-style
names such as `dcgan.mnist5k`) holding the model class and config, both
optimizers, batch size, epochs, seed, the dataset, the Hub repo it publishes to
and how it is evaluated. What each recipe was measured to reach lives in one
place, `zoo/results.csv`, one row per measured run (written by
`keras-gans train ... --record`); TOML files hold no results.

A folder named by `$KERAS_GANS_ZOO` adds recipes (and overrides built-in ones of
the same name). This module is pure data: it imports no backend and no model, so
the CLI lists recipes and the Hub layer resolves recipe names without Keras.

Example:

```python
from keras_gans import recipes

recipes.list_recipes()                 # ['cgan.cifar10', ..., 'wgan_gp.fashion_mnist']
recipe = recipes.get("dcgan.mnist5k")
recipe.model["class"], recipe.batch_size, recipe.repo_id
recipes.resolve("dcgan", data="./faces", image_size=64)
recipes.results("dcgan.mnist5k")       # rows of results.csv
```
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import importlib.resources
import os

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from keras_gans.utils.precision import CHOICES as PRECISIONS

ZOO_ENV_VAR = "KERAS_GANS_ZOO"
RESULTS_FILE = "results.csv"
RESULT_COLUMNS = (
    "recipe",
    "backend",
    "device",
    "epochs",
    "wall_time_s",
    "images_per_s",
    "fd_digits",
    "kd_digits",
    "l1",
    "psnr",
    "ssim",
    "agreement",
    "protocol",
    "command",
)
ARCHITECTURES = {
    "gan": "GAN",
    "dcgan": "DCGAN",
    "cgan": "ConditionalGAN",
    "wgan_gp": "WGANGP",
    "sngan": "DCGAN",
    "stylegan2": "StyleGAN2",
    "stylegan3": "StyleGAN3",
    "r3gan": "R3GAN",
    "pix2pix": "Pix2Pix",
    "cyclegan": "CycleGAN",
}
# The recipe whose model and optimizer settings `resolve("dcgan", data=...)` uses.
ARCHITECTURE_BASES = {
    "gan": "gan.mnist",
    "dcgan": "dcgan.mnist",
    "cgan": "cgan.mnist",
    "wgan_gp": "wgan_gp.fashion_mnist",
    "sngan": "sngan.cifar10",
    "stylegan2": "stylegan2.folder64",
    "stylegan3": "stylegan3.mnist5k",
    "r3gan": "r3gan.cifar10",
    "pix2pix": "pix2pix.facades",
    "cyclegan": "cyclegan.horse2zebra",
}
TRANSLATION_CLASSES = ("Pix2Pix", "CycleGAN")
MODEL_CLASSES = (
    "GAN",
    "DCGAN",
    "ConditionalGAN",
    "WGANGP",
    "StyleGAN2",
    "StyleGAN3",
    "R3GAN",
    *TRANSLATION_CLASSES,
)
# The [optimizers.*] sections each model class trains with.
OPTIMIZER_ROLES = {"CycleGAN": ("generator", "discriminator_a", "discriminator_b")}
DEFAULT_OPTIMIZER_ROLES = ("discriminator", "generator")
# Model arguments that fix image shapes; data given on the command line replaces them.
SHAPE_KEYS = ("image_shape", "source_shape", "target_shape", "shape_a", "shape_b")
_REQUIRED = ("name", "model", "optimizers", "training", "dataset")


@dataclasses.dataclass
class Recipe:
    """One zoo entry, as read from `<name>.toml`.

    Attributes:
        name: `arch.dataset`, e.g. `"dcgan.mnist5k"`.
        description: one line about the recipe.
        model: `{"class": "DCGAN", "latent_dim": ..., ...}`: the class and
            its constructor arguments.
        optimizers: `{"discriminator": {...}, "generator": {...}}`, each a
            `keras.optimizers` class name under `"class"` and its config.
        training: `batch_size`, `epochs`, `seed`, and `precision`
            (`"float32"`, the default, `"mixed_bfloat16"`, `"mixed_float16"`,
            or `"auto"`: see `keras_gans.utils.precision.resolve_precision`).
        dataset: `name` (a `keras_gans.data` name or a folder) and
            optionally `image_size` and `max_images`.
        hub: `repo_id`, the Hub repo the recipe publishes to.
        evaluation: metrics during training: `extractor`, `num_samples`,
            `every_n_epochs`; empty for none.
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
    def precision(self) -> str:
        return str(self.training.get("precision", "float32"))

    @property
    def repo_id(self) -> str | None:
        return self.hub.get("repo_id")

    @property
    def is_translation(self) -> bool:
        return self.model_class in TRANSLATION_CLASSES

    @property
    def optimizer_roles(self) -> tuple[str, ...]:
        return OPTIMIZER_ROLES.get(self.model_class, DEFAULT_OPTIMIZER_ROLES)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The shape of the images the model makes (a translation model's targets)."""
        for key in ("image_shape", "target_shape", "shape_b", "source_shape", "shape_a"):
            if key in self.model:
                return tuple(int(d) for d in self.model[key])
        return (28, 28, 1)

    def to_dict(self) -> dict:
        """The recipe as plain data (what a run folder's `run.json` stores)."""
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
        data.pop("results", None)  # run folders written by keras-gans 0.1
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}.")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}.")
        data.setdefault("description", "")
        data.setdefault("hub", {})
        recipe = cls(**data, path=path)
        check(recipe, where)
        return recipe

    def replace(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        data: str | None = None,
        image_size: int | None = None,
        max_images: int | None = None,
        precision: str | None = None,
    ) -> Recipe:
        """A copy with command-line style overrides applied.

        `data` swaps the dataset for a folder (or another dataset name) and
        makes the model take its image shape (and classes) from that data.

        Args:
            epochs: total epochs.
            batch_size: images per step.
            data: a folder or dataset name replacing the recipe's dataset.
            image_size: resize images to this size.
            max_images: train on at most this many images.
            precision: the `[training] precision` to train in.
        """
        recipe = copy.deepcopy(self)
        if epochs is not None:
            recipe.training["epochs"] = epochs
        if batch_size is not None:
            recipe.training["batch_size"] = batch_size
        if precision is not None:
            recipe.training["precision"] = precision
        if data is not None:
            recipe.dataset = {"name": os.fspath(data)}
            for key in SHAPE_KEYS:
                recipe.model.pop(key, None)
            recipe.hub = {}
            if recipe.evaluation:
                recipe.evaluation.pop("extractor", None)  # chosen by the data's channels
            label = os.path.basename(os.path.normpath(os.fspath(data))) or "data"
            recipe.name = f"{recipe.name.split('.')[0]}.{label}"
        if image_size is not None:
            recipe.dataset["image_size"] = image_size
            for key in SHAPE_KEYS:
                recipe.model.pop(key, None)
        if max_images is not None:
            recipe.dataset["max_images"] = max_images
        check(recipe, recipe.name)
        return recipe


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check(recipe: Recipe, where: str) -> None:
    """Raises a ValueError naming the section and key of the first malformed field."""
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
    if recipe.training.get("precision", "float32") not in PRECISIONS:
        raise ValueError(
            f"{where}: [training] precision must be one of {', '.join(PRECISIONS)}; "
            f"received {recipe.training.get('precision')!r}."
        )
    for role in recipe.optimizer_roles:
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


def _builtin_folder():
    """The built-in recipes: the repository's `zoo/`, installed as the `keras_gans.zoo` package."""
    return importlib.resources.files("keras_gans.zoo")


def recipe_files() -> dict[str, str]:
    """`{name: path}` of every recipe: the built-in ones, then `$KERAS_GANS_ZOO`'s."""
    found = {}
    builtin = _builtin_folder()
    for entry in builtin.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name[: -len(".toml")]] = os.fspath(entry)
    user = os.environ.get(ZOO_ENV_VAR)
    if user:
        if not os.path.isdir(user):
            raise FileNotFoundError(
                f"{ZOO_ENV_VAR}={user!r} is not a folder; point it at a folder of "
                "<arch>.<dataset>.toml recipes, or unset it."
            )
        for name in os.listdir(user):
            if name.endswith(".toml"):
                found[name[: -len(".toml")]] = os.path.join(user, name)
    return dict(sorted(found.items()))


def list_recipes() -> list[str]:
    """The names of every recipe, sorted.

    Example:

    ```python
    recipes.list_recipes()   # ['cgan.cifar10', 'cgan.mnist', ..., 'wgan_gp.fashion_mnist']
    ```
    """
    return list(recipe_files())


def get(name: str | Recipe) -> Recipe:
    """Reads the recipe `name` (`arch.dataset`).

    Args:
        name: a recipe name, or a `Recipe` (returned as is).

    Raises:
        ValueError: an unknown name (the message lists close matches and
            every known name) or a malformed recipe file.

    Example:

    ```python
    recipe = recipes.get("dcgan.mnist5k")
    ```
    """
    if isinstance(name, Recipe):
        return name
    files = recipe_files()
    if name not in files:
        known = list(files)
        close = difflib.get_close_matches(str(name), known + list(ARCHITECTURES), n=3, cutoff=0.5)
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


def resolve(name_or_arch: str | Recipe, data: str | None = None, **overrides) -> Recipe:
    """A recipe by name, or an architecture (`gan`, `dcgan`, `cgan`, ...) plus a dataset.

    Args:
        name_or_arch: a recipe name, a `Recipe`, or an architecture.
        data: a folder or dataset name to train on instead of the recipe's.
        **overrides: `epochs`, `batch_size`, `image_size`, `max_images`,
            `precision`.

    Example:

    ```python
    recipes.resolve("dcgan", data="./faces", image_size=64, epochs=100)
    ```
    """
    if isinstance(name_or_arch, Recipe):
        base = name_or_arch
    elif name_or_arch in ARCHITECTURES:
        named = f"{name_or_arch}.{data}"
        if data is not None and named in recipe_files():
            return get(named).replace(**overrides)  # `dcgan --data mnist5k`
        base = get(ARCHITECTURE_BASES[name_or_arch])
    else:
        base = get(name_or_arch)
    return base.replace(data=data, **overrides)


def repo_id_of(name: str) -> str:
    """The Hub repo a recipe publishes to, e.g. `"keras-gans/dcgan-mnist5k"`.

    Raises:
        ValueError: an unknown recipe, or one that names no repo.
    """
    recipe = get(name)
    if not recipe.repo_id:
        raise ValueError(f"Zoo recipe {name!r} names no Hub repo to load from.")
    return recipe.repo_id


def results_path() -> str:
    """The path of the built-in `results.csv`."""
    return os.fspath(_builtin_folder() / RESULTS_FILE)


def results(name: str | None = None, path: str | None = None) -> list[dict]:
    """Measured rows of `results.csv`, all of them or those of one recipe.

    Args:
        name: a recipe name; None for every row.
        path: another results file (default the built-in one).
    """
    path = path or results_path()
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return [row for row in rows if name is None or row["recipe"] == name]


def record_result(row: dict, path: str | None = None) -> str:
    """Appends one measured run to `results.csv` (the columns of `RESULT_COLUMNS`).

    Args:
        row: values by column; missing columns are left empty, unknown ones refused.
        path: the file (default the built-in one, in a source checkout).

    Returns:
        The path written.
    """
    unknown = set(row) - set(RESULT_COLUMNS)
    if unknown:
        raise ValueError(f"`row` has unknown columns {sorted(unknown)}; use {RESULT_COLUMNS}.")
    path = path or results_path()
    new = not os.path.exists(path)
    with open(path, "a", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=RESULT_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({key: row.get(key, "") for key in RESULT_COLUMNS})
    return path
