"""What the demo's buttons do, as plain functions of a model (no Gradio, no browser).

Each takes the values of the page's controls, checks them (a `DemoInputError` carries a
message for the page), and returns uint8 images: the same seed gives the same image
as `model.generate(seed=...)`.

Example:

```python
actions = DemoActions(gan)
image = actions.generate(seed=3, count=1)          # == to_uint8(gan.generate(1, seed=3))[0]
strip, frames = actions.interpolate(0, 1, steps=8)
```
"""

from __future__ import annotations

import numpy as np

from keras_gans import images as image_utils
from keras_gans.data import pixels

MAX_SEED = 2**32 - 1
MAX_UPLOAD_PIXELS = 40_000_000  # larger uploads are refused with a message


class DemoInputError(ValueError):
    """Bad input in the page (a seed out of range, a class that does not exist, ...)."""


def parse_seeds(text, name="seeds") -> list[int]:
    """`"1, 2, 5-7"` -> `[1, 2, 5, 6, 7]`, each in [0, 2**32)."""
    seeds = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                first, last = (int(p) for p in part.split("-", 1))
                seeds += list(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise DemoInputError(f"{name}: {part!r} is not a seed (use e.g. 1,2,5-7).") from None
    if not seeds:
        raise DemoInputError(f"{name}: give at least one seed, e.g. 1,2,3.")
    if len(seeds) > 16:
        raise DemoInputError(f"{name}: at most 16 seeds ({len(seeds)} given).")
    return [check_seed(seed, name) for seed in seeds]


def check_seed(seed, name="seed") -> int:
    """An integer seed in [0, 2**32), or a `DemoInputError` saying so."""
    try:
        value = float(seed)
    except (TypeError, ValueError):
        raise DemoInputError(f"{name} must be a whole number; got {seed!r}.") from None
    if not value.is_integer() or not 0 <= value <= MAX_SEED:
        raise DemoInputError(f"{name} must be a whole number from 0 to {MAX_SEED}; got {seed!r}.")
    return int(value)


class DemoActions:
    """The demo's actions on one model; `capabilities` says which the model has.

    Args:
        model: a keras-gans model (any family).
        class_names: names of a conditional model's classes (default: their ids).
    """

    def __init__(self, model, class_names=None):
        self.model = model
        self.translation = hasattr(model, "translate") and not hasattr(model, "generate")
        self.num_classes = None if self.translation else model.num_classes
        names = class_names or (getattr(model, "pretrained_source", None) or {}).get("classes")
        if self.num_classes:
            names = names or list(range(self.num_classes))
            self.class_names = [str(name) for name in names][: self.num_classes]
        else:
            self.class_names = []
        options = set(getattr(model, "SAMPLING_OPTIONS", ()))
        self.capabilities = {
            "generate": not self.translation,
            "truncation": "truncation_psi" in options and hasattr(model, "w_avg"),
            "noise": "noise_mode" in options,
            "interpolate": not self.translation,
            "w_space": hasattr(model, "latents_to_ws"),
            "mix": hasattr(model, "mix_styles"),
            "project": hasattr(model, "project"),
            "translate": self.translation,
        }

    # Controls -----------------------------------------------------------------------

    def label(self, name):
        """The class id of a class name (or id) picked in the page."""
        if not self.num_classes:
            return None
        if name is None or name == "":
            raise DemoInputError("Pick a class.")
        if str(name) in self.class_names:
            return self.class_names.index(str(name))
        try:
            index = int(name)
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < self.num_classes:
            raise DemoInputError(
                f"Class {name!r} does not exist; this model has {self.num_classes} classes "
                f"(0 to {self.num_classes - 1})."
            )
        return index

    def _options(self, truncation_psi, noise_mode):
        options = {}
        if self.capabilities["truncation"] and truncation_psi is not None:
            psi = float(truncation_psi)
            if not -2.0 <= psi <= 2.0:
                raise DemoInputError(f"Truncation psi must be in [-2, 2]; got {psi}.")
            options["truncation_psi"] = psi
        if self.capabilities["noise"] and noise_mode:
            options["noise_mode"] = noise_mode
        return options

    # Actions ------------------------------------------------------------------------

    def generate(self, seed=0, count=1, class_name=None, truncation_psi=None, noise_mode=None,
                 progress=None) -> np.ndarray:  # fmt: skip
        """`count` images from `seed` (one image alone, or a grid), uint8."""
        seed, count = check_seed(seed), int(count)
        if not 1 <= count <= 64:
            raise DemoInputError(f"Count must be from 1 to 64; got {count}.")
        label = self.label(class_name)
        options = self._options(truncation_psi, noise_mode)
        labels = None if label is None else [label] * count
        latent = self.model.sample_latent(count, seed)
        if progress is None:  # one call: `generate(count, seed=seed)`'s very images
            images = self.model.generate(latent=latent, labels=labels, **options)
        else:  # a big model: one image at a time, the page shows progress
            images = []
            for index in range(count):
                progress(index / count, desc=f"image {index + 1} of {count}")
                one = None if labels is None else labels[index : index + 1]
                images.append(self.model.generate(latent=latent[index : index + 1], labels=one,
                                                  **options)[0])  # fmt: skip
            images = np.stack(images)
        return image_utils.to_uint8(images[0] if count == 1 else image_utils.make_grid(images))

    def interpolate(self, start_seed=0, end_seed=1, steps=8, space="z", class_name=None,
                    end_class_name=None, truncation_psi=None, noise_mode=None):  # fmt: skip
        """`(strip of up to 8 frames, all frames)` of a walk between two seeds, uint8."""
        from keras_gans.models.explore import interpolate

        steps = int(steps)
        if not 2 <= steps <= 120:
            raise DemoInputError(f"Steps must be from 2 to 120; got {steps}.")
        label, end_label = self.label(class_name), self.label(end_class_name or class_name)
        try:
            frames = interpolate(
                self.model, check_seed(start_seed, "start seed"), check_seed(end_seed, "end seed"),
                steps=steps, space=space or "z", labels=label, end_labels=end_label,
                **self._options(truncation_psi, noise_mode),
            )  # fmt: skip
        except ValueError as error:
            raise DemoInputError(str(error)) from None
        shown = frames[np.linspace(0, steps - 1, min(steps, 8)).round().astype(int)]
        return image_utils.make_grid(shown, rows=1), image_utils.to_uint8(frames)

    def mix(self, row_seeds="1,2,3", col_seeds="10,11,12", first_layer=0, last_layer=6,
            class_name=None, truncation_psi=None, noise_mode="const") -> np.ndarray:  # fmt: skip
        """NVIDIA's style-mixing figure: column images on top, row images on the left."""
        rows, cols = parse_seeds(row_seeds, "row seeds"), parse_seeds(col_seeds, "column seeds")
        first, last = int(first_layer), int(last_layer)
        if not 0 <= first <= last < self.model.num_ws:
            raise DemoInputError(
                f"Layers must satisfy 0 <= first <= last < {self.model.num_ws}; got {first}-{last}."
            )
        label = self.label(class_name)
        options = {**self._options(truncation_psi, None), "noise_mode": noise_mode or "const"}
        mixed = self.model.mix_styles(rows, cols, range(first, last + 1), labels=label, **options)
        generate = dict(labels=None if label is None else [label], **options)
        heads = [self.model.generate(1, seed=s, **generate)[0] if label is None else
                 self.model.generate(seed=s, **generate)[0] for s in rows + cols]  # fmt: skip
        blank = np.ones_like(heads[0])
        cells = [blank, *heads[len(rows) :]]
        for index, row in enumerate(heads[: len(rows)]):
            cells += [row, *mixed[index]]
        return image_utils.make_grid(np.stack(cells), cols=len(cols) + 1)

    @staticmethod
    def prepare_upload(image, shape) -> np.ndarray:
        """An uploaded picture prepared as training images are (`data.pixels.model_input`)."""
        if image is None:
            raise DemoInputError("Upload an image (PNG, JPEG, WebP) first.")
        array = np.asarray(image)
        if array.ndim not in (2, 3) or array.size == 0:
            raise DemoInputError("That file is not an image; upload a PNG, JPEG or WebP.")
        height, width = array.shape[:2]
        if height * width > MAX_UPLOAD_PIXELS:
            raise DemoInputError(
                f"That image is {width}x{height}; upload one under {MAX_UPLOAD_PIXELS:,} pixels."
            )
        picture = image_utils.to_pil(array if array.dtype == np.uint8 else array.astype("uint8"))
        return pixels.model_input(picture, shape)

    def project(self, image, steps=100, class_name=None, progress=None):
        """`(target, reconstruction, ws)` of an uploaded image projected into the model."""
        steps = int(steps)
        if not 1 <= steps <= 1000:
            raise DemoInputError(f"Steps must be from 1 to 1000; got {steps}.")
        target = self.prepare_upload(image, self.model.image_shape)
        report = None
        if progress is not None:

            def report(index, step, total, loss):
                progress(step / total, desc=f"step {step} of {total}, loss {loss:.4f}")

        result = self.model.project(target[None], steps=steps, labels=self.label(class_name),
                                    progress=report, w_avg_samples=2000)  # fmt: skip
        return (image_utils.to_uint8(target), image_utils.to_uint8(result["images"][0]),
                result["ws"])  # fmt: skip

    def translate(self, image, direction=None) -> np.ndarray:
        """An uploaded picture translated by Pix2Pix / CycleGAN (`direction`), uint8."""
        directions = self.model.directions
        direction = direction or directions[0]
        if direction not in directions:
            raise DemoInputError(f"Direction must be one of {directions}; got {direction!r}.")
        source = self.prepare_upload(image, self.model._source_shape(direction))
        kwargs = {"direction": direction} if direction else {}
        return image_utils.to_uint8(self.model.translate(source[None], **kwargs)[0])
