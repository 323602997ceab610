"""`ImageGrid`: a grid of images written during `fit`: generated from fixed noise, or translated.

GANs show samples from latent vectors drawn once; translation models (Pix2Pix,
CycleGAN) show fixed example images beside their translations.
"""

import io
import os

import keras
import numpy as np

from keras_gans.images import label_rows, make_grid, make_row_grid, save_image, to_pil
from keras_gans.utils.arguments import check_integer


def _translates(model):
    """Whether `model` translates images (Pix2Pix, CycleGAN) rather than generating them."""
    return (
        hasattr(model, "translate")
        and hasattr(model, "directions")
        and not hasattr(model, "generate")
    )


def _example_batch(where, images):
    try:
        images = np.asarray(images)
    except ValueError:  # ragged nesting
        images = np.empty(0)
    if images.ndim != 4 or not len(images):
        raise ValueError(
            f"ImageGrid {where} must be a batch of images (N, height, width, channels), or a "
            f"pair (sources, targets) of such batches; received shape {images.shape}."
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"ImageGrid {where} must be floats in [-1, 1] like the model's inputs; received "
            f"{images.dtype} (scale uint8 images with `images / 127.5 - 1`)."
        )
    return images.astype("float32")


def _parse_examples(examples):
    """`{direction or None: (sources, targets or None)}`; None stands for the first direction."""
    groups = examples if isinstance(examples, dict) else {None: examples}
    if not groups:
        raise ValueError("ImageGrid `examples` is an empty dict; give at least one direction.")
    parsed = {}
    for direction, value in groups.items():
        where = "`examples`" if direction is None else f"`examples` ({direction})"
        pair = isinstance(value, (tuple, list)) and len(value) == 2
        if pair and all(np.ndim(part) == 4 for part in value):
            sources, targets = value
        else:
            sources, targets = value, None
        sources = _example_batch(where, sources)
        if targets is not None:
            targets = _example_batch(f"{where} targets", targets)
            if len(targets) != len(sources):
                raise ValueError(
                    f"ImageGrid {where} holds {len(sources)} sources but {len(targets)} "
                    "targets; give one target per source."
                )
        parsed[direction] = (sources, targets)
    return parsed


def _direction_name(direction):
    return direction.replace("_to_", "->").upper()  # "a_to_b" -> "A->B"


class ImageGrid(keras.callbacks.Callback):
    """Writes a grid of generated or translated images every epoch (or every N batches).

    The latent vectors are drawn once, when training begins, with
    `model.sample_latent(..., seed)` and kept, so every grid shows the same
    noise and successive grids show what training changed. Unconditional
    models get a near-square grid of `num_images`. Conditional models get
    one row per class (or per entry of `labels`) with the class name written
    at the left; the columns share latent vectors, so a column shows one
    noise vector rendered as each class.

    Translation models (Pix2Pix, CycleGAN: a `translate` method and
    `directions`, no `generate`) need `examples`, fixed images shown every
    time: one grid row per example, `source | translation`, then `| target`
    when targets are given. A plain batch, or a `(sources, targets)` pair,
    is for the model's first direction (CycleGAN: `"a_to_b"`); a dict keyed
    by direction shows one group of rows per direction, each row labelled at
    the left (`A->B`, `B->A`).

    Grids go to `directory` as PNG files (grayscale models as "L", colour as
    "RGB"), each written atomically, and, with `tensorboard`, to TensorBoard
    as image summaries under the tags `image_grid/epoch` and
    `image_grid/batch`.

    Args:
        directory: folder of the PNG files, created if missing; None writes
            to TensorBoard only.
        num_images: images per grid; conditional models split them evenly
            over the rows (at least one per row). Translation models show
            their `examples` instead.
        every_n_epochs: write a grid after every this many epochs; None for
            no epoch grids.
        every_n_batches: also write a grid every this many batches within an
            epoch; None (the default) for no batch grids.
        seed: seed of the latent noise; the same seed and weights give the
            same grid.
        labels: conditional models only: the class ids to show, one per row;
            default every class.
        class_names: names written at the left of the rows: a sequence
            indexed by class id, or a dict; default the class ids.
        examples: translation models only, and required for them: source
            images `(N, H, W, C)` in [-1, 1]; or `(sources, targets)`, which
            adds a target column; or a dict `{direction: sources or
            (sources, targets)}`, e.g. `{"a_to_b": images_a, "b_to_a":
            images_b}`, for one group of rows per CycleGAN direction.
        filename: name of the epoch grids, formatted with `epoch` (epochs
            done, from 1).
        batch_filename: name of the batch grids, formatted with `epoch`
            (epochs done before this batch, from 0), `batch` (batches done in
            the epoch) and `step`. The defaults sort by name in the order
            they were written.
        tensorboard: a TensorBoard log directory, or a
            `keras.callbacks.TensorBoard` whose `log_dir` to use; the grids
            are written to its `images` subfolder as `tf.summary.image`
            records (TensorFlow must be installed, the `tensorboard` package
            need not be; any Keras backend works).
        padding: pixels between the images of a grid.
        pad_value: uint8 value of the padding (255 white, 0 black).

    Attributes:
        paths: the PNG files written so far, oldest first.

    Example:

    ```python
    grids = keras_gans.callbacks.ImageGrid("samples", num_images=64)
    gan.fit(images, epochs=20, callbacks=[grids])
    grids.paths[-1]                       # 'samples/epoch_0020.png'

    # Pix2Pix: rows of source | translation | target
    grids = keras_gans.callbacks.ImageGrid("samples", examples=(sources[:8], targets[:8]))
    pix2pix.fit((sources, targets), epochs=20, callbacks=[grids])

    # CycleGAN: 4 rows A->B, then 4 rows B->A
    grids = keras_gans.callbacks.ImageGrid(
        "samples", examples={"a_to_b": horses[:4], "b_to_a": zebras[:4]}
    )
    ```
    """

    def __init__(
        self,
        directory,
        num_images=64,
        every_n_epochs=1,
        every_n_batches=None,
        seed=0,
        labels=None,
        class_names=None,
        examples=None,
        filename="epoch_{epoch:04d}.png",
        batch_filename="epoch_{epoch:04d}_batch_{batch:06d}.png",
        tensorboard=None,
        padding=2,
        pad_value=255,
    ):
        super().__init__()
        if directory is None and tensorboard is None:
            raise ValueError(
                "ImageGrid needs somewhere to write: a `directory` for PNG files, "
                "a `tensorboard` log dir, or both."
            )
        check_integer("num_images", num_images)
        check_integer("every_n_epochs", every_n_epochs, allow_none=True)
        check_integer("every_n_batches", every_n_batches, allow_none=True)
        self.directory = None if directory is None else os.fspath(directory)
        self.num_images = int(num_images)
        self.every_n_epochs = every_n_epochs
        self.every_n_batches = every_n_batches
        self.seed = seed
        self.labels = labels
        self.class_names = class_names
        self.examples = examples
        self._example_groups = None if examples is None else _parse_examples(examples)
        self.filename = filename
        self.batch_filename = batch_filename
        self.tensorboard = tensorboard
        self.padding = padding
        self.pad_value = pad_value
        self.paths = []
        self._noise_model = None
        self._examples_model = None
        self._writer = None

    # Fixed noise, fixed examples and rendering --------------------------------------

    def _prepare(self):
        if _translates(self.model):
            self._prepare_examples()
        else:
            self._draw_noise()

    def _draw_noise(self):
        """Draws the latent vectors (and labels) once per model, kept across fits."""
        model = self.model
        if self._noise_model is model:
            return
        if self._example_groups is not None:
            raise ValueError(
                f"ImageGrid `examples` apply to translation models (Pix2Pix, CycleGAN); "
                f"this {type(model).__name__} generates from noise: leave `examples` out."
            )
        num_classes = getattr(model, "num_classes", None)
        if num_classes is None:
            if self.labels is not None:
                raise ValueError(
                    "`labels` were given to ImageGrid but the model is "
                    "unconditional; leave `labels` out."
                )
            self._row_labels = None
            self._latent = model.sample_latent(self.num_images, self.seed)
            self._labels = None
        else:
            rows = range(num_classes) if self.labels is None else self.labels
            rows = [int(label) for label in np.atleast_1d(rows)]
            if not rows or not all(0 <= label < num_classes for label in rows):
                raise ValueError(
                    f"ImageGrid `labels` must be class ids in [0, {num_classes}); "
                    f"received {self.labels!r}."
                )
            cols = max(1, self.num_images // len(rows))
            column_latent = model.sample_latent(cols, self.seed)
            self._row_labels = rows
            self._latent = np.tile(column_latent, (len(rows), 1))
            self._labels = np.repeat(np.asarray(rows, dtype="int32"), cols)
        self._noise_model = model

    def _prepare_examples(self):
        """Checks the examples against the model once: directions, shapes, targets."""
        model = self.model
        if self._examples_model is model:
            return
        name = type(model).__name__
        if self._example_groups is None:
            raise ValueError(
                f"ImageGrid needs `examples` for a {name}, which translates images rather "
                "than generating them: pass fixed source images, e.g. "
                "`ImageGrid(directory, examples=(sources[:8], targets[:8]))`."
            )
        if self.labels is not None:
            raise ValueError(
                f"ImageGrid `labels` apply to class-conditional GANs; the {name} shows its "
                "`examples`: leave `labels` out."
            )
        first = model.directions[0]
        groups = {
            first if key is None else key: value for key, value in self._example_groups.items()
        }
        unknown = [key for key in groups if key not in model.directions]
        if unknown:
            raise ValueError(
                f"ImageGrid `examples` keys must be directions of the {name}, "
                f"{list(model.directions)}; received {unknown}."
            )
        self._groups = []
        for direction in model.directions:
            if direction not in groups:
                continue
            sources, targets = groups[direction]
            where = "`examples`" if direction is None else f"`examples` ({direction})"
            try:
                outputs = model.translate(sources, direction=direction)
            except ValueError as error:
                raise ValueError(f"ImageGrid {where} do not fit the {name}: {error}") from None
            if targets is not None and targets.shape[1:] != outputs.shape[1:]:
                raise ValueError(
                    f"ImageGrid {where} targets must have shape "
                    f"(N, {', '.join(map(str, outputs.shape[1:]))}) like the {name}'s "
                    f"translations; received {targets.shape}."
                )
            self._groups.append((direction, sources, targets))
        self._examples_model = model

    def _render_translations(self):
        self._prepare_examples()
        rows, names = [], []
        for direction, sources, targets in self._groups:
            outputs = self.model.translate(sources, direction=direction)
            columns = (sources, outputs) if targets is None else (sources, outputs, targets)
            rows += list(zip(*columns))
            names += [direction] * len(sources)
        grid = make_row_grid(rows, padding=self.padding, pad_value=self.pad_value)
        if names[0] is None:
            return grid
        names = [_direction_name(direction) for direction in names]
        return label_rows(grid, names, padding=self.padding, pad_value=self.pad_value)

    def _class_name(self, label):
        names = self.class_names
        if names is None:
            return str(label)
        if isinstance(names, dict):
            return str(names.get(label, label))
        return str(names[label])

    def render(self):
        """Generates (or translates) the grid with the current weights.

        Returns:
            A uint8 array `(H', W', C)`, the image the callback writes.

        Example:

        ```python
        grids = ImageGrid("samples")
        grids.set_model(gan)
        save_image(grids.render(), "before_training.png")
        ```
        """
        if _translates(self.model):
            return self._render_translations()
        self._draw_noise()
        images = self.model.generate(latent=self._latent, labels=self._labels)
        if self._row_labels is None:
            return make_grid(images, padding=self.padding, pad_value=self.pad_value)
        grid = make_grid(
            images,
            rows=len(self._row_labels),
            padding=self.padding,
            pad_value=self.pad_value,
        )
        names = [self._class_name(label) for label in self._row_labels]
        return label_rows(grid, names, padding=self.padding, pad_value=self.pad_value)

    def _write(self, filename, tag, step):
        grid = self.render()
        if self.directory is not None:
            path = save_image(grid, os.path.join(self.directory, filename))
            if path in self.paths:
                self.paths.remove(path)
            self.paths.append(path)
        if self._writer is not None:
            self._write_summary(grid, tag, step)

    # TensorBoard (tf.summary, on every backend) ----------------------------------

    def _open_writer(self):
        log_dir = self.tensorboard
        if isinstance(log_dir, keras.callbacks.TensorBoard):
            log_dir = log_dir.log_dir
        try:
            import tensorflow as tf
        except ImportError as error:
            raise ImportError(
                "ImageGrid(tensorboard=...) writes image summaries with "
                "tf.summary, which needs TensorFlow: `pip install tensorflow-cpu` "
                "(it works beside the JAX and torch backends)."
            ) from error
        return tf.summary.create_file_writer(os.path.join(os.fspath(log_dir), "images"))

    def _write_summary(self, grid, tag, step):
        import tensorflow as tf

        try:  # tf.summary.image needs the `tensorboard` package (the tensorflow extra)
            with self._writer.as_default():
                tf.summary.image(tag, grid[None], step=int(step))
            self._writer.flush()
            return
        except (ImportError, AttributeError):
            pass
        # Without tensorboard: the same record tf.summary.image writes (TensorBoard's images
        # plugin reads `[width, height, png]` strings), written with core TensorFlow alone.

        png = io.BytesIO()
        to_pil(grid).save(png, format="PNG")
        height, width = grid.shape[:2]
        metadata = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="images")
        )
        tensor = tf.constant([str(width).encode(), str(height).encode(), png.getvalue()])
        with self._writer.as_default():
            tf.summary.write(tag, tensor, step=int(step), metadata=metadata)
        self._writer.flush()

    # Callback hooks -------------------------------------------------------------

    def _writes_epoch(self, epoch):
        return self.every_n_epochs is not None and (epoch + 1) % self.every_n_epochs == 0

    def on_train_begin(self, logs=None):
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
        self._prepare()
        if self.tensorboard is not None and self._writer is None:
            self._writer = self._open_writer()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._written_bucket = 0

    def on_train_batch_end(self, batch, logs=None):
        if self.every_n_batches is None:
            return
        done = batch + 1
        bucket = done // self.every_n_batches
        if bucket <= self._written_bucket:
            return
        self._written_bucket = bucket
        steps = (self.params or {}).get("steps")
        if steps and done >= steps and self._writes_epoch(self._epoch):
            return  # The epoch grid, written next, shows the same weights.
        step = self._epoch * steps + done if steps else done
        filename = self.batch_filename.format(epoch=self._epoch, batch=done, step=step)
        self._write(filename, "image_grid/batch", step)

    def on_epoch_end(self, epoch, logs=None):
        if self._writes_epoch(epoch):
            self._write(self.filename.format(epoch=epoch + 1), "image_grid/epoch", epoch)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
