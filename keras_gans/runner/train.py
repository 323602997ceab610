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
import shutil
import time
import warnings

import keras

from keras_gans import callbacks as gan_callbacks
from keras_gans import distribute, recipes
from keras_gans.callbacks.backup_and_restore import restore_backup
from keras_gans.data.reference import reference_description, reference_images
from keras_gans.metrics import digits_classifier, extractors
from keras_gans.models import from_pretrained
from keras_gans.recipes import Recipe
from keras_gans.runner import processes, run_folder, summary, translation
from keras_gans.runner.build import build_model
from keras_gans.runner.run_callbacks import (
    EpochTimer,
    LearningRateScale,
    MetricsCSV,
    RenameLogs,
    SafeBackupAndRestore,
    weights_are_finite,
)
from keras_gans.runner.training_data import check_data_fits, fit_inputs, load_training_data
from keras_gans.utils import files
from keras_gans.utils.device import describe_device
from keras_gans.utils.precision import global_policy, resolve_precision
from keras_gans.utils.version import VERSION


def _evaluation_callback(recipe, data, epochs):
    evaluation = recipe.evaluation
    if not evaluation:
        return None

    name = evaluation.get("extractor") or digits_classifier.default_extractor(data.image_shape[-1])
    try:
        extractor = extractors.get_feature_extractor(name)
    except (OSError, RuntimeError) as error:
        warnings.warn(f"No FID/KID for this run: {str(error).splitlines()[0]}", stacklevel=3)
        return None
    every = int(evaluation.get("every_n_epochs", epochs))
    fid = gan_callbacks.FrechetDistance(
        reference_images(data),
        every_n_epochs=max(1, min(every, epochs)),
        num_samples=int(evaluation.get("num_samples", 2000)),
        extractor=extractor,
        kid=True,
        kid_subset_size=int(evaluation.get("kid_subset_size", 1000)),
    )
    fid.reference_description = reference_description(data)
    return fid


def train(
    recipe: Recipe | str,
    out_dir=None,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    data: str | None = None,
    image_size: int | None = None,
    max_images: int | None = None,
    precision: str | None = None,
    resume: bool = False,
    evaluate: bool | None = None,
    max_loss: float | None = None,
    lr_scale: float | None = None,
    backup_every: int | None = None,
    stream: bool | None = None,
    verbose="auto",
    callbacks: list | None = None,
    model_overrides: dict | None = None,
) -> dict:
    """Trains a zoo recipe and writes a run folder (see `keras_gans.runner.run_folder`).

    The folder survives a kill at any instant: each finished epoch is backed up
    (`backup/`), the final model is written atomically before the backup is
    dropped, and the options are stored in `run.json`, so running the same
    command again (or `resume=True` on the folder) carries on the same run from
    the last finished epoch. The data order of each epoch comes from the seed and
    the epoch alone, so a resumed run on JAX or TensorFlow ends with exactly the
    weights of an uninterrupted one.

    After `keras_gans.distribute.initialize` for several processes (or on a
    machine with several JAX devices), each global batch is spread over every
    device of every process (`keras.distribution.DataParallel`), each process
    reading only its slice; process 0 alone writes the run folder.

    A run's finished epochs are what its folder holds (the backup, or
    `model.keras` with its epoch in `run.json`), so carrying on a finished run
    and killing it, or letting it diverge, at any instant never loses the
    model it started from.

    A loss that turns NaN/inf or exceeds `max_loss` stops training: `model.keras`
    then holds the last finite weights (the last backup, or the model the run
    started from), `run.json` says `"status": "diverged"` and where, and
    `resume=True, lr_scale=0.1` carries on from there with smaller learning rates.

    Args:
        recipe: a `Recipe`, a recipe name (`"dcgan.mnist5k"`) or an
            architecture (`"gan"`, `"dcgan"`, `"cgan"`) with `data`.
        out_dir: the run folder; default `runs/<arch>-<dataset>`. With
            `resume=True` and `recipe=None`, the run to carry on.
        epochs: total epochs (default the recipe's).
        batch_size: overrides the recipe's batch size.
        data: a folder of images (or dataset name) replacing the recipe's dataset.
        image_size: resize the images to this size.
        max_images: train on at most this many images.
        precision: the recipe's `[training] precision` instead (`"float32"`,
            `"mixed_bfloat16"`, `"mixed_float16"` or `"auto"`). The run trains
            under that Keras dtype policy and records it; a resumed run keeps
            the policy it started with.
        resume: carry on a finished or diverged run, or insist that there is a
            run to carry on.
        evaluate: compute the recipe's metrics during training (default True; a
            resumed run keeps its own setting unless this is given).
        max_loss: a logged loss above this counts as divergence (default 1e6,
            kept by a resumed run).
        lr_scale: multiply both learning rates by this when carrying on a run.
        backup_every: back up every this many steps as well as after each epoch
            (default: per epoch only; kept by a resumed run). A run killed
            mid-epoch then resumes from its last backup without training any
            batch twice.
        verbose: `fit`'s verbosity (`"auto"` shows Keras' progress bar).
        callbacks: more Keras callbacks, run before the backup is saved.
        model_overrides: constructor arguments replacing the recipe's (tests
            use `{"width": 8}`).

    Returns:
        The run's `run.json` content: recipe, options, backend, device, epochs
        done, wall time, images/s, metrics and the paths written.

    Example:

    ```python
    run = runner.train("dcgan.mnist5k", "runs/dcgan-mnist5k")
    run["files"]["grid"]    # 'runs/dcgan-mnist5k/samples/epoch_0020.png'
    ```
    """
    started = time.perf_counter()
    if recipe is None and out_dir is None:
        raise ValueError("Give a recipe to train, or the run folder to resume.")
    if lr_scale is not None and not float(lr_scale) > 0:
        raise ValueError(f"`lr_scale` must be a positive number. Received: {lr_scale!r}")
    if recipe is not None:
        recipe = recipes.resolve(
            recipe,
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            image_size=image_size,
            max_images=max_images,
            precision=precision,
        )
    kwargs = dict(
        evaluate=evaluate,
        max_loss=max_loss,
        lr_scale=lr_scale,
        backup_every=backup_every,
        stream=stream,
        callbacks=callbacks,
        model_overrides=model_overrides,
    )
    out_dir = os.fspath(out_dir) if out_dir is not None else run_folder.default_out_dir(recipe)
    with global_policy(_run_policy(out_dir, recipe)):
        return _train_process(out_dir, recipe, started, resume, epochs, verbose, **kwargs)


def _run_policy(out_dir, recipe) -> str:
    """The dtype policy of a run: the one it started with, else its recipe's precision."""
    try:
        _, previous = run_folder.run_status(out_dir)
    except ValueError:  # not a run folder: `_train_into` says so
        previous = None
    if previous and previous.get("precision"):
        return previous["precision"]
    if recipe is None and previous:
        recipe = Recipe.from_dict(previous["recipe"])
    return resolve_precision(recipe.precision if recipe is not None else "float32")


def _train_process(out_dir, recipe, started, resume, epochs, verbose, **kwargs):
    setup = distribute.process_setup()
    processes.start_data_parallel(setup)
    kwargs["verbose"] = verbose if setup.is_chief else 0
    if setup.is_chief:
        return _train_into(out_dir, recipe, setup, started, resume=resume, epochs=epochs, **kwargs)
    # Process 0 writes the run folder; this one trains alike into a scratch copy.
    scratch = processes.private_run_folder(out_dir)
    try:
        return _train_into(scratch, recipe, setup, started, resume=resume, epochs=epochs, **kwargs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train_into(
    out_dir,
    recipe,
    setup,
    started,
    *,
    resume,
    epochs,
    evaluate,
    max_loss,
    lr_scale,
    backup_every,
    stream,
    verbose,
    callbacks,
    model_overrides,
):
    if os.path.isdir(out_dir):
        files.remove_stale_temporaries(out_dir)  # left by a writer killed mid-write
    status, previous = run_folder.run_status(out_dir)
    recipe, initial_epoch, from_model = run_folder.plan_resume(
        recipe, previous, status, out_dir, resume, epochs
    )
    options = dict((previous or {}).get("options") or {"evaluate": True, "max_loss": 1e6})
    if evaluate is not None:
        options["evaluate"] = bool(evaluate)
    if max_loss is not None:
        options["max_loss"] = float(max_loss)
    if backup_every is not None:
        options["backup_every"] = _positive_int(backup_every, "backup_every")
    if stream is not None:
        options["stream"] = bool(stream)
    if previous and model_overrides is None:
        model_overrides = previous.get("model_overrides") or None
    os.makedirs(out_dir, exist_ok=True)
    paths = run_folder.run_paths(out_dir)
    epochs, fid, scores = recipe.epochs, None, None
    if recipe.is_translation:
        images_data = translation.load(recipe, options["evaluate"])
        scores = translation.metrics_callback(images_data, recipe, epochs)
        model_kwargs = {**translation.model_options(recipe, images_data), **(model_overrides or {})}
    else:
        images_data = load_training_data(recipe, options.get("stream", False), setup)
        check_data_fits(recipe, images_data)
        if options["evaluate"]:
            fid = _evaluation_callback(recipe, images_data, epochs)
        model_kwargs = dict(
            image_shape=images_data.image_shape,
            num_classes=images_data.num_classes,
            **(model_overrides or {}),
        )

    keras.utils.set_random_seed(recipe.seed)
    if from_model:
        model = from_pretrained(paths["model"])  # its optimizer state included
        shutil.rmtree(paths["backup"], ignore_errors=True)  # older: never restored over it
    else:
        model = build_model(recipe, **model_kwargs)  # a backup, if any, is restored into it
    run = {
        "status": "training",
        "recipe": recipe.to_dict(),
        "options": options,
        "backend": keras.backend.backend(),
        "precision": keras.mixed_precision.global_policy().name,
        "device": describe_device(),
        "keras_gans_version": VERSION,
        "keras_version": keras.__version__,
        "dataset": recipe.dataset_name,
        "num_images": images_data.num_images,
        "processes": setup.num_processes,
        "image_shape": list(images_data.image_shape),
        "model_overrides": model_overrides or {},
        "epochs_done": initial_epoch,
        "model_epoch": run_folder.model_epoch(previous, out_dir),
        "wall_time_s": (previous or {}).get("wall_time_s", 0.0),
        "metrics": (previous or {}).get("metrics", {}),
    }
    files.write_json(paths["run"], run)
    if status != "new":
        run_folder.truncate_csv(paths["metrics"], initial_epoch)  # rows of unfinished epochs

    timer = EpochTimer()
    losses = [metric.name for metric in model.metrics if metric.name.endswith("_loss")]
    # The last good state is on disk (backup/, model.keras): no copies in memory.
    guard = gan_callbacks.DivergenceGuard(options["max_loss"], monitor=losses, restore=False)
    if recipe.is_translation:
        batches = translation.fit_inputs(images_data, initial_epoch)
        grids = gan_callbacks.ImageGrid(paths["samples"], examples=images_data.examples)
    else:
        batches = fit_inputs(
            images_data, model, recipe.batch_size, recipe.seed, initial_epoch, setup
        )
        grids = gan_callbacks.ImageGrid(
            paths["samples"], num_images=64, class_names=images_data.class_names
        )
    run_callbacks = [batches.epoch_setter(), guard, timer, grids]
    metric_keys = ()
    if scores is not None:
        metric_keys = images_data.metric_keys
        run_callbacks.append(scores)
    if fid is not None:
        # Logged as fid/kid; published under the name of what measured them (fd_digits ...).
        names = summary.named_metrics(dict.fromkeys(("fid", "kid", "kid_std")), fid.extractor.name)
        metric_keys = tuple(names.keys())
        run_callbacks += [fid, RenameLogs(zip(("fid", "kid", "kid_std"), metric_keys))]
    run_callbacks += [
        gan_callbacks.Timelapse(paths["timelapse"], directory=paths["samples"]),
        gan_callbacks.LossPlot(paths["losses"], every_n_epochs=5, extra_keys=metric_keys[:2]),
        MetricsCSV(paths["metrics"], keys=metric_keys),
        *(callbacks or []),
        # Last, so that a crash between the callbacks never records an epoch
        # in the backup that the CSV or grids lack.
        SafeBackupAndRestore(paths["backup"], guard, options.get("backup_every") or "epoch"),
    ]
    if lr_scale is not None:
        run_callbacks.append(LearningRateScale(lr_scale))  # after the backup is restored
    print(
        f"Training {recipe.name}: {recipe.model_class} on {images_data.num_images} images of "
        f"{'x'.join(map(str, images_data.image_shape))} from {images_data.name}, "
        f"{keras.backend.backend()} backend on {run['device']}"
        f"{'' if run['precision'] == 'float32' else ' in ' + run['precision']}, "
        f"epochs {initial_epoch + 1}-{epochs}, batch size {recipe.batch_size} -> {out_dir}"
    )
    try:
        model.fit(
            batches,
            shuffle=False,  # the order of each epoch is the batches' own, from the seed
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=run_callbacks,
            verbose=verbose,
        )
    finally:
        run["epochs_done"] = run_folder.finished_epochs(run, out_dir)
        run["wall_time_s"] += time.perf_counter() - started
        started = time.perf_counter()
        files.write_json(paths["run"], run)
    if guard.diverged_at is not None:
        return _keep_last_good_state(run, model, paths, guard.diverged_at)
    # The final model goes in place before the backup is dropped: a kill at any
    # instant leaves one of the two, and a re-run finishes from the backup.
    run_folder.save_model_atomically(model, paths["model"])
    run["model_epoch"] = epochs
    run["wall_time_s"] += time.perf_counter() - started
    measured = translation.results(scores, images_data) if recipe.is_translation else None
    summary.finish_run(
        run, model, recipe, paths, fid, timer, grids, epochs - initial_epoch, measured
    )
    files.write_json(paths["run"], run)
    shutil.rmtree(paths["backup"], ignore_errors=True)
    summary.print_summary(run)
    return run


def _positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{argument}` must be a positive number of steps. Received: {value!r}")
    return value


def _keep_last_good_state(run, model, paths, diverged_at):
    """After a divergence: `model.keras` holds the newest finite state on disk, and says which."""
    out_dir = os.path.dirname(paths["run"])
    backup = run_folder.backup_position(out_dir)
    kept = run_folder.model_epoch(run, out_dir)
    kept = None if kept is None else (kept, 0)
    if backup is not None and (kept is None or backup > kept):
        restore_backup(model, paths["backup"])  # backups are finite (never saved otherwise)
        if weights_are_finite(model):
            run_folder.save_model_atomically(model, paths["model"])
            run["model_epoch"], kept = backup[0], backup
    run["status"] = "diverged"
    run["diverged_at"] = diverged_at
    run["epochs_done"] = run_folder.finished_epochs(run, out_dir)
    files.write_json(paths["run"], run)
    where = f"epoch {diverged_at['epoch']}, step {diverged_at['step']}"
    command = f"keras-gans train --resume {out_dir} --lr-scale 0.1"
    if kept is None:
        saved = "no epoch finished with finite weights, so no model was saved"
        advice = f"Start again with smaller learning rates: {command}"
    else:
        saved = f"{paths['model']} holds the last finite weights, {_position_words(*kept)}"
        advice = f"Carry on from it with smaller learning rates: {command}"
    value = diverged_at["value"]
    value = f"{value:.3g}" if isinstance(value, float) else value  # or "nan", "inf"
    raise DivergedError(
        f"Training diverged at {where} ({diverged_at['loss']} = {value}); {saved}. {advice}"
    )


def _position_words(epochs, batches):
    """`(2, 0)` -> "those of epoch 2"; `(2, 3)` -> "epoch 2 and 3 steps of epoch 3"."""
    if not batches:
        return f"those of epoch {epochs}"
    steps = f"{batches} step{'s' if batches > 1 else ''} of epoch {epochs + 1}"
    return f"epoch {epochs} and {steps}" if epochs else steps


class DivergedError(RuntimeError):
    """A run stopped on a non-finite or exploding loss; its last good state is on disk."""

    user_error = True  # the CLI prints it as one line
