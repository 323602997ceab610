"""`build_demo(model)`: a Gradio page to play with a model, adapted to what it can do.

Tabs: Generate (seed, count, truncation, noise, class), Interpolate (two seeds, a strip
and an animation), Style mixing (StyleGAN2), Project (StyleGAN2: upload a picture, see
progress, download its w), Translate (Pix2Pix / CycleGAN). Bad input shows a message
in the page and the server keeps serving. Needs `pip install 'keras-gans[demo]'`.

Example:

```python
from keras_gans.demo.app import build_demo

build_demo(keras_gans.from_pretrained("keras-gans/dcgan-mnist5k")).launch()
```
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from keras_gans import images as image_utils
from keras_gans.demo.actions import MAX_SEED, DemoActions, DemoInputError

# Small images drawn big and sharp, not blurred.
CSS = "#output img, #strip img, #translated img {image-rendering: pixelated; min-height: 256px;"
CSS += " object-fit: contain;}"


def _gradio():
    try:
        import gradio
    except ImportError as error:
        raise ImportError(
            "The demo needs Gradio: pip install 'keras-gans[demo]' (or pip install gradio)."
        ) from error
    return gradio


def _shown(action, gr):
    """Runs a page action; a bad input becomes a message in the page (`gr.Error`)."""

    def run(*args, **kwargs):
        try:
            result = action(*args, **kwargs)
        except DemoInputError as error:
            raise gr.Error(str(error)) from None
        return (
            tuple(map(_displayable, result)) if isinstance(result, tuple) else _displayable(result)
        )

    return run


def _displayable(value):
    """Grey `(H, W, 1)` images as `(H, W)`: the page shows those."""
    if isinstance(value, np.ndarray) and value.ndim == 3 and value.shape[-1] == 1:
        return value[..., 0]
    return value


def build_demo(model, title=None, description=None, class_names=None):
    """The Gradio `Blocks` app for `model` (call `.launch()` on it).

    Args:
        model: a keras-gans model of any family.
        title: the page's heading (default: the model's class and image shape).
        description: a line under the heading (e.g. where the model comes from).
        class_names: names of a conditional model's classes.
    """
    gr = _gradio()
    actions = DemoActions(model, class_names)
    can = actions.capabilities
    big = max((getattr(model, "image_shape", None) or (64,))[:2]) > 128
    heading = title or f"keras-gans {type(model).__name__}"
    with gr.Blocks(title=heading, analytics_enabled=False) as demo:
        gr.Markdown(f"# {heading}\n\n{description or _describe(model, actions)}")
        if can["generate"]:
            _generate_tab(gr, actions, big)
            _interpolate_tab(gr, actions)
        if can["mix"]:
            _mix_tab(gr, actions)
        if can["project"]:
            _project_tab(gr, actions)
        if can["translate"]:
            _translate_tab(gr, actions)
    return demo


def _describe(model, actions):
    if actions.translation:
        return f"Translates images ({', '.join(str(d) for d in model.directions)})."
    height, width, channels = model.image_shape
    text = f"{height}x{width}x{channels} images from {model.latent_dim}-dimensional latents"
    if actions.num_classes:
        text += f", {actions.num_classes} classes"
    source = getattr(model, "pretrained_source", None) or {}
    if source.get("url"):
        text += f". Weights: {source['url']} ({source.get('license', {}).get('name', '')})"
    return text + ". The same seed gives the same image as `model.generate(seed=...)`."


def _common_controls(gr, actions, prefix=""):
    controls = {}
    if actions.num_classes:
        controls["class_name"] = gr.Dropdown(actions.class_names, value=actions.class_names[0],
                                             label="Class", elem_id=f"{prefix}class")  # fmt: skip
    if actions.capabilities["truncation"]:
        controls["truncation_psi"] = gr.Slider(
            0.0, 1.5, value=1.0, step=0.05, label="Truncation psi", elem_id=f"{prefix}psi"
        )
    if actions.capabilities["noise"]:
        controls["noise_mode"] = gr.Radio(["const", "random", "none"], value="const",
                                          label="Noise", elem_id=f"{prefix}noise")  # fmt: skip
    return controls


def _call(action, names, progress=None):
    """A handler taking the controls' values positionally, passing them by name."""

    def handler(*values, progress_bar=None):
        kwargs = dict(zip(names, values))
        if progress is not None:
            kwargs["progress"] = progress_bar
        return action(**kwargs)

    if progress is None:
        return lambda *values: handler(*values)
    gr = _gradio()
    return lambda *values, p=gr.Progress(): handler(*values, progress_bar=p)  # noqa: B008


def _generate_tab(gr, actions, big):
    with gr.Tab("Generate"):
        with gr.Row():
            seed = gr.Number(0, precision=0, label=f"Seed (0 to {MAX_SEED})", elem_id="seed")
            count = gr.Slider(1, 16, value=1, step=1, label="Images", elem_id="count")
        controls = _common_controls(gr, actions)
        button = gr.Button("Generate", variant="primary", elem_id="generate")
        output = gr.Image(label="Generated", format="png", elem_id="output", interactive=False,
                          height=320)  # fmt: skip
        names = ["seed", "count", *controls]
        handler = _call(_shown(actions.generate, gr), names, progress=True if big else None)
        button.click(handler, [seed, count, *controls.values()], output)


def _interpolate_tab(gr, actions):
    with gr.Tab("Interpolate"):
        with gr.Row():
            start = gr.Number(0, precision=0, label="From seed", elem_id="start_seed")
            end = gr.Number(1, precision=0, label="To seed", elem_id="end_seed")
            steps = gr.Slider(2, 60, value=12, step=1, label="Frames", elem_id="steps")
        extra = {}
        if actions.capabilities["w_space"]:
            extra["space"] = gr.Radio(["z", "w"], value="w", label="Space", elem_id="space")
        controls = _common_controls(gr, actions, prefix="walk_")
        if actions.num_classes and actions.capabilities["w_space"]:
            extra["end_class_name"] = gr.Dropdown(actions.class_names, value=None,
                                                  label="To class (w space)")  # fmt: skip
        button = gr.Button("Interpolate", variant="primary", elem_id="interpolate")
        strip = gr.Image(label="Frames", format="png", interactive=False, elem_id="strip")
        animation = gr.Image(label="Animation", type="filepath", interactive=False)
        names = ["start_seed", "end_seed", "steps", *extra, *controls]

        def walk(**kwargs):
            shown, frames = actions.interpolate(**kwargs)
            path = os.path.join(tempfile.mkdtemp(prefix="keras-gans-demo-"), "walk.gif")
            return shown, image_utils.save_video(frames, path, fps=12)

        inputs = [start, end, steps, *extra.values(), *controls.values()]
        button.click(_call(_shown(walk, gr), names), inputs, [strip, animation])


def _mix_tab(gr, actions):
    with gr.Tab("Style mixing"):
        with gr.Row():
            rows = gr.Textbox("1,2,3", label="Row seeds", elem_id="row_seeds")
            cols = gr.Textbox("10,11,12,13", label="Column seeds", elem_id="col_seeds")
        last = actions.model.num_ws - 1
        with gr.Row():
            first = gr.Slider(0, last, value=0, step=1, label="From layer (coarse)")
            until = gr.Slider(0, last, value=min(6, last), step=1, label="To layer")
        controls = _common_controls(gr, actions, prefix="mix_")
        button = gr.Button("Mix", variant="primary", elem_id="mix")
        output = gr.Image(label="Rows take the columns' layers", format="png", interactive=False)
        names = ["row_seeds", "col_seeds", "first_layer", "last_layer", *controls]
        button.click(_call(_shown(actions.mix, gr), names),
                     [rows, cols, first, until, *controls.values()], output)  # fmt: skip


def _project_tab(gr, actions):
    with gr.Tab("Project my image"):
        upload = gr.Image(label="Your image", type="numpy", elem_id="project_upload")
        steps = gr.Slider(10, 1000, value=100, step=10, label="Steps")
        controls = {}
        if actions.num_classes:
            controls["class_name"] = gr.Dropdown(actions.class_names, value=actions.class_names[0],
                                                 label="Class")  # fmt: skip
        button = gr.Button("Project", variant="primary", elem_id="project")
        with gr.Row():
            target = gr.Image(label="Target", format="png", interactive=False)
            remade = gr.Image(label="Projection", format="png", interactive=False)
        ws_file = gr.File(label="Projected w (.npy)")

        def run(image, steps, progress, **kwargs):
            target, remade, ws = actions.project(image, steps, progress=progress, **kwargs)
            path = os.path.join(tempfile.mkdtemp(prefix="keras-gans-demo-"), "projected_w.npy")
            np.save(path, ws)
            return target, remade, path

        handler = _call(_shown(run, gr), ["image", "steps", *controls], progress=True)
        button.click(handler, [upload, steps, *controls.values()], [target, remade, ws_file])


def _translate_tab(gr, actions):
    with gr.Tab("Translate"):
        upload = gr.Image(label="Source image", type="numpy", elem_id="translate_upload")
        directions = [d for d in actions.model.directions if d]
        inputs, names = [upload], ["image"]
        if directions:
            inputs.append(gr.Radio(directions, value=directions[0], label="Direction",
                                   elem_id="direction"))  # fmt: skip
            names.append("direction")
        button = gr.Button("Translate", variant="primary", elem_id="translate")
        output = gr.Image(label="Translated", format="png", interactive=False, elem_id="translated")
        button.click(_call(_shown(actions.translate, gr), names), inputs, output)
