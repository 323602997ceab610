"""`keras-gans list`: the zoo's recipes with their model, dataset, measured quality and Hub repo.

Example:

```bash
keras-gans list
```
"""

import argparse
import sys


def quality(recipe) -> str:
    """The measured quality of a recipe as one table cell, e.g. `FID 21.3 (mnist5k_classifier)`."""
    results = recipe.results
    if not recipe.measured:
        return results.get("status", "not yet measured")
    parts = []
    if "fid" in results:
        parts.append(f"FID {results['fid']:.2f}")
    if "kid" in results:
        parts.append(f"KID {results['kid']:.4g}")
    text = ", ".join(parts) or "measured"
    context = [results[key] for key in ("extractor", "backend") if key in results]
    if "epochs" in results:
        context.append(f"{results['epochs']} epochs")
    return f"{text} ({', '.join(map(str, context))})" if context else text


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

    from keras_gans import zoo

    names = zoo.list_recipes()
    if not names:
        raise FileNotFoundError(
            f"No recipes in {zoo.zoo_dir()!r}; set {zoo.ZOO_ENV_VAR} to the zoo folder."
        )
    table = Table(title="keras-gans zoo")
    for column in ("recipe", "model", "dataset"):
        table.add_column(column, no_wrap=True)
    table.add_column("measured quality", overflow="fold")
    table.add_column("hub repo", no_wrap=True)
    for name in names:
        recipe = zoo.recipe(name)
        dataset = recipe.dataset_name
        if recipe.dataset.get("image_size"):
            dataset += f" ({recipe.dataset['image_size']}px)"
        table.add_row(name, recipe.model_class, dataset, quality(recipe), recipe.repo_id or "")
    # Piped output keeps whole rows, as a terminal this wide would show them.
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0
