"""`keras-gans demo MODEL` (a Gradio page) and `keras-gans space MODEL --repo owner/name`.

MODEL is a run folder, a `.keras` file, a Hub repo, a zoo recipe name, or an NVIDIA
pickle (`nvlabs:ffhq`, a `.pkl`). The page adapts to the model: seed and truncation,
class picker, interpolation, style mixing and projection (StyleGAN2), image upload
(Pix2Pix/CycleGAN). `space` writes a Hugging Face Space serving a Hub model and pushes it.

Example:

```bash
keras-gans demo runs/dcgan-mnist5k            # http://127.0.0.1:7860
keras-gans space me/dcgan-mnist --repo me/dcgan-mnist-demo
keras-gans space runs/cgan --model-repo me/cgan-digits --repo me/cgan-demo
```
"""

import argparse
import os
import tempfile

from keras_gans.commands.sample import is_nvlabs_pickle, load_model


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `demo` and `space` subcommands to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "demo",
        help="play with a model in the browser (Gradio; pip install 'keras-gans[demo]')",
        description="Starts a Gradio page for a model; stop it with Ctrl-C.",
    )
    parser.add_argument("model", help="run folder, .keras file, Hub repo, recipe or NVIDIA pickle")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default local)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--revision", default=None, help="branch or commit sha of a Hub repo")
    parser.set_defaults(func=demo_command)
    space = subparsers.add_parser(
        "space",
        help="write and push a Hugging Face Space (Gradio) serving a model from the Hub",
        description=(
            "Writes app.py, requirements.txt and a README linking the model repo, and pushes "
            "them as a Space (repo_type=space). A local model is pushed first to "
            "--model-repo."
        ),
    )
    space.add_argument("model", help="a Hub repo or recipe, or a local model with --model-repo")
    space.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the Space to push")
    space.add_argument("--model-repo", metavar="OWNER/NAME", help="push a local model here first")
    space.add_argument("--title", help="the Space's title")
    space.add_argument("--space-backend", default="jax", choices=("jax", "tensorflow", "torch"),
                       help="the Keras backend the Space runs (default jax)")  # fmt: skip
    space.add_argument("--private", action="store_true", help="create the repos private")
    space.add_argument("--token", help="Hugging Face token (default HF_TOKEN or the login)")
    space.add_argument("--out", help="also keep the Space's files in this folder")
    space.set_defaults(func=space_command)
    return parser


def demo_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans demo`: serves the page until interrupted."""
    from keras_gans.demo.app import CSS, build_demo

    model = load_model(args.model, args.revision)
    demo = build_demo(model, title=f"keras-gans: {args.model}")
    print(f"Serving {args.model} ({type(model).__name__}) on http://{args.host}:{args.port}")
    demo.launch(server_name=args.host, server_port=args.port, show_error=True, quiet=True,
                max_file_size="50mb", css=CSS)  # fmt: skip
    return 0


def _is_local(source: str) -> bool:
    return os.path.exists(source) or is_nvlabs_pickle(source)


def space_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans space`: writes the Space's files and pushes them."""
    from keras_gans import hub
    from keras_gans.demo.space import write_space
    from keras_gans.hub.repo import repo_id

    license_ = None
    if _is_local(args.model):
        if not args.model_repo:
            raise ValueError(
                f"{args.model} is a local model: a Space loads models from the Hub, so give "
                "--model-repo OWNER/NAME to push it there first."
            )
        model = load_model(args.model)
        hub.push_to_hub(model, args.model_repo, private=True if args.private else None,
                        token=args.token)  # fmt: skip
        model_repo = repo_id(args.model_repo)
        license_ = (getattr(model, "pretrained_source", None) or {}).get("license")
        print(f"Pushed {args.model} to {model_repo}")
    else:
        model_repo = repo_id(args.model)
    with tempfile.TemporaryDirectory(prefix="keras-gans-space-") as scratch:
        folder = args.out or scratch
        write_space(folder, model_repo, args.title, args.space_backend, license_)
        hub.push_folder(folder, args.repo, repo_type="space", private=True if args.private
                        else None, token=args.token,
                        commit_message=f"keras-gans demo of {model_repo}")  # fmt: skip
    print(f"Pushed the Space {args.repo} (serving {model_repo})")
    return 0
