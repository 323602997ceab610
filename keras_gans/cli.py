"""The `keras-gans` command line: `keras-gans [--backend B] [--verbose] COMMAND ...`.

Each command lives in `keras_gans.commands.<name>` with an `add_parser` that
registers it and a `<name>_command(args)` that runs it. Parsing imports no Keras
backend, so `--help`, `list` and argument errors answer at once; `--backend`
sets `KERAS_BACKEND` before Keras is first imported, in this process.

Example:

```bash
keras-gans --backend jax train dcgan.mnist5k
keras-gans sample me/dcgan-mnist --num 64 --out grid.png
keras-gans convert nvlabs:ffhq --out ffhq
keras-gans translate me/pix2pix-facades photos/ --out translated/
```
"""

import argparse
import importlib.util
import os
import sys

from keras_gans.commands import (
    convert,
    demo,
    evaluate,
    export,
    list_recipes,
    push,
    sample,
    train,
    translate,
)

BACKENDS = ("jax", "tensorflow", "torch")
VERBOSE_ENV_VAR = "KERAS_GANS_VERBOSE"


def _global_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--backend",
        choices=BACKENDS,
        default=argparse.SUPPRESS,
        help="Keras backend (default: KERAS_BACKEND, else Keras' configured default)",
    )
    options.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help=f"show backend log lines and full tracebacks (or set {VERBOSE_ENV_VAR}=1)",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    """The `keras-gans` argument parser with every subcommand."""
    options = _global_options()
    parser = argparse.ArgumentParser(
        prog="keras-gans",
        description="Generative adversarial networks for Keras 3.",
        parents=[options],
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = (list_recipes, train, evaluate, sample, translate, push, convert, export, demo)
    for command in commands:
        command.add_parser(subparsers)
    for subparser in subparsers.choices.values():
        for action in options._actions:
            subparser._add_action(action)
    return parser


def _quiet_backends() -> None:
    """Keeps TensorFlow's and XLA's C++ log lines out of the terminal.

    Keras imports TensorFlow whenever it is installed (`set_random_seed`, data
    adapters), whatever the backend, and TensorFlow's C++ start-up lines are
    written before its log level is read: import it here with the process's
    stderr pointed at /dev/null.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _select_backend(backend: str) -> None:
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise ValueError(
                f"--backend {backend}: Keras is already running on "
                f"{keras.backend.backend()} in this process; run keras-gans in a new one."
            )
    os.environ["KERAS_BACKEND"] = backend


def main(argv=None) -> int:
    """Runs `keras-gans` with `argv` (default `sys.argv[1:]`); returns the exit status.

    Errors a user can fix (a missing file or repo, a bad token, wrong labels,
    a diverged run ...) are printed as one line on stderr with status 1, without a
    traceback unless `--verbose`.

    Example:

    ```python
    main(["sample", "me/dcgan-mnist", "--num", "16", "--out", "grid.png"])
    ```
    """
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False) or os.environ.get(VERBOSE_ENV_VAR) == "1"
    if getattr(args, "backend", None):
        _select_backend(args.backend)
    if not verbose and args.command != "list":
        _quiet_backends()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"\nkeras-gans {args.command}: interrupted.", file=sys.stderr)
        return 130
    except Exception as error:
        if verbose:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        expected = isinstance(error, (OSError, ValueError)) or getattr(error, "user_error", False)
        kind = "" if expected else f"{type(error).__name__}: "
        print(f"keras-gans {args.command}: error: {kind}{message}", file=sys.stderr)
        if kind:
            print("  (run again with --verbose for the full traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
