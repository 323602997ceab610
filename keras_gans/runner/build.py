"""From a recipe to a compiled model: `build_model`, `build_optimizer`."""

from __future__ import annotations

import keras

from keras_gans import models, recipes
from keras_gans.recipes import Recipe


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
        image_shape: overrides the recipe's image shape (e.g. from the data);
            translation models take their shapes as `model_overrides`
            (`source_shape=...`, `shape_a=...`).
        num_classes: overrides the recipe's number of classes.
        compile: compile with the recipe's two optimizers.
        **model_overrides: other constructor arguments to override, e.g.
            `width=8` for a tiny test model.

    Example:

    ```python
    gan = runner.build_model("dcgan.mnist5k")
    gan.fit(images, epochs=1)
    ```
    """
    recipe = recipes.get(recipe)
    config = dict(recipe.model)
    cls = getattr(models, config.pop("class"))
    pretrained = model_overrides.pop("pretrained", None) or config.pop("pretrained", None)
    config.pop("pretrained", None)
    if pretrained:
        config.update(model_overrides)
        model = _pretrained_model(cls, pretrained, config, image_shape, num_classes, recipe.seed)
    else:
        model = _new_model(cls, config, image_shape, num_classes, recipe.seed, model_overrides)
    if compile:
        model.compile(
            **{
                _OPTIMIZER_ARGUMENTS[role]: build_optimizer(recipe.optimizers[role])
                for role in recipe.optimizer_roles
            }
        )
    return model


def _new_model(cls, config, image_shape, num_classes, seed, overrides):
    if image_shape is not None:
        config["image_shape"] = tuple(int(d) for d in image_shape)
    elif "image_shape" in config:
        config["image_shape"] = tuple(config["image_shape"])
    if num_classes is not None and cls is models.ConditionalGAN:
        config["num_classes"] = int(num_classes)
    config.setdefault("seed", seed)
    config.update(overrides)
    return cls(**config)


def _pretrained_model(cls, pretrained, config, image_shape, num_classes, seed):
    """A recipe with `pretrained = "nvlabs:..."` (or a pickle): converted, then its options."""
    if not hasattr(cls, "from_nvlabs"):
        raise ValueError(f"`pretrained` applies to StyleGAN2 recipes, not to {cls.__name__}.")
    config.setdefault("seed", seed)
    from keras_gans.convert.stylegan2 import ARCHITECTURE_OPTIONS

    for key in ARCHITECTURE_OPTIONS:
        config.pop(key, None)  # the pickle's
    model = cls.from_nvlabs(pretrained, **config)
    if image_shape is not None and tuple(image_shape) != tuple(model.image_shape):
        height, width, channels = model.image_shape
        raise ValueError(
            f"{pretrained} makes {height}x{width}x{channels} images but the training images "
            f"are {'x'.join(map(str, image_shape))}: train at its size (--image-size {height}"
            f"{'' if channels == 3 else ', grey images'})."
        )
    if (num_classes or None) != model.num_classes:
        raise ValueError(
            f"{pretrained} has {model.num_classes or 'no'} classes but the training data has "
            f"{num_classes or 'no'} labels."
        )
    return model


# `compile` argument of each [optimizers.<role>] section.
_OPTIMIZER_ARGUMENTS = {
    "discriminator": "d_optimizer",
    "generator": "g_optimizer",
    "discriminator_a": "d_a_optimizer",
    "discriminator_b": "d_b_optimizer",
}
