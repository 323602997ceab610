"""The `keras-gans` command line: `keras-gans COMMAND ...`.

Each command lives in `keras_gans.commands.<name>` with an `add_parser`
that registers it and a `<name>_command(args)` that runs it.

Example:

```bash
keras-gans sample me/dcgan-mnist --num 64 --out grid.png
```
"""

import argparse
import sys

from keras_gans.commands import evaluate, list_recipes, push, sample, train


def build_parser() -> argparse.ArgumentParser:
    """The `keras-gans` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="keras-gans", description="Generative adversarial networks for Keras 3."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    list_recipes.add_parser(subparsers)
    train.add_parser(subparsers)
    evaluate.add_parser(subparsers)
    sample.add_parser(subparsers)
    push.add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    """Runs `keras-gans` with `argv` (default `sys.argv[1:]`); returns the exit status.

    Errors a user can fix (a missing repo, a bad token, wrong labels, ...)
    are printed as one line on stderr with status 1, without a traceback.

    Example:

    ```python
    main(["sample", "me/dcgan-mnist", "--num", "16", "--out", "grid.png"])
    ```
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError) as error:
        print(f"keras-gans {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
