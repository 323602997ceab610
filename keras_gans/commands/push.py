"""`keras-gans push RUN_DIR REPO_ID`: publish a trained run on the Hugging Face Hub.

Example:

```bash
keras-gans push runs/dcgan-mnist5k me/dcgan-mnist5k
```
"""

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `push` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "push",
        help="push a run's model, samples and model card to the Hub",
        description=(
            "Uploads the model of a finished run folder to a Hugging Face Hub repo in "
            "one commit, with a sample grid and a model card naming the recipe, the "
            "dataset, the training settings and the measured FID/KID (from "
            "evaluation.json when `keras-gans evaluate` ran, else from training). "
            "Needs a token with write access (HF_TOKEN or `hf auth login`)."
        ),
    )
    parser.add_argument("run_dir", help="a run folder written by `keras-gans train`")
    parser.add_argument("repo_id", nargs="?", help="owner/name (default: the recipe's Hub repo)")
    parser.add_argument("--private", action="store_true", help="create the repo private")
    parser.add_argument(
        "--include-optimizer",
        action="store_true",
        help="also upload the optimizer state, so training can resume after loading",
    )
    parser.add_argument("--token", help="Hugging Face token (default HF_TOKEN or the login)")
    parser.set_defaults(func=push_command)
    return parser


def push_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans push` with parsed `args`; returns the exit status."""
    from keras_gans import hub, runner
    from keras_gans.data import builtin

    model, run = runner.load_run_model(args.run_dir)
    recipe = run.get("recipe") or {}
    repo_id = args.repo_id or (recipe.get("hub") or {}).get("repo_id")
    if not repo_id:
        raise ValueError("Give the Hub repo to push to: keras-gans push RUN_DIR OWNER/NAME.")
    metrics = runner.run_metrics(args.run_dir)
    training = recipe.get("training") or {}
    training_info = {
        "recipe": recipe.get("name"),
        "epochs": run.get("epochs_done"),
        "batch_size": training.get("batch_size"),
        "training_images": run.get("num_images"),
    }
    dataset = run.get("dataset")
    info = hub.push_to_hub(
        model,
        repo_id,
        private=True if args.private else None,
        token=args.token,
        include_optimizer=args.include_optimizer,
        dataset=None if dataset is None or builtin.is_folder(dataset) else dataset,
        training_info={k: v for k, v in training_info.items() if v is not None},
        metrics=metrics or None,
    )
    url = getattr(info, "commit_url", None) or f"https://huggingface.co/{repo_id}"
    print(f"Pushed {args.run_dir} to {repo_id}: {url}")
    return 0
