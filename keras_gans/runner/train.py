"""`train`: run a recipe into a run folder that a crash, a kill or Ctrl-C never loses.

Example:

```python
from keras_gans import runner

run = runner.train("dcgan.mnist5k", "runs/dcgan-mnist5k", epochs=2)
run["metrics"]      # {'fd_digits': ..., 'kd_digits': ..., 'feature_extractor': ...}
```
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import keras
import numpy as np

import keras_gans
from keras_gans import callbacks as gan_callbacks
from keras_gans import datasets, recipes
from keras_gans.hub import card as model_card
from keras_gans.metrics import digits_classifier
from keras_gans.recipes import Recipe
from keras_gans.runner import run_folder
from keras_gans.runner.build import build_model
from keras_gans.runner.run_callbacks import CSVLogger, EpochTimer, ScaledBatches
from keras_gans.runner.run_folder import BACKUP_DIR
from keras_gans.utils import files
from keras_gans.utils.device import describe_device

# Above this many bytes of float32 images, training reads uint8 batches and scales them.
IN_MEMORY_LIMIT = 2 * 1024**3


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
        return dict(x=ScaledBatches(data.images, labels, batch_size, seed))
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


def reference_images(data, limit=10_000, seed=0):
    rows = np.arange(len(data.images))
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
    return datasets.scale_images(data.images[rows])


def _evaluation_callback(recipe, data, epochs):
    evaluation = recipe.evaluation
    if not evaluation:
        return None

    name = evaluation.get("extractor") or digits_classifier.default_extractor(data.image_shape[-1])
    try:
        extractor = digits_classifier.feature_extractor(name)
    except (OSError, RuntimeError) as error:
        warnings.warn(f"No FID/KID for this run: {str(error).splitlines()[0]}", stacklevel=3)
        return None
    every = int(evaluation.get("every_n_epochs", epochs))
    return gan_callbacks.FrechetDistance(
        reference_images(data),
        every_n_epochs=max(1, min(every, epochs)),
        num_samples=int(evaluation.get("num_samples", 2000)),
        extractor=extractor,
        kid=True,
        kid_subset_size=int(evaluation.get("kid_subset_size", 1000)),
    )


CARD_METRICS = ("fid", "kid", "feature_extractor", "num_samples")


def _card(model, recipe, run, out_dir, grid_path):
    metrics = {key: run["metrics"][key] for key in CARD_METRICS if key in run.get("metrics", {})}
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
    card.save(os.path.join(out_dir, run_folder.CARD_FILE))


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
    run = runner.train("dcgan.mnist5k", "runs/dcgan-mnist5k")
    run["files"]["grid"]    # 'runs/dcgan-mnist5k/samples/epoch_0020.png'
    ```
    """
    started = time.perf_counter()
    if recipe is None and out_dir is None:
        raise ValueError("Give a recipe to train, or the run folder to resume.")
    if recipe is not None:
        recipe = recipes.resolve(
            recipe,
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            image_size=image_size,
            max_images=max_images,
        )
    out_dir = os.fspath(out_dir) if out_dir is not None else run_folder.default_out_dir(recipe)
    status, previous = run_folder.run_status(out_dir)
    recipe, initial_epoch = _plan_resume(recipe, previous, status, out_dir, resume, epochs)
    if previous and model_overrides is None:
        model_overrides = previous.get("model_overrides") or None
    os.makedirs(out_dir, exist_ok=True)
    paths = run_folder.run_paths(out_dir)
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
    files.write_json(paths["run"], run)
    if status == "interrupted" and initial_epoch:
        run_folder.truncate_csv(paths["metrics"], initial_epoch)

    timer = EpochTimer()
    grids = gan_callbacks.ImageGrid(
        paths["samples"], num_images=64, class_names=images_data.class_names
    )
    run_callbacks = [timer, grids, *([fid] if fid is not None else [])]
    run_callbacks += [
        gan_callbacks.Timelapse(paths["timelapse"], directory=paths["samples"]),
        gan_callbacks.LossPlot(paths["losses"], every_n_epochs=5),
        CSVLogger(
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
        done = run_folder.backup_epoch(out_dir) if os.path.isdir(paths["backup"]) else None
        if done is not None:
            run["epochs_done"] = done
            run["wall_time_s"] += time.perf_counter() - started
            files.write_json(paths["run"], run)
    run_folder.save_model_atomically(model, paths["model"])

    _finish_run(run, model, recipe, paths, fid, timer, grids, trained=epochs - initial_epoch)
    run["wall_time_s"] += time.perf_counter() - started
    files.write_json(paths["run"], run)
    _print_summary(run)
    return run


def _finish_run(run, model, recipe, paths, fid, timer, grids, trained):
    """Records what a finished run reached and writes its loss plot and model card."""
    history = run_folder.read_csv_history(paths["metrics"])
    if history:
        gan_callbacks.plot_history(history, paths["losses"], title=recipe.name)
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
    done = run_folder.backup_epoch(out_dir)
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
