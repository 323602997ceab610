"""Checks of what users hand to `fit` and `generate`, with errors that say how to fix it.

Inside a compiled step only shapes can be checked, so value checks (image
range, finiteness, label range) run outside it: on whole NumPy arrays before
training, and on every batch of a Python iterable, a `tf.data.Dataset` (inside
its pipeline) or a `keras.utils.PyDataset` as it is drawn. A torch `DataLoader`
is checked on its first batch.
"""

import re
import warnings

import keras
import numpy as np

RANGE_TOLERANCE = 1e-3
# Starts the message of a check failing inside a tf.data pipeline, so that `fit`
# can re-raise it as the ValueError it is, whatever the backend wraps it in.
PIPELINE_CHECK_MARK = "keras-gans data check: "


def first_batch(x):
    """Returns the first element of a dataset-like `x` as NumPy, or None.

    Args:
        x: a NumPy array or tuple of arrays (returned as is), a
            `tf.data.Dataset`, a `keras.utils.PyDataset` or a torch
            `DataLoader`. Python generators are not peeked at (that would
            consume them).
    """
    if isinstance(x, (np.ndarray, tuple, list)):
        return x
    module = type(x).__module__
    if module.startswith("tensorflow") and hasattr(x, "take"):
        for element in x.take(1):
            return _to_numpy(element)
        return None
    if hasattr(x, "__getitem__") and hasattr(x, "num_batches"):  # PyDataset
        return _to_numpy(x[0]) if len(x) else None
    if module.startswith("torch.utils.data"):
        for element in x:
            return _to_numpy(element)
    return None


def _to_numpy(element):
    if isinstance(element, (tuple, list)):
        return type(element)(_to_numpy(e) for e in element)
    if isinstance(element, dict):
        return element
    return np.asarray(element)


def split_images_and_labels(data):
    """Splits `images`, `(images,)` or `(images, labels)` into a pair."""
    if isinstance(data, (tuple, list)) and len(data) == 1:
        data = data[0]
    if isinstance(data, (tuple, list)):
        if len(data) > 2:
            raise ValueError(
                "Training data must be `images` or `(images, labels)`; "
                f"received a tuple of {len(data)} elements. GANs take no "
                "sample weights."
            )
        return data[0], data[1]
    return data, None


def check_images(images, image_shape, argument="x"):
    """Raises a ValueError unless `images` is a batch of `image_shape` in [-1, 1].

    Args:
        images: array-like of shape `(batch,) + image_shape`.
        image_shape: the `(height, width, channels)` the model was built for.
        argument: the argument name to put in the message.
    """
    images = np.asarray(images)
    expected = tuple(image_shape)
    if images.ndim != len(expected) + 1 or tuple(images.shape[1:]) != expected:
        hint = ""
        if images.ndim == 4 and tuple(images.shape[2:]) + images.shape[1:2] == expected:
            hint = (
                " The images look channels-first (N, C, H, W): keras-gans uses "
                "channels-last; transpose with images.transpose(0, 2, 3, 1)."
            )
        elif images.ndim == len(expected) and expected[-1] == 1:
            hint = " Add the channel axis with images[..., None]."
        raise ValueError(
            f"`{argument}` must be images of shape (batch, {', '.join(map(str, expected))})"
            f" to match the model's image_shape={expected}; received shape "
            f"{images.shape}.{hint}"
        )
    if images.size == 0:
        return
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        bad = int(np.size(images) - np.isfinite(images).sum())
        first = int(np.argwhere(~np.isfinite(images))[0][0])
        raise ValueError(
            f"`{argument}` holds {bad} NaN or infinite pixel value(s) (the first in image "
            f"{first}); they would turn every weight into NaN. Drop or repair those images."
        )
    low, high = float(images.min()), float(images.max())
    if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ValueError(
            f"`{argument}` must hold pixel values in [-1, 1] (the generator ends "
            f"in tanh); received values in [{low}, {high}]. For uint8 images in "
            "[0, 255] use `images.astype('float32') / 127.5 - 1`, or "
            "`keras_gans.data.scale_images(images)`."
        )


def warn_if_suspicious(images, argument="x"):
    """Warns about images that pass the checks but look wrongly scaled."""
    images = np.asarray(images)
    if images.size and np.issubdtype(images.dtype, np.floating) and images.min() >= 0:
        warnings.warn(
            f"`{argument}` holds only values in [0, {float(images.max()):.3g}]: images scaled "
            "to [0, 1] instead of [-1, 1]? The generator ends in tanh; rescale with "
            "`images * 2 - 1`.",
            stacklevel=3,
        )


def checked_batches(batches, image_shape, num_classes, argument="x"):
    """Yields the batches of a Python iterable, checking every one before it trains.

    Range, finiteness, shape and labels of each batch are checked on the host
    (microseconds next to a training step), so bad data hours in stops with an
    error that names the batch instead of poisoning the weights.
    """
    for index, batch in enumerate(batches):
        images, labels = split_images_and_labels(_to_numpy(batch))
        where = f"{argument} (batch {index})"
        check_images(images, image_shape, argument=where)
        if num_classes is not None and labels is not None:
            check_labels(labels, num_classes, argument=f"labels of batch {index}")
        yield batch


def checked_every_batch(x, image_shape, num_classes, argument="x"):
    """`x` with each batch checked as it is drawn, for the dataset types that allow it.

    Args:
        x: a `tf.data.Dataset` or a `keras.utils.PyDataset` (anything else
            is returned as is; Python iterables go through `checked_batches`).
        image_shape: the model's image shape.
        num_classes: the number of classes, or None for unconditional models.
        argument: the argument name to put in messages.
    """
    module = type(x).__module__
    if module.startswith("tensorflow") and hasattr(x, "map"):
        return _checked_tf_dataset(x, num_classes, argument)
    if isinstance(x, keras.utils.PyDataset):
        return CheckedPyDataset(x, image_shape, num_classes, argument)
    return x


def _checked_tf_dataset(dataset, num_classes, argument):
    import tensorflow as tf

    def check(*element):
        images = element[0]
        if images.dtype.is_floating:
            tf.debugging.assert_all_finite(
                images, f"{PIPELINE_CHECK_MARK}`{argument}` holds NaN or infinite pixel values."
            )
            tf.debugging.assert_less_equal(
                tf.reduce_max(tf.abs(tf.cast(images, "float32"))),
                1.0 + RANGE_TOLERANCE,
                message=f"{PIPELINE_CHECK_MARK}a batch of `{argument}` holds pixel values "
                "outside [-1, 1]; scale every batch like the first (e.g. images / 127.5 - 1).",
            )
        if num_classes is not None and len(element) > 1:
            labels = tf.cast(element[1], "float64")
            in_range = tf.logical_and(labels >= 0, labels < num_classes)
            tf.debugging.Assert(
                tf.reduce_all(in_range),
                [
                    f"{PIPELINE_CHECK_MARK}labels of a batch must be class ids in "
                    f"[0, {num_classes}); received",
                    tf.reduce_min(labels),
                    tf.reduce_max(labels),
                ],
            )
        return element if len(element) > 1 else element[0]

    return dataset.map(check)


class CheckedPyDataset(keras.utils.PyDataset):
    """A `keras.utils.PyDataset` whose batches are checked as they are drawn.

    Args:
        dataset: the `PyDataset` to wrap (its workers and queue settings are kept).
        image_shape: the model's image shape.
        num_classes: the number of classes, or None.
        argument: the argument name to put in messages.
    """

    def __init__(self, dataset, image_shape, num_classes, argument="x"):
        super().__init__(
            workers=getattr(dataset, "workers", 1),
            use_multiprocessing=getattr(dataset, "use_multiprocessing", False),
            max_queue_size=getattr(dataset, "max_queue_size", 10),
        )
        self.dataset, self.image_shape = dataset, image_shape
        self.num_classes, self.argument = num_classes, argument

    def __len__(self):
        return len(self.dataset)

    @property
    def num_batches(self):
        return self.dataset.num_batches

    def __getitem__(self, index):
        try:
            batch = self.dataset[index]
        except (OSError, ValueError) as error:  # unreadable files: marked like a failed check
            message = f"{PIPELINE_CHECK_MARK}batch {index} of `{self.argument}`: {error}"
            raise ValueError(message) from error
        images, labels = split_images_and_labels(_to_numpy(batch))
        try:
            check_images(images, self.image_shape, argument=f"{self.argument} (batch {index})")
            if self.num_classes is not None and labels is not None:
                check_labels(labels, self.num_classes, argument=f"labels of batch {index}")
        except ValueError as error:  # marked: TensorFlow wraps it in its own error
            raise ValueError(PIPELINE_CHECK_MARK + str(error)) from None
        return batch

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def pipeline_check_error(error):
    """The ValueError for an exception raised by a tf.data check, or None."""
    text = str(error)
    start = text.find(PIPELINE_CHECK_MARK)
    if start < 0:
        return None
    message = text[start + len(PIPELINE_CHECK_MARK) :].splitlines()[0]
    # tf.debugging.Assert prints its data as "...received] [low] [high]".
    message = re.sub(r"received\] \[(\S+)\] \[(\S+)\]", r"received values in [\1, \2]", message)
    return ValueError(message.rstrip(". ") + ".")


def check_labels(labels, num_classes, argument="labels", batch_size=None):
    """Raises a ValueError unless `labels` are integer class ids in [0, num_classes)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"`{argument}` must be a 1-D array of integer class ids; received "
            f"shape {labels.shape}. One-hot labels can be turned into ids with "
            "labels.argmax(axis=-1)."
        )
    if labels.size and not (
        np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)
    ):
        raise ValueError(
            f"`{argument}` must be integer class ids; received dtype {labels.dtype} "
            f"(e.g. {labels.flat[0]!r}). Map names to ids first, e.g. with "
            "np.unique(names, return_inverse=True)[1]."
        )
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise ValueError(
                f"`{argument}` must be integer class ids; received dtype "
                f"{labels.dtype} with non-integer values."
            )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"`{argument}` must be class ids in [0, {num_classes}) for a model "
            f"with num_classes={num_classes}; received values in "
            f"[{labels.min()}, {labels.max()}]."
        )
    if batch_size is not None and len(labels) != batch_size:
        raise ValueError(
            f"`{argument}` has {len(labels)} entries but there are "
            f"{batch_size} images; give one label per image."
        )
    return labels.astype("int32")


def check_training_data(x, y, *, image_shape, num_classes, batch_size, argument="x"):
    """Checks the data passed to `fit` (or `validation_data`) before training.

    Args:
        x: what the user passed as `x`.
        y: what the user passed as `y` (labels for a conditional model).
        image_shape: the model's image shape.
        num_classes: the number of classes, or None for unconditional models.
        batch_size: the `batch_size` given to `fit`, if any.
        argument: name of the argument, for messages.
    """
    batch = first_batch(x) if y is None else (first_batch(x), y)
    if batch is None:
        return
    images, labels = split_images_and_labels(batch)
    if images is None:
        return
    if isinstance(images, dict):
        raise TypeError(f"`{argument}` must be images (or images and labels), not a dict.")
    check_images(images, image_shape, argument=argument)
    num_images = len(images)
    if num_images == 0:
        raise ValueError(f"`{argument}` holds no images; give at least one batch of images.")
    if isinstance(x, (np.ndarray, tuple, list)):
        warn_if_suspicious(images, argument)
    if num_classes is None:
        if labels is not None:
            raise ValueError(
                f"This model is unconditional but `{argument}` carries labels. "
                "Pass the images alone (for image_dataset_from_directory use "
                "label_mode=None), or use keras_gans.ConditionalGAN to train "
                "on labels."
            )
    else:
        if labels is None:
            raise ValueError(
                "A conditional model needs labels: call fit((images, labels)) or "
                "fit(images, labels) with integer class ids."
            )
        check_labels(labels, num_classes, argument="labels", batch_size=num_images)
    if (
        isinstance(images, np.ndarray)
        and batch_size is not None
        and isinstance(x, (np.ndarray, tuple, list))
        and batch_size > num_images
    ):
        raise ValueError(
            f"`batch_size`={batch_size} is larger than the {num_images} training "
            f"images; use batch_size <= {num_images}."
        )
