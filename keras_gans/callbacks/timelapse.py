"""`Timelapse`: an animated GIF of the image grids, built when training ends."""

import glob
import os
import warnings

import keras

from keras_gans.utils.files import atomic_path


def _frame_paths(directory_or_paths):
    if isinstance(directory_or_paths, (str, os.PathLike)):
        directory = os.fspath(directory_or_paths)
        if not os.path.isdir(directory):
            raise ValueError(f"{directory!r} is not a directory of PNG grids.")
        return sorted(glob.glob(os.path.join(glob.escape(directory), "*.png")))
    return [os.fspath(path) for path in directory_or_paths]


def make_timelapse(directory_or_paths, path, duration=0.5, loop=0) -> str:
    """Builds an animated GIF from image files, one frame per image.

    Frames keep the given order; a directory's `*.png` files are sorted by
    name (`ImageGrid`'s file names sort in the order they were written).
    Frames of another size than the first are resized to it. Identical
    consecutive frames merge into one longer frame. The GIF is written
    atomically.

    Args:
        directory_or_paths: a directory holding PNG files, or a list of
            image paths in display order.
        path: the GIF to write; parent directories are created.
        duration: seconds per frame.
        loop: times to loop the animation; 0 loops forever.

    Returns:
        `path`, as a string.

    Example:

    ```python
    make_timelapse("samples", "progress.gif", duration=0.2)
    ```
    """
    from PIL import Image

    paths = _frame_paths(directory_or_paths)
    if not paths:
        raise ValueError(
            f"No images to animate in {directory_or_paths!r}; train with an "
            "ImageGrid callback first, or pass its directory."
        )
    frames = []
    for frame_path in paths:
        with Image.open(frame_path) as image:
            image.load()
            frames.append(image)
    size = frames[0].size
    frames = [
        frame if frame.size == size else frame.resize(size, Image.Resampling.NEAREST)
        for frame in frames
    ]
    path = os.fspath(path)
    with atomic_path(path) as temporary:
        frames[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=max(1, round(duration * 1000)),
            loop=loop,
        )
    return path


class Timelapse(keras.callbacks.Callback):
    """Animates the image grids written during training into a GIF, at train end.

    Frames come from an `ImageGrid` callback's `paths` (the grids of this
    run, in the order written) or from the PNG files in `directory`, sorted
    by name. Use it beside the `ImageGrid`; their order in `callbacks` does
    not matter.

    Args:
        path: the GIF to write.
        image_grid: an `ImageGrid` callback whose grids to animate.
        directory: a folder of PNG grids, used when `image_grid` is None.
        duration: seconds per frame.
        loop: times to loop the animation; 0 loops forever.

    Example:

    ```python
    grids = keras_gans.callbacks.ImageGrid("samples")
    movie = keras_gans.callbacks.Timelapse("progress.gif", image_grid=grids)
    gan.fit(images, epochs=20, callbacks=[grids, movie])
    ```
    """

    def __init__(self, path="progress.gif", image_grid=None, directory=None, duration=0.5, loop=0):
        super().__init__()
        if image_grid is None and directory is None:
            raise ValueError(
                "Timelapse needs its frames: pass the `image_grid` callback that "
                "writes them, or the `directory` they are written to."
            )
        self.path = os.fspath(path)
        self.image_grid = image_grid
        self.directory = directory
        self.duration = duration
        self.loop = loop

    def on_train_end(self, logs=None):
        if self.image_grid is not None:
            frames = list(self.image_grid.paths)
        else:
            frames = _frame_paths(self.directory)
        if not frames:
            warnings.warn(
                f"Timelapse: no image grids were written, so {self.path} was not "
                "made. Give the ImageGrid a `directory` and an `every_n_epochs` "
                "that fits the number of epochs.",
                stacklevel=2,
            )
            return
        make_timelapse(frames, self.path, duration=self.duration, loop=self.loop)
