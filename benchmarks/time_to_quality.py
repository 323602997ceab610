"""Quality against training time: a recipe with option overrides, trained for a wall-clock budget.

Each trial trains the recipe (with its overrides) in a fresh process, the way
`keras-gans train` does (same data order, same batches), and stops once its
training time reaches `--budget` seconds. Every `--every` seconds of training
it measures the recipe's metric with the recipe's protocol: Frechet and kernel
distances of the offline digit classifier's features (`fd_digits`,
`kd_digits`), the number of digit classes the generated images cover, and for
digit-conditional models the label agreement. The clock stops while it
measures, so the seconds are training seconds; `cpu_seconds` multiplies them
by the threads the trial was given (`--threads`, else the machine's cores).

Trials come from `--trial` (one per flag: `name key=value ...`), from
`--grid key=v1,v2,...` (every combination), or from `--random N` (N random
combinations of the grid, seeded). Keys are dotted recipe paths:
`model.width`, `training.batch_size`, `optimizers.generator.learning_rate`,
`optimizers.*.learning_rate` (every optimizer). `model.augment` takes
`translation+cutout` for a tuple of DiffAugment transforms (`translation+` for one).

Writes one CSV row per measurement (trial, seconds, metrics, settings,
machine) and, with `--plot`, a figure of the metric against seconds for every
trial, its Pareto front marked. `--parallel` runs trials side by side (two
one-thread trials on two cores, say), each with its own threads.

Usage:

```bash
python -m benchmarks.time_to_quality dcgan.mnist5k --budget 180 --every 30 \
    --trial "recipe" --trial "batch64 training.batch_size=64" \
    --out benchmarks/results/time_to_quality_dcgan_mnist5k.csv \
    --plot benchmarks/results/time_to_quality_dcgan_mnist5k.svg
```
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = [
    "recipe",
    "trial",
    "backend",
    "precision",
    "threads",
    "seconds",
    "cpu_seconds",
    "steps",
    "images_seen",
    "fd_digits",
    "kd_digits",
    "classes_covered",
    "agreement",
    "settings",
    "protocol",
    "machine",
    "command",
]

# Recipe keys a trial may set although the recipe leaves them at their defaults.
OPTIONAL_KEYS = {"training.precision", "training.seed"}

# A class counts as covered when at least this share of the generated images is read as it
# (a tenth of the share of uniform digits).
COVERED_SHARE = 0.01


def parse_value(text: str):
    """A command-line value: `"4e-4"` -> 0.0004, `"true"` -> True, `"none"` -> None.

    `"a+b"` -> ["a", "b"] and `"a+"` -> ["a"] (tuples of names, e.g. DiffAugment transforms).
    """
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return [part for part in text.split("+") if part] if "+" in text else text


def parse_trial(text: str) -> tuple[str, dict]:
    """`"name key=value key=value"` -> `(name, {key: value})`."""
    name, *pairs = text.split()
    settings = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--trial {text!r}: {pair!r} is not key=value.")
        key, value = pair.split("=", 1)
        settings[key] = parse_value(value)
    return name, settings


def grid_trials(grid: list[str], random_count: int | None, seed: int) -> list[tuple[str, dict]]:
    """Every combination of `key=v1,v2` axes, or `random_count` of them drawn with `seed`."""
    axes = []
    for axis in grid:
        key, values = axis.split("=", 1)
        axes.append([(key, parse_value(v)) for v in values.split(",")])
    combinations = [dict(c) for c in itertools.product(*axes)]
    if random_count is not None:
        combinations = random.Random(seed).sample(
            combinations, min(random_count, len(combinations))
        )
    return [(" ".join(f"{k}={v}" for k, v in c.items()), c) for c in combinations]


def apply_settings(recipe_dict: dict, settings: dict) -> dict:
    """Sets each dotted `key` of `settings` in the recipe's plain data (`*` matches every key)."""
    for key, value in settings.items():
        *path, last = key.split(".")
        targets = [recipe_dict]
        for part in path:
            targets = [node[name] for node in targets for name in (node if part == "*" else [part])]
        for target in targets:
            if last not in target and path and path[0] != "model" and key not in OPTIONAL_KEYS:
                raise SystemExit(f"{key!r}: the recipe has no {last!r} there.")
            target[last] = tuple(value) if isinstance(value, list) else value
    return recipe_dict


def machine() -> str:
    from benchmarks.csv_rows import processor_name

    return f"{os.cpu_count()} CPU cores ({platform.machine()}; {processor_name() or 'CPU'})"


def parent_command(arguments):
    """The command that started a trial: a worker's arguments without its `--worker` pair."""
    arguments = list(arguments)
    if "--worker" in arguments:
        at = arguments.index("--worker")
        del arguments[at : at + 2]
    return " ".join(["python -m benchmarks.time_to_quality"] + [shlex.quote(a) for a in arguments])


def time_budget(budget, every, measure):
    """A callback stopping `fit` after `budget` training seconds, calling `measure` every `every`.

    Keras is imported here so that the parent process, which only starts trials, never loads it.
    """
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self, budget, every, measure):
            super().__init__()
            self.budget, self.every, self.measure = budget, every, measure
            self.trained = 0.0
            self.steps = 0
            self.next_measurement = every

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.trained += time.perf_counter() - self._start
            self.steps += 1
            if self.trained >= self.next_measurement or self.trained >= self.budget:
                self.measure(self.trained, self.steps)
                self.next_measurement += self.every
            if self.trained >= self.budget:
                self.model.stop_training = True

    return TimeBudget(budget, every, measure)


def worker(args, name, settings):
    """One trial in this process: prints one `RESULT` JSON line per measurement."""
    import keras
    import numpy as np

    from keras_gans import callbacks as gan_callbacks
    from keras_gans import recipes
    from keras_gans.data.reference import reference_description, reference_images
    from keras_gans.metrics import digits_classifier, extractors
    from keras_gans.runner.build import build_model
    from keras_gans.runner.training_data import fit_inputs, load_training_data
    from keras_gans.utils.precision import resolve_precision

    recipe = recipes.Recipe.from_dict(apply_settings(recipes.get(args.recipe).to_dict(), settings))
    keras.utils.set_random_seed(recipe.seed)
    data = load_training_data(recipe)
    keras.mixed_precision.set_global_policy(resolve_precision(recipe.precision))
    model = build_model(recipe, image_shape=data.image_shape, num_classes=data.num_classes)
    extractor_name = recipe.evaluation.get("extractor") or "mnist5k_classifier"
    fid = gan_callbacks.FrechetDistance(
        reference_images(data),
        num_samples=int(recipe.evaluation.get("num_samples", 2000)),
        extractor=extractors.get_feature_extractor(extractor_name),
        kid=True,
    )
    fid.set_model(model)
    fid.on_train_begin()
    classify = digits_classifier.digit_classifier()
    protocol = (
        f"{extractor_name} features, {fid.num_samples} generated vs {reference_description(data)};"
        f" classes covered: digit classes holding at least {COVERED_SHARE:.0%} of those"
        f" {fid.num_samples} images as the classifier reads them"
    )
    conditional = getattr(model, "num_classes", None) == 10
    if conditional:
        protocol += "; agreement: share of 2000 digits (200 per label) read as the label asked for"
    threads = int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count())

    def measure(seconds, steps):
        model._sync_training_state()
        images = np.clip(fid._generate(), -1, 1)
        results = fid.evaluate(images)
        predicted = classify(images).argmax(-1)
        shares = np.bincount(predicted, minlength=10) / len(predicted)
        row = {
            "recipe": args.recipe,
            "trial": name,
            "backend": keras.backend.backend(),
            "precision": keras.mixed_precision.global_policy().name,
            "threads": threads,
            "seconds": round(seconds, 1),
            "cpu_seconds": round(seconds * threads, 1),
            "steps": steps,
            "images_seen": steps * recipe.batch_size,
            "fd_digits": round(float(results["fid"]), 3),
            "kd_digits": round(float(results["kid"]), 4),
            "classes_covered": int(np.sum(shares >= COVERED_SHARE)),
            "agreement": "",
            "settings": json.dumps(settings, sort_keys=True),
            "protocol": protocol,
            "machine": machine(),
            "command": parent_command(sys.argv[1:]),
        }
        if conditional:
            row["agreement"] = round(
                digits_classifier.label_agreement(
                    lambda labels, seed: model.generate(labels=labels, seed=seed)
                ),
                3,
            )
        print("RESULT " + json.dumps(row), flush=True)
        print(
            f"# {name}: {seconds:.0f}s fd_digits {row['fd_digits']} classes "
            f"{row['classes_covered']} agreement {row['agreement']}",
            file=sys.stderr,
            flush=True,
        )

    batches = fit_inputs(data, model, recipe.batch_size, recipe.seed, 0)
    budget = time_budget(args.budget, args.every, measure)
    model.fit(
        batches,
        shuffle=False,
        epochs=10_000,
        verbose=0,
        callbacks=[batches.epoch_setter(), budget],
    )


def pareto_front(points):
    """The (seconds, metric) points no other point beats on both (lower is better)."""
    front, best = [], float("inf")
    for seconds, metric in sorted(points):
        if metric < best:
            front.append((seconds, metric))
            best = metric
    return front


SHORT_KEYS = {
    "optimizers.generator.learning_rate": "lr_G",
    "optimizers.discriminator.learning_rate": "lr_D",
    "optimizers.*.learning_rate": "lr",
    "training.": "",
    "model.": "",
}


def short_label(text: str) -> str:
    """A trial's name for a legend: `optimizers.generator.learning_rate` as `lr_G` and so on."""
    for key, short in SHORT_KEYS.items():
        text = text.replace(key, short)
    return text


def plot(rows, path, metric="fd_digits", x="seconds"):
    """Draws `metric` against `x` (`seconds` or `cpu_seconds`) per trial, and the Pareto front."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    several = len({row["recipe"] for row in rows}) > 1
    labels = {
        id(r): short_label(f"{r['recipe']}: {r['trial']}" if several else r["trial"]) for r in rows
    }
    figure, axis = plt.subplots(figsize=(8, 5))
    for index, label in enumerate(dict.fromkeys(labels[id(r)] for r in rows)):
        points = [(float(r[x]), float(r[metric])) for r in rows if labels[id(r)] == label]
        style = ("-", "--", ":", "-.")[index // 10 % 4]  # ten colours per line style
        axis.plot(*zip(*points), style, marker="o", markersize=3, label=label)
    front = pareto_front([(float(r[x]), float(r[metric])) for r in rows])
    axis.plot(*zip(*front), color="black", linewidth=4, alpha=0.25, label="Pareto front")
    axis.set_yscale("log")
    threads = sorted({str(r["threads"]) for r in rows})
    unit = "training seconds" if x == "seconds" else "training CPU seconds (seconds x threads)"
    axis.set_xlabel(f"{unit}; {'/'.join(threads)} threads; {rows[0]['machine']}", fontsize=8)
    axis.set_ylabel(f"{metric} (lower is better)")
    recipes_shown = " vs ".join(dict.fromkeys(r["recipe"] for r in rows))
    axis.set_title(f"{recipes_shown} on {rows[0]['backend']}: {metric} against training time")
    axis.legend(fontsize=6, loc="upper right")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def read_rows(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def compared_rows(args):
    """The rows of the `--compare` CSVs, only `--compare-trial`'s when given."""
    rows = [row for path in args.compare for row in read_rows(path)]
    return [r for r in rows if not args.compare_trial or r["trial"] in args.compare_trial]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe", help="a zoo recipe, e.g. dcgan.mnist5k")
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds per trial")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between measurements")
    parser.add_argument("--trial", action="append", default=[], help='"name key=value ..."')
    parser.add_argument("--grid", action="append", default=[], help="key=v1,v2,... (combined)")
    parser.add_argument("--random", type=int, help="draw this many grid combinations")
    parser.add_argument("--seed", type=int, default=0, help="seed of --random")
    parser.add_argument("--threads", type=int, help="CPU threads per trial (default all)")
    parser.add_argument("--parallel", type=int, default=1, help="trials run side by side")
    parser.add_argument("--out", help="CSV to append the rows to")
    parser.add_argument("--plot", help="figure of the metric against seconds (all of --out's rows)")
    parser.add_argument("--plot-x", default="seconds", choices=["seconds", "cpu_seconds"])
    parser.add_argument(
        "--compare", action="append", default=[], help="another CSV whose rows --plot also draws"
    )
    parser.add_argument(
        "--compare-trial", action="append", default=[], help="draw only these trials of --compare"
    )
    parser.add_argument(
        "--plot-only", action="store_true", help="draw --plot from --out's rows; train nothing"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        name, settings = json.loads(args.worker)
        return worker(args, name, settings)
    if args.plot_only:
        if not (args.out and args.plot):
            raise SystemExit("--plot-only draws --plot from the rows of --out: pass both.")
        rows = read_rows(args.out)
        plot(rows + compared_rows(args), args.plot, x=args.plot_x)
        return rows

    trials = [parse_trial(t) for t in args.trial] + (
        grid_trials(args.grid, args.random, args.seed) if args.grid else []
    )
    if not trials:
        trials = [("recipe", {})]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if args.threads:
        for key in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            env[key] = str(args.threads)
    base = [sys.executable, "-m", "benchmarks.time_to_quality"] + (
        argv if argv is not None else sys.argv[1:]
    )
    rows = []
    for start in range(0, len(trials), args.parallel):
        running = [
            subprocess.Popen(
                base + ["--worker", json.dumps(trial)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for trial in trials[start : start + args.parallel]
        ]
        for (name, _), process in zip(trials[start : start + args.parallel], running):
            output, _ = process.communicate()
            found = [
                json.loads(line[7:]) for line in output.splitlines() if line.startswith("RESULT ")
            ]
            if process.returncode != 0 or not found:
                raise SystemExit(f"trial {name!r} failed (exit {process.returncode})")
            rows += found
            if args.out:
                from benchmarks.csv_rows import append_rows

                append_rows(args.out, found, FIELDS)
    if args.plot:
        shown = read_rows(args.out) if args.out else rows
        plot(shown + compared_rows(args), args.plot, x=args.plot_x)
    for row in rows:
        print(
            f"{row['trial']:40s} {row['seconds']:7.1f}s fd_digits {row['fd_digits']:8.3f} "
            f"classes {row['classes_covered']:2d} agreement {row['agreement']}"
        )
    return rows


if __name__ == "__main__":
    main()
