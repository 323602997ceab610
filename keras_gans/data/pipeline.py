"""In-memory arrays as a plain `tf.data` pipeline for `fit` on the TensorFlow backend.

Keras turns NumPy arrays into a `tf.data` pipeline whose map and prefetch are
autotuned. On small CPU machines the autotuner stalls the first batch of an
epoch for about as long as the epoch itself, in about half of the epochs
(measured with `benchmarks/tutorial_loop.py`: 2 cores, the DCGAN tutorial's
networks, epochs at ~500 or ~250 images/s from one epoch to the next). The
TensorFlow DCGAN tutorial's own pipeline, a shuffled and batched
`from_tensor_slices`, has no such stall; this is that pipeline, with the
epoch's order drawn from NumPy's global random state as Keras draws it on the
other backends, so `keras.utils.set_random_seed` and
`keras_gans.callbacks.BackupAndRestore` (which saves that state) fix it.

Example:

```python
dataset = array_dataset(images, None, batch_size=64, shuffle=True)
gan.fit(dataset, epochs=10)
```
"""

import numpy as np


def _as_floatx(array):
    import keras

    if np.issubdtype(array.dtype, np.floating):
        return array.astype(keras.config.floatx(), copy=False)
    return array


def _arrays(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def can_stream_arrays(x, y, fit_kwargs):
    """Whether `fit(x, y, **fit_kwargs)` can take `array_dataset` in place of the arrays."""
    return (
        all(isinstance(array, np.ndarray) for array in _arrays(x))
        and (y is None or isinstance(y, np.ndarray))
        and fit_kwargs.get("shuffle", True) in (True, False)
        and fit_kwargs.get("steps_per_epoch") is None
        and not fit_kwargs.get("validation_split")
    )


def array_dataset(x, y, batch_size, shuffle):
    """Batches of `x` (and `y`), in a new order each epoch when `shuffle`.

    Args:
        x: an array of images, or a tuple `(images, labels)` of arrays.
        y: labels, or None.
        batch_size: images per batch; the last batch of an epoch may be smaller.
        shuffle: True draws a permutation per epoch from `np.random`; False
            keeps the arrays' order.

    Returns:
        A `tf.data.Dataset` yielding `images` or `(images, labels)` batches;
        iterating it again starts a new epoch.
    """
    import tensorflow as tf

    arrays = _arrays(x)
    if y is not None:
        arrays += (y,)
    count = len(arrays[0])

    def epoch_order():
        if shuffle:
            return np.random.permutation(count).astype("int64")
        return np.arange(count, dtype="int64")

    order = tf.data.Dataset.range(1).map(
        lambda _: tf.ensure_shape(
            tf.numpy_function(epoch_order, [], tf.int64, stateful=True), (count,)
        )
    )
    indices = order.unbatch().batch(batch_size)
    # On the host, as Keras keeps arrays (an eager constant could land on an accelerator);
    # floating arrays in Keras' float type, as its own adapter casts them.
    with tf.device("/cpu:0"):
        tensors = tuple(tf.constant(_as_floatx(array)) for array in arrays)

    def gather(batch_indices):
        batch = tuple(tf.gather(tensor, batch_indices) for tensor in tensors)
        return batch if len(batch) > 1 else batch[0]

    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    # Several workers each take every n-th batch, as Keras shards arrays.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return indices.map(gather).prefetch(1).with_options(options)
