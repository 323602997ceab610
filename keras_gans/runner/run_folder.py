"""The run folder: its file names, its status, and reading and repairing what it holds.

```
runs/dcgan-mnist5k/
  samples/epoch_0001.png ...   one grid per epoch, fixed noise
  progress.gif                 the grids as an animation
  losses.png                   d_loss / g_loss (and metrics) per epoch
  metrics.csv                  every logged value per epoch
  model.keras                  the trained model, optimizer state included
  README.md                    the model card
  run.json                     recipe, options, backend, device, timings, metrics
  backup/                      while training: what a re-run resumes from
```
"""

from __future__ import annotations

import csv
import os

from keras_gans.callbacks import backup_and_restore
from keras_gans.recipes import Recipe
from keras_gans.utils.files import atomic_path, read_json

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
BACKUP_DIR = "backup"
SAMPLES_DIR = "samples"
METRICS_FILE = "metrics.csv"
LOSSES_FILE = "losses.png"
GIF_FILE = "progress.gif"
CARD_FILE = "README.md"


def read_run(run_dir) -> dict:
    """The `run.json` of a run folder, or a clear error if it is not one."""
    path = os.path.join(os.fspath(run_dir), RUN_FILE)
    if not os.path.isdir(os.fspath(run_dir)):
        raise FileNotFoundError(f"No such run folder: {os.fspath(run_dir)!r}.")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{os.fspath(run_dir)!r} is not a keras-gans run folder (it has no {RUN_FILE})."
        )
    return read_json(path)


def default_out_dir(recipe: Recipe) -> str:
    """`runs/<arch>-<dataset>`, e.g. `runs/dcgan-mnist5k`."""
    return os.path.join("runs", recipe.name.replace(".", "-"))


def read_csv_history(path) -> dict:
    """The metrics CSV as `{column: [float or None per epoch]}`."""
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


def truncate_csv(path, epochs_done):
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


def save_model_atomically(model, path):
    """Saves `model` as a `.keras` file beside `path`, then renames it onto `path`."""
    with atomic_path(path) as temporary:
        model.save(temporary)


def run_paths(out_dir) -> dict:
    """`{role: path}` of every file of the run folder `out_dir`."""
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


def run_status(out_dir):
    """`"new"`, `"interrupted"` (a backup to resume from), `"diverged"` or `"finished"`."""
    run_path = os.path.join(out_dir, RUN_FILE)
    if not os.path.exists(run_path):
        if os.path.isdir(out_dir) and os.listdir(out_dir):
            raise ValueError(
                f"{out_dir!r} is not empty and holds no keras-gans run ({RUN_FILE}); "
                "choose a new --out folder."
            )
        return "new", None
    run = read_json(run_path)
    if run.get("status") == "finished" and os.path.exists(os.path.join(out_dir, MODEL_FILE)):
        return "finished", run
    if run.get("status") == "diverged":
        return "diverged", run
    return "interrupted", run


def backup_position(out_dir) -> tuple[int, int] | None:
    """`(epochs, batches of the next epoch)` the backup in `out_dir` holds, or None without one."""
    metadata = backup_and_restore.backup_position(os.path.join(out_dir, BACKUP_DIR))
    if metadata is None:
        return None
    return int(metadata.get("epoch", 0)), int(metadata.get("batches_done", 0))


def backup_epoch(out_dir) -> int:
    """The number of epochs the backup in `out_dir` holds (0 without one)."""
    position = backup_position(out_dir)
    return position[0] if position else 0


def model_epoch(run, out_dir) -> int | None:
    """The epochs `model.keras` holds (`run.json`'s `model_epoch`), or None without the file.

    `model_epoch` is written whenever `model.keras` is: at the end of a run and
    when a divergence keeps backed-up weights. Run folders written before it
    existed held `model.keras` at `epochs_done` epochs.
    """
    if not run or not os.path.exists(os.path.join(out_dir, MODEL_FILE)):
        return None
    return int(run.get("model_epoch", run.get("epochs_done")) or 0)


def finished_epochs(run, out_dir) -> int:
    """Epochs trained for good: the most that the backup or `model.keras` holds."""
    return max(backup_epoch(out_dir), model_epoch(run, out_dir) or 0)


def resume_point(run, out_dir) -> tuple[int, bool]:
    """Where a run carries on: `(finished epochs, whether from model.keras)`.

    The backup wins when it is at least as far as `model.keras` (it also holds
    mid-epoch positions and random states); otherwise training starts from
    `model.keras` with its optimizer state, and a backup older than it must not
    be restored over it.
    """
    backup = backup_position(out_dir)
    model = model_epoch(run, out_dir)
    if backup is not None and (model is None or backup >= (model, 0)):
        return backup[0], False
    return model or 0, model is not None


def result_row(run: dict, command: str) -> dict:
    """A finished run as a `results.csv` row (see `keras_gans.recipes.RESULT_COLUMNS`)."""
    metrics = run.get("metrics") or {}
    protocol = ""
    if metrics.get("feature_extractor"):
        protocol = (
            f"{metrics['feature_extractor']} features, {metrics.get('num_samples')} generated "
            f"vs {metrics.get('reference', 'training images')}"
        )
    device = run["device"]
    if run.get("precision", "float32") != "float32":  # e.g. "2 CPU cores (x86_64), mixed_bfloat16"
        device += f", {run['precision']}"
    return {
        "recipe": run["recipe"]["name"],
        "backend": run["backend"],
        "device": device,
        "epochs": run["epochs_done"],
        "wall_time_s": round(run["wall_time_s"]),
        "images_per_s": round(run["images_per_s"] or 0),
        "fd_digits": _rounded(metrics.get("fd_digits", metrics.get("fd_digits_a_to_b")), 2),
        "kd_digits": _rounded(metrics.get("kd_digits", metrics.get("kd_digits_a_to_b")), 4),
        "l1": _rounded(metrics.get("l1"), 4),
        "psnr": _rounded(metrics.get("psnr"), 2),
        "ssim": _rounded(metrics.get("ssim"), 4),
        "agreement": _rounded(metrics.get("agreement", metrics.get("agreement_a_to_b")), 3),
        "protocol": "; ".join(p for p in (protocol, *_own_protocols(metrics)) if p),
        "command": command,
    }


def _own_protocols(metrics):
    """The protocols of the metrics not measured on features (`agreement: ...`, L1 ...)."""
    texts = [f"{key}: {text}" for key, text in (metrics.get("protocols") or {}).items()]
    return texts + ([metrics["protocol"]] if metrics.get("protocol") else [])


def _rounded(value, digits):
    return "" if value is None else round(float(value), digits)


_RESUME_SECTIONS = ("model", "optimizers", "dataset")


def plan_resume(recipe, previous, status, out_dir, resume, epochs):
    """Which recipe to train, and from which epoch, given what `out_dir` holds.

    Args:
        recipe: the recipe asked for (None: the run folder's own).
        previous: the folder's `run.json` content, or None.
        status: `run_status(out_dir)`'s status.
        out_dir: the run folder.
        resume: whether the user asked to carry on a run.
        epochs: the total epochs asked for, or None.

    Returns:
        `(recipe, initial_epoch, from_model)`: `from_model` when training carries
        on from `model.keras` (see `resume_point`).
    """
    if status == "new":
        if resume:
            raise FileNotFoundError(f"Nothing to resume in {out_dir!r}: it holds no run.")
        if recipe is None:
            raise ValueError("Give a recipe to train, or a run folder to resume.")
        return recipe, 0, False
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
    done, from_model = resume_point(previous, out_dir)
    if status == "finished":
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
        return saved, done, from_model
    if status == "diverged" and not resume:
        raise ValueError(
            f"{out_dir!r} holds a run that diverged ({previous.get('diverged_at')}); carry it "
            "on from its last good epoch with --resume and smaller learning rates "
            "(--lr-scale 0.1), or choose another --out folder."
        )
    if saved.epochs < done:
        raise ValueError(
            f"{out_dir!r} has already trained {done} epochs; pass --epochs N with N >= {done}."
        )
    source = MODEL_FILE if from_model else f"the backup in {BACKUP_DIR}/"
    if done == saved.epochs:
        print(f"{saved.name} in {out_dir}: all {done} epochs are trained ({source}); saving")
    elif done:
        print(f"Resuming {saved.name} in {out_dir} from epoch {done + 1} ({source})")
    return saved, done, from_model
