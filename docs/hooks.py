"""MkDocs hook: pages render tables from the project's CSV files at build time.

`<!-- zoo-table -->` becomes the zoo's measured runs (`results.csv` of the recipes), so
the site shows what the repository holds, not a copy that drifts.
"""

import csv
import os

from keras_gans import recipes

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


def on_page_markdown(markdown, page, config, files):
    if "<!-- zoo-table -->" in markdown:
        markdown = markdown.replace("<!-- zoo-table -->", zoo_table())
    return markdown
