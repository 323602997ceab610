"""A Hugging Face Space (Gradio SDK) that serves a keras-gans model from the Hub.

`write_space` writes `app.py`, `requirements.txt` and a README whose metadata links
the model repo; `keras-gans space MODEL --repo owner/name` writes it and pushes it
with `keras_gans.hub.push_folder` (the same Hub code as model pushes).

Example:

```python
write_space("space/", model_repo="me/dcgan-mnist", title="DCGAN digits")
keras_gans.hub.push_folder("space/", "me/dcgan-mnist-demo")
```
"""

from __future__ import annotations

import os

from keras_gans.utils import files
from keras_gans.utils.version import VERSION

APP = '''"""The keras-gans demo of {model_repo}, a Hugging Face Space (keras-gans {version})."""

import os

os.environ.setdefault("KERAS_BACKEND", "{backend}")

import keras_gans  # noqa: E402
from keras_gans.demo.app import CSS, build_demo  # noqa: E402

model = keras_gans.from_pretrained("{model_repo}")
demo = build_demo(model, title={title!r})

if __name__ == "__main__":
    demo.launch(css=CSS)
'''

README = """---
title: {title}
emoji: 🎨
colorFrom: indigo
colorTo: pink
sdk: gradio
sdk_version: {gradio_version}
app_file: app.py
pinned: false
models:
- {model_repo}
tags:
- keras-gans
- gan
{license}---

# {title}

A keras-gans demo of [{model_repo}](https://huggingface.co/{model_repo}): pick a seed, the
truncation and a class, walk between two latents, mix styles or project your own image,
depending on the model. The same seed gives the same image as
`keras_gans.from_pretrained("{model_repo}").generate(seed=...)`.
"""


def write_space(folder, model_repo: str, title: str | None = None, backend: str = "jax",
                license: dict | None = None) -> str:  # fmt: skip
    """Writes a Gradio Space for `model_repo` into `folder` (created if missing).

    Args:
        folder: where to write `app.py`, `requirements.txt` and `README.md`.
        model_repo: the Hub model the Space loads, `"owner/name"`.
        title: the Space's title (default from the repo name).
        backend: the Keras backend the Space runs on.
        license: a converted model's licence (`{"id": ..., "url": ...}`), for the metadata.

    Returns:
        `folder`, as a string.
    """
    import gradio

    folder = os.fspath(folder)
    title = title or f"keras-gans {model_repo.split('/')[-1]}"
    licence = ""
    if license:
        licence = f"license: other\nlicense_name: {license.get('id', 'other')}\n"
        licence += f"license_link: {license.get('url')}\n" if license.get("url") else ""
    os.makedirs(folder, exist_ok=True)
    texts = {
        "app.py": APP.format(
            model_repo=model_repo, version=VERSION, backend=backend, title=title
        ),  # fmt: skip
        "requirements.txt": f"keras-gans[{backend},demo]>={VERSION}\n",
        "README.md": README.format(
            title=title, model_repo=model_repo, license=licence, gradio_version=gradio.__version__
        ),  # fmt: skip
    }
    for name, text in texts.items():
        with files.atomic_path(os.path.join(folder, name)) as temporary:
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(text)
    return folder
