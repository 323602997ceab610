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
    if image_shape is not None:
        config["image_shape"] = tuple(int(d) for d in image_shape)
    elif "image_shape" in config:
        config["image_shape"] = tuple(config["image_shape"])
    if num_classes is not None and cls is models.ConditionalGAN:
        config["num_classes"] = int(num_classes)
    config.setdefault("seed", recipe.seed)
    config.update(model_overrides)
    model = cls(**config)
    if compile:
        model.compile(
            **{
                _OPTIMIZER_ARGUMENTS[role]: build_optimizer(recipe.optimizers[role])
                for role in recipe.optimizer_roles
            }
        )
    return model


# `compile` argument of each [optimizers.<role>] section.
_OPTIMIZER_ARGUMENTS = {
    "discriminator": "d_optimizer",
    "generator": "g_optimizer",
    "discriminator_a": "d_a_optimizer",
    "discriminator_b": "d_b_optimizer",
}
