"""`keras-gans list`: the zoo's recipes with their model, dataset, measured quality and Hub repo.

Example:

```bash
keras-gans list
```
"""

import argparse
import sys


def quality(name: str) -> str:
    """The measured quality of a recipe as one table cell, with its protocol's extractor."""
    from keras_gans import recipes

    rows = recipes.results(name)
    if not rows:
        return "not yet measured"
    cells = []
    for row in rows:
        if row.get("l1"):  # paired translation: held-out pairs
            metric = f"L1 {float(row['l1']):.3f}, PSNR {float(row['psnr']):.1f} dB (held out)"
        elif row.get("agreement"):  # unpaired translation
            kept, distance = float(row["agreement"]), float(row["fd_digits"])
            metric = f"class kept {kept:.0%}, FD {distance:.2f} (digit features)"
        elif row["fd_digits"]:
            metric = f"FD {float(row['fd_digits']):.2f} (digit features)"
        else:
            metric = "measured"
        cells.append(f"{metric}, {row['backend']}, {row['epochs']} epochs")
    return "; ".join(cells)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `list` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "list",
        help="list the zoo's recipes",
        description=(
            "Lists the zoo's recipes: name, model, dataset, the quality each was "
            "measured to reach, and the Hub repo it publishes to."
        ),
    )
    parser.set_defaults(func=list_command)
    return parser


def list_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans list`; returns the exit status."""
    from rich.console import Console
    from rich.table import Table

    from keras_gans import recipes

    names = recipes.list_recipes()
    table = Table(title="keras-gans zoo")
    for column in ("recipe", "model", "dataset"):
        table.add_column(column, no_wrap=True)
    table.add_column("measured quality", overflow="fold")
    table.add_column("hub repo", no_wrap=True)
    for name in names:
        recipe = recipes.get(name)
        dataset = recipe.dataset_name
        if recipe.dataset.get("image_size"):
            dataset += f" ({recipe.dataset['image_size']}px)"
        table.add_row(name, recipe.model_class, dataset, quality(name), recipe.repo_id or "")
    # Piped output keeps whole rows, as a terminal this wide would show them.
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0
