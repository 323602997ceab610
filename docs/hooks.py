"""MkDocs hook: pages render tables from the project's CSV files at build time.

`<!-- zoo-table -->` becomes the zoo's measured runs (`results.csv` of the recipes), so
the site shows what the repository holds, not a copy that drifts.
"""

import csv
import os
import re
import sys

from keras_gans import recipes

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.time_to_quality import short_label  # noqa: E402

COLUMNS = (
    ("recipe", "recipe"), ("backend", "backend"), ("epochs", "epochs"),
    ("wall_time_s", "wall time (s)"), ("images_per_s", "images/s"),
    ("fd_digits", "fd_digits"), ("kd_digits", "kd_digits"), ("agreement", "label agreement"),
    ("l1", "L1"), ("psnr", "PSNR"), ("ssim", "SSIM"), ("device", "device"),
)  # fmt: skip


def zoo_table(path=None) -> str:
    """The measured runs as a Markdown table, one row per run, with each protocol below."""
    path = path or recipes.results_path()
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    shown = [(key, title) for key, title in COLUMNS if any(row.get(key) for row in rows)]
    lines = ["| " + " | ".join(title for _, title in shown) + " |",
             "|" + "---|" * len(shown)]  # fmt: skip
    lines += ["| " + " | ".join(row.get(key) or "" for key, _ in shown) + " |" for row in rows]
    protocols = sorted({row["protocol"] for row in rows if row.get("protocol")})
    lines += ["", "Protocols of these rows:", ""] + [f"- {text}" for text in protocols]
    lines += ["", f"(Rendered from `{os.path.relpath(path)}` when the site was built.)"]
    return "\n".join(lines)


def time_to_quality_table(path) -> str:
    """One row per trial of a time-to-quality CSV: its metric at each measured second."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    seconds = sorted({float(row["seconds"]) for row in rows})
    marks = sorted({round(s / 10) * 10 for s in seconds})
    trials = list(dict.fromkeys(row["trial"] for row in rows))
    conditional = any(row.get("agreement") for row in rows)
    lines = ["| trial | " + " | ".join(f"{m:g} s" for m in marks) + " | classes covered |"
             + (" agreement |" if conditional else ""),
             "|" + "---|" * (len(marks) + 2 + conditional)]  # fmt: skip
    for trial in trials:
        own = [row for row in rows if row["trial"] == trial]
        by_mark = {round(float(r["seconds"]) / 10) * 10: r["fd_digits"] for r in own}
        cells = [by_mark.get(m, "") for m in marks] + [own[-1]["classes_covered"]]
        cells += [own[-1]["agreement"]] if conditional else []
        lines.append(f"| {short_label(trial)} | " + " | ".join(cells) + " |")
    lines += ["", f"fd_digits at each training time ({rows[0]['threads']} threads, "
              f"{rows[0]['backend']}, {rows[0]['machine']}); the last columns at the last "
              f"measurement. Protocol: {rows[0]['protocol']}. Rendered from `{path}`."]  # fmt: skip
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):
    if "<!-- zoo-table -->" in markdown:
        markdown = markdown.replace("<!-- zoo-table -->", zoo_table())
    for path in re.findall(r"<!-- time-to-quality: (\S+) -->", markdown):
        markdown = markdown.replace(
            f"<!-- time-to-quality: {path} -->", time_to_quality_table(path)
        )
    return markdown
