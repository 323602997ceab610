"""Image folders streamed batch by batch: order, labels, shards, resuming, bad files, memory."""

import json
import os
import tracemalloc
import warnings

import numpy as np
import pytest
from PIL import Image

from keras_gans.data import ImageFolderStream
from tests import helpers


def write_folder(folder, count, size=(16, 16), classes=None, mode="L", seed=0):
    """`count` random PNGs `size` (height, width); in class sub-folders when `classes`."""
    rng = np.random.default_rng(seed)
    channels = 1 if mode == "L" else 3
    for i in range(count):
        sub = folder / (f"class_{i % classes}" if classes else "")
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (*size, channels), dtype="uint8")
        Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(sub / f"{i:05d}.png")
    return folder


def all_batches(stream):
    return [stream[i] for i in range(len(stream))]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("labelled"), 40, size=(12, 20), classes=3)


def test_batches_are_scaled_labelled_and_non_square(labelled):
    stream = ImageFolderStream(labelled, batch_size=16, image_size=(8, 12))
    assert stream.class_names == ["class_0", "class_1", "class_2"]
    assert stream.image_shape == (8, 12, 1) and len(stream) == 3
    images, labels = stream[0]
    assert images.shape == (16, 8, 12, 1) and images.dtype == np.float32
    assert -1.0 <= images.min() and images.max() <= 1.0
    assert labels.dtype == np.int32 and set(labels) <= {0, 1, 2}
    assert stream[2][0].shape[0] == 40 - 32  # the last, smaller batch
    # A label is the sub-folder of the very image decoded.
    row = int(stream.order[0])
    assert stream.class_names[stream.labels[row]] in stream.paths[row]


def test_order_comes_from_seed_and_epoch_and_covers_the_folder(labelled):
    first = ImageFolderStream(labelled, batch_size=16, image_size=8, seed=3)
    again = ImageFolderStream(labelled, batch_size=16, image_size=8, seed=3)
    np.testing.assert_array_equal(first[1][0], again[1][0])
    epoch_zero = first.order.copy()
    first.set_epoch(1)
    assert not np.array_equal(first.order, epoch_zero)
    assert sorted(np.concatenate([first.rows(i) for i in range(len(first))])) == list(range(40))


def test_resuming_mid_epoch_sees_the_rest_of_the_epoch_once(labelled):
    whole = ImageFolderStream(labelled, batch_size=8, image_size=8, seed=1, initial_epoch=2)
    resumed = ImageFolderStream(
        labelled, batch_size=8, image_size=8, seed=1, initial_epoch=2, initial_step=3
    )
    assert len(resumed) == len(whole) - 3
    for index in range(len(resumed)):
        for a, b in zip(whole[index + 3], resumed[index]):
            np.testing.assert_array_equal(a, b)
    # The callback keeps the resumed start for that epoch, then starts later ones at 0.
    setter = resumed.epoch_setter()
    setter.on_epoch_begin(2)
    assert (resumed.epoch, resumed.step) == (2, 3)
    setter.on_train_batch_end(0)
    assert resumed.position == (2, 4)
    setter.on_epoch_begin(3)
    assert (resumed.epoch, resumed.step, len(resumed)) == (3, 0, 5)


def test_process_shards_stack_into_the_global_batch(labelled):
    one = ImageFolderStream(labelled, batch_size=16, image_size=8, seed=5)
    shards = [
        ImageFolderStream(
            labelled, batch_size=16, image_size=8, seed=5, num_shards=2, shard_index=p
        )
        for p in (0, 1)
    ]
    assert len(shards[0]) == 2  # drops the remainder: every process takes the same steps
    for index in range(2):
        images = np.concatenate([shard[index][0] for shard in shards])
        labels = np.concatenate([shard[index][1] for shard in shards])
        np.testing.assert_array_equal(images, one[index][0])
        np.testing.assert_array_equal(labels, one[index][1])
    with pytest.raises(ValueError, match="divide evenly"):
        ImageFolderStream(labelled, batch_size=15, image_size=8, num_shards=2)


def test_unreadable_files_are_skipped_counted_and_replaced(tmp_path):
    folder = write_folder(tmp_path / "faces", 20, size=(10, 10))
    (folder / "not_an_image.png").write_text("hello")
    good = (folder / "00000.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    stream = ImageFolderStream(folder, batch_size=11, image_size=(10, 10))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = all_batches(stream)
    assert [len(b) for b in batches] == [11, 11]
    assert sorted(os.path.basename(p) for p in stream.skipped) == [
        "not_an_image.png",
        "truncated.png",
    ]
    assert sum("Skipped unreadable image" in str(w.message) for w in caught) == 2


def test_decoding_holds_about_one_batch_in_memory(tmp_path):
    folder = write_folder(tmp_path / "many", 2000)
    stream = ImageFolderStream(folder, batch_size=32, image_size=16)
    folder_bytes = 2000 * 16 * 16  # the folder read whole, as uint8
    tracemalloc.start()
    for index in range(len(stream)):
        stream[index]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < folder_bytes / 2, peak  # NumPy reports its buffers to tracemalloc


PEAK_MEMORY = """
import json, sys, warnings
import keras, keras_gans
from keras_gans.data import ImageFolderStream

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

def epoch_growth(gan, folder, epoch):
    stream = ImageFolderStream(folder, batch_size=64, image_size=16, seed=0, initial_epoch=epoch,
                               drop_remainder=True)
    open("/proc/self/clear_refs", "w").write("5")  # restart the peak (VmHWM) from now
    before = kib("VmRSS")
    gan.fit(stream, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, verbose=0,
            callbacks=[stream.epoch_setter()])
    return kib("VmHWM") - before, len(stream.skipped), len(stream)

warnings.simplefilter("ignore")
keras.utils.set_random_seed(0)
gan = keras_gans.DCGAN(latent_dim=8, image_shape=(16, 16, 1), width=4)
gan.compile()
epoch_growth(gan, sys.argv[1], 0)  # a whole epoch first: compiles all fit runs
small = epoch_growth(gan, sys.argv[1], 1)
large = epoch_growth(gan, sys.argv[2], 2)
print(json.dumps({"small": small, "large": large}))
"""


def test_training_on_a_folder_four_times_larger_needs_no_more_memory(tmp_path):
    small = write_folder(tmp_path / "small", 512)
    large = write_folder(tmp_path / "large", 2048, seed=1)
    (large / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code = f"import sys; sys.argv[1:] = [{str(small)!r}, {str(large)!r}]\n" + PEAK_MEMORY
    output = helpers.run_python(code, helpers.BACKEND, timeout=150)
    result = json.loads(output.splitlines()[-1])
    (small_growth, _, small_steps), (large_growth, skipped, large_steps) = (
        result["small"],
        result["large"],
    )
    assert (small_steps, large_steps, skipped) == (8, 32, 1)
    # Four times the images, the same peak: bounded by a batch, not by the folder.
    assert large_growth <= small_growth + 8 * 1024, result  # KiB


def test_tf_data_wraps_the_same_batches(labelled):
    from keras_gans.data import tf_dataset

    stream = ImageFolderStream(labelled, batch_size=16, image_size=8, seed=2)
    batches = list(tf_dataset(stream).as_numpy_iterator())
    assert len(batches) == len(stream) == 3
    for (images, labels), (expected_images, expected_labels) in zip(batches, all_batches(stream)):
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)


def test_the_runner_streams_a_folder_and_resumes_it_exactly(tmp_path, labelled):
    import keras

    from keras_gans import runner
    from keras_gans.data import reference

    common = dict(data=str(labelled), image_size=8, batch_size=8, evaluate=False, verbose=0)
    common["model_overrides"] = {"width": 8}

    class StopAt(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.model.optimizer.iterations.numpy() == 7:  # mid-epoch 2 (5 steps each)
                raise KeyboardInterrupt

    whole = runner.train("cgan", tmp_path / "whole", epochs=2, stream=True, **common)
    assert whole["options"]["stream"] is True and whole["num_images"] == 40
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        runner.train(
            "cgan", out, epochs=2, stream=True, backup_every=1, callbacks=[StopAt()], **common
        )
    runner.train("cgan", out, epochs=2, **common)  # --stream and --backup-every kept
    expected = keras.saving.load_model(tmp_path / "whole" / "model.keras")
    resumed = keras.saving.load_model(out / "model.keras")
    assert int(resumed.optimizer.iterations.numpy()) == 10
    for a, b in zip(expected.weights, resumed.weights, strict=True):
        if helpers.BACKEND == "torch":  # dropout draws from torch's global generator
            np.testing.assert_allclose(np.array(a), np.array(b), atol=5e-3)
        else:
            np.testing.assert_array_equal(np.array(a), np.array(b))
    stream = ImageFolderStream(str(labelled), batch_size=8, image_size=8)
    references = reference.reference_images(stream, limit=12)
    assert references.shape == (12, 8, 8, 1) and np.abs(references).max() <= 1
    assert "12 images sampled" in reference.reference_description(stream, limit=12)
    with pytest.raises(ValueError, match="--stream decodes an image folder"):
        runner.train("cgan.mnist5k", tmp_path / "x", stream=True, epochs=1, verbose=0)
