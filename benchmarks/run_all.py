"""One command for this machine's benchmark table: every family's `fit` next to its hand loop.

Runs the per-family benchmarks, each into its own CSV under `benchmarks/results/`:

- `throughput.py`: DCGAN at 28x28x1 and 32x32x3, float32 and mixed_bfloat16 (fit vs a
  hand-written loop doing the same work, all backends);
- `style_families.py`: StyleGAN2 and R3GAN at 32x32 and 64x64;
- `translation.py`: Pix2Pix and CycleGAN at 64x64 (per backend);
- `tutorial_loop.py`: the TensorFlow DCGAN tutorial's networks, `fit` (both update rules)
  against the tutorial's own loop, medians over several processes; `tutorial_keras_gans`
  runs it again with keras-gans' drop-in `Conv2D`/`Conv2DTranspose` on TensorFlow and JAX;
- `large_images.py`: DCGAN and ConditionalGAN at 64, 128 and 256 pixels (images/s of
  `fit` and peak memory; no loop);

then merges their rows into `benchmarks/results/<device>.csv` (one schema: family, model,
backend, image shape, dtype, batch, images/s of `fit` and of the loop, their ratio, the
settings and the CSV each row came from) and rewrites the table between the
`benchmark-table` markers of docs/benchmarks.md (the docs site's benchmarks page) from it.

Usage:

```bash
python -m benchmarks.run_all                 # run everything here (tens of minutes on a CPU)
python -m benchmarks.run_all --render-only   # merge the CSVs already there, re-render the page
python -m benchmarks.run_all --device cpu-2core --families dcgan translation
```

The DCGAN rows are measured in float32 and mixed_bfloat16 (the `dtype` column); the other
families' scripts set no policy, so their rows are float32.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
PAGE = os.path.join(ROOT, "docs", "benchmarks.md")
START, END = "<!-- benchmark-table:start -->", "<!-- benchmark-table:end -->"
COLUMNS = (
    "family",
    "model",
    "backend",
    "image_shape",
    "dtype",
    "batch_size",
    "fit_images_per_s",
    "loop_images_per_s",
    "fit_over_loop",
    "settings",
    "peak_memory_gb",
    "source",
)
# family -> (CSV under results/, the commands that fill it)
FAMILIES = {
    "dcgan": (
        "throughput_cpu.csv",
        [
            ["-m", "benchmarks.throughput"],
            ["-m", "benchmarks.throughput", "--image-shape", "32", "32", "3", "--steps", "10"],
        ],
    ),
    "style": ("style_families_cpu.csv", [["-m", "benchmarks.style_families", "--threads", "1"]]),
    "translation": (
        "translation_cpu.csv",
        [
            ["-m", "benchmarks.translation", "--steps", "30", f"--backend={b}"]
            for b in (
                "tensorflow",
                "torch",
                "jax",
            )
        ],
    ),
    "tutorial": (
        "tutorial_cpu.csv",
        [
            ["-m", "benchmarks.tutorial_loop", "--backends", "tensorflow", "--repeats", "3"],
            ["-m", "benchmarks.tutorial_loop", "--backends", "torch", "--repeats", "2"]
            + ["--images", "2560", "--note", "2560 digits per epoch"],
            ["-m", "benchmarks.tutorial_loop", "--backends", "jax", "--repeats", "2"]
            + ["--images", "1280", "--epochs", "2", "--note", "1280 digits per epoch, 2 epochs"],
        ],
    ),
    # The same networks with keras-gans' drop-in Conv2D / Conv2DTranspose, both backends
    # in one run: on TensorFlow the layers are Keras' own, on JAX's CPU they take routes.
    "tutorial_keras_gans": (
        "tutorial_cpu_keras_gans.csv",
        [
            ["-m", "benchmarks.tutorial_loop", "--backends", "tensorflow", "jax"]
            + ["--convolutions", "keras_gans", "--repeats", "1", "--images", "1280"]
            + ["--epochs", "2", "--variants", "loop", "fit_simultaneous", "fit_alternating"]
            + ["--note", "keras-gans Conv2D/Conv2DTranspose; 1280 digits per epoch, 2 epochs"],
        ],
    ),
    "large": ("large_images_cpu.csv", [["-m", "benchmarks.large_images"]]),
}


def default_device() -> str:
    """A file-name-safe name of this machine: `cpu-x86_64-2cores`."""
    return f"cpu-{platform.machine() or 'unknown'}-{os.cpu_count()}cores"


def run(families):
    """Runs the benchmarks of `families`, replacing their CSVs."""
    for family in families:
        name, commands = FAMILIES[family]
        path = os.path.join(RESULTS, name)
        if os.path.exists(path):
            os.remove(path)
        for command in commands:
            env = dict(os.environ)
            arguments = []
            for argument in command:
                if argument.startswith("--backend="):  # translation.py: one backend per process
                    env["KERAS_BACKEND"] = argument.split("=", 1)[1]
                else:
                    arguments.append(argument)
            print("$", " ".join(["python", *arguments, "--out", path]), flush=True)
            subprocess.run(
                [sys.executable, *arguments, "--out", path], cwd=ROOT, env=env, check=True
            )


def _read(name):
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return []
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def merged_rows():
    """The rows of every family's CSV in the common schema."""
    rows = []
    for row in _read(FAMILIES["dcgan"][0]):
        rows.append(
            {
                "family": "dcgan",
                "model": row["model"],
                "backend": row["backend"] + (" (XLA)" if row["jit_compile"] == "xla=True" else ""),
                "image_shape": row["image_shape"],
                "dtype": row.get("dtype") or "float32",
                "batch_size": row["batch_size"],
                "settings": f"jit_compile {row['jit_compile']}",
                "source": FAMILIES["dcgan"][0],
                **_rates(row),
            }
        )
    for family, key in (("style", "settings"), ("translation", "width")):
        for row in _read(FAMILIES[family][0]):
            rows.append(
                {
                    "family": family,
                    "model": row["model"],
                    "backend": row["backend"],
                    "image_shape": row["image_shape"],
                    "batch_size": row["batch_size"],
                    "settings": row[key] if key == "settings" else f"width={row[key]}",
                    "source": FAMILIES[family][0],
                    **_rates(row),
                }
            )
    rows += _tutorial_rows("tutorial", "TF tutorial DCGAN")
    rows += _tutorial_rows("tutorial_keras_gans", "TF tutorial DCGAN, keras-gans convolutions")
    rows += _large_image_rows()
    for row in rows:
        row.setdefault("dtype", "float32")
    return rows


def _tutorial_rows(family, label):
    """One row per backend and update rule: medians over processes, against the loop's.

    The default rule is also set against `loop_alternating`, the hand-written loop of
    that rule, which tells `fit`'s own cost apart from the rule's.
    """
    rows = []
    medians = [row for row in _read(FAMILIES[family][0]) if row["process"] == "median"]

    def latest(variant, backend):
        found = [r for r in medians if r["variant"] == variant and r["backend"] == backend]
        return found[-1] if found else None

    for row in medians:
        if row["variant"].startswith("loop"):
            continue
        rule = row["variant"].split("_", 1)[1]
        against = [("loop", f"{label}, update={rule}")]
        if rule == "alternating":
            loop_label = f"{label}, update=alternating, vs that rule's loop"
            against.append(("loop_alternating", loop_label))
        for loop_variant, model in against:
            loop = latest(loop_variant, row["backend"])
            if loop is None:
                continue
            ratio = float(row["images_per_s"]) / float(loop["images_per_s"])
            if loop_variant == "loop" and row["fit_over_loop"]:
                ratio = float(row["fit_over_loop"])  # from the unrounded medians
            spread = f"spread between processes {float(row['spread']):.0%}"
            rows.append(
                {
                    "family": family,
                    "model": model,
                    "backend": row["backend"],
                    "image_shape": "28x28x1",
                    "batch_size": row["batch_size"],
                    "fit_images_per_s": row["images_per_s"],
                    "loop_images_per_s": loop["images_per_s"],
                    "fit_over_loop": round(ratio, 3),
                    "settings": f"median of processes, {spread}; {row['note']}".rstrip("; "),
                    "source": FAMILIES[family][0],
                }
            )
    return rows


def _large_image_rows():
    return [
        {
            "family": "large",
            "model": f"{row['model']} ({int(row['generator_params']) / 1e6:.0f}M + "
            f"{int(row['discriminator_params']) / 1e6:.0f}M parameters)",
            "backend": row["backend"],
            "image_shape": f"{row['image_size']}x{row['image_size']}x3",
            "batch_size": row["batch_size"],
            "fit_images_per_s": row["images_per_s"],
            "loop_images_per_s": "",
            "fit_over_loop": "",
            "settings": "width 64, channels capped at 1024",
            "peak_memory_gb": row["peak_rss_gb"],
            "source": FAMILIES["large"][0],
        }
        for row in _read(FAMILIES["large"][0])
    ]


def _rates(row):
    return {
        key: row.get(key, "") for key in ("fit_images_per_s", "loop_images_per_s", "fit_over_loop")
    }


def write_csv(rows, device):
    path = os.path.join(RESULTS, f"{device}.csv")
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def markdown(rows, device) -> str:
    lines = [
        f"Measured on `{device}` (`python -m benchmarks.run_all`; "
        f"`benchmarks/results/{device}.csv`):",
        "",
        "| model | backend | images | dtype | batch | `fit` images/s | loop images/s | fit / loop "
        "| peak memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['backend']} | {row['image_shape']} | {row['dtype']} | "
            f"{row['batch_size']} | "
            f"{row['fit_images_per_s']} | {row['loop_images_per_s'] or '-'} | "
            f"{row['fit_over_loop'] or '-'} | "
            f"{row['peak_memory_gb'] + ' GB' if row.get('peak_memory_gb') else '-'} |"
        )
    return "\n".join(lines)


def render_page(table: str, path=PAGE) -> None:
    """Replaces the text between the benchmark-table markers of docs/benchmarks.md."""
    with open(path) as file:
        text = file.read()
    if START not in text or END not in text:
        raise ValueError(f"{path} has no {START} ... {END} block to render into.")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    text = pattern.sub(lambda _: f"{START}\n{table}\n{END}", text)
    with open(path, "w") as file:
        file.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--device", default=default_device(), help="name of the merged CSV")
    parser.add_argument("--render-only", action="store_true", help="merge and render, run nothing")
    args = parser.parse_args(argv)
    if not args.render_only:
        run(args.families)
    rows = merged_rows()
    path = write_csv(rows, args.device)
    render_page(markdown(rows, args.device))
    print(f"{len(rows)} rows -> {path}; docs/benchmarks.md table rendered")


if __name__ == "__main__":
    main()
