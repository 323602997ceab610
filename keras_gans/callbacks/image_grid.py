"""`ImageGrid`: a grid of generated images from fixed noise, written during `fit`."""

import io
import os

import keras
import numpy as np

from keras_gans.images import label_rows, make_grid, save_image, to_pil


def _check_every(name, value):
    if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {value!r}")


class ImageGrid(keras.callbacks.Callback):
    """Writes a grid of generated images every epoch (or every N batches).

    The latent vectors are drawn once, when training begins, with
    `model.sample_latent(..., seed)` and kept, so every grid shows the same
    noise and successive grids show what training changed. Unconditional
    models get a near-square grid of `num_images`. Conditional models get
    one row per class (or per entry of `labels`) with the class name written
    at the left; the columns share latent vectors, so a column shows one
    noise vector rendered as each class.

    Grids go to `directory` as PNG files (grayscale models as "L", colour as
    "RGB"), each written atomically, and, with `tensorboard`, to TensorBoard
    as image summaries under the tags `image_grid/epoch` and
    `image_grid/batch`.

    Args:
        directory: folder of the PNG files, created if missing; None writes
            to TensorBoard only.
        num_images: images per grid; conditional models split them evenly
            over the rows (at least one per row).
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
        if not isinstance(num_images, (int, np.integer)) or num_images < 1:
            raise ValueError(f"`num_images` must be a positive integer. Received: {num_images!r}")
        _check_every("every_n_epochs", every_n_epochs)
        _check_every("every_n_batches", every_n_batches)
        self.directory = None if directory is None else os.fspath(directory)
        self.num_images = int(num_images)
        self.every_n_epochs = every_n_epochs
        self.every_n_batches = every_n_batches
        self.seed = seed
        self.labels = labels
        self.class_names = class_names
        self.filename = filename
        self.batch_filename = batch_filename
        self.tensorboard = tensorboard
        self.padding = padding
        self.pad_value = pad_value
        self.paths = []
        self._noise_model = None
        self._writer = None

    # Fixed noise and rendering ----------------------------------------------------

    def _draw_noise(self):
        """Draws the latent vectors (and labels) once per model, kept across fits."""
        model = self.model
        if self._noise_model is model:
            return
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

    def _class_name(self, label):
        names = self.class_names
        if names is None:
            return str(label)
        if isinstance(names, dict):
            return str(names.get(label, label))
        return str(names[label])

    def render(self):
        """Generates the grid from the fixed noise with the current weights.

        Returns:
            A uint8 array `(H', W', C)`, the image the callback writes.

        Example:

        ```python
        grids = ImageGrid("samples")
        grids.set_model(gan)
        save_image(grids.render(), "before_training.png")
        ```
        """
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
        self._draw_noise()
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
