"""Folders of images: which files, which labels, what size and channels, and reading them whole.

One reader for every folder keras-gans takes: `load("./folder")` reads it into
memory with `read_folder`, `ImageFolderStream` decodes it batch by batch, and the
image pairs read their files on demand; all decode with `pixels.decode_image`
(centre crop to the aspect ratio, bilinear resize) at the size and channels
`folder_geometry` settles.

- `scan_folder(folder)`: the images, and the class sub-folders that label them.
- `image_files(folder)`: the images directly inside a folder (a translation domain).
- `folder_geometry(paths, image_size, channels)`: one size (mixed sizes need
  `image_size`) and 1 or 3 channels.
- `read_folder(folder, image_size)`: uint8 images and labels, in memory.

Example:

```python
from keras_gans.data import folders

paths, class_names = folders.scan_folder("./pets")       # [...], ['cat', 'dog']
images, labels, class_names = folders.read_folder("./pets", (64, 64))
```
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from keras_gans.data import pixels

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Headers looked at for the size and channels, when not every one must be.
HEADER_SAMPLE = 256


def is_image(filename: str) -> bool:
    """Whether a file name is one keras-gans reads (by extension; hidden files are not)."""
    return filename.lower().endswith(IMAGE_EXTENSIONS) and not filename.startswith(".")


def _images_under(folder: str) -> list[str]:
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, f) for f in sorted(files) if is_image(f)]
    return paths


def scan_folder(folder) -> tuple[list[str], list[str] | None]:
    """Lists the images of a folder and its class sub-folders.

    Returns:
        `(paths, class_names)`: every image path, and the names of the
        sub-folders holding images (None when the images lie directly in
        `folder`).

    Raises:
        FileNotFoundError: `folder` does not exist or is not a folder.
        ValueError: no images, or images both in `folder` and in sub-folders.
    """
    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise FileNotFoundError(f"No such folder of images: {folder!r}.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder!r} is a file, not a folder of images.")
    entries = sorted(os.listdir(folder))
    top = [os.path.join(folder, e) for e in entries if is_image(e)]
    top = [p for p in top if os.path.isfile(p)]
    classes, empty = {}, []
    for entry in entries:
        path = os.path.join(folder, entry)
        if not entry.startswith(".") and os.path.isdir(path):
            images = _images_under(path)
            if images:
                classes[entry] = images
            else:
                empty.append(entry)
    if classes and empty:
        raise ValueError(
            f"The class folder(s) {empty} in {folder!r} hold no images, so those classes "
            "would silently vanish (and num_classes shrink): add their images, or move the "
            "empty folders out."
        )
    if not top and not classes:
        raise ValueError(
            f"Found no images in {folder!r} or its sub-folders; keras-gans reads "
            f"{', '.join(IMAGE_EXTENSIONS)} files."
        )
    if top and classes:
        raise ValueError(
            f"{folder!r} holds {len(top)} images directly and more in the sub-folders "
            f"{sorted(classes)}: put all images in class sub-folders (one per label) or "
            "all directly in the folder (unlabelled)."
        )
    if top:
        return top, None
    return [p for name in classes for p in classes[name]], list(classes)


def folder_labels(folder, paths, class_names) -> np.ndarray | None:
    """int32 class ids of `paths`: the class sub-folder each lies in (None without classes)."""
    if class_names is None:
        return None
    index = {name: i for i, name in enumerate(class_names)}
    parents = [os.path.relpath(p, os.fspath(folder)).split(os.sep)[0] for p in paths]
    return np.array([index[name] for name in parents], dtype="int32")


def image_files(folder, argument: str = "folder") -> list[str]:
    """The images directly inside `folder`, sorted by name (one translation domain).

    Raises:
        FileNotFoundError: no such folder.
        ValueError: the folder holds no images.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"`{argument}`: no folder {folder!r}.")
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder) if is_image(name))
    if not paths:
        raise ValueError(f"`{argument}`: {folder!r} holds no images (an empty domain).")
    return paths


def folder_geometry(paths, image_size=None, channels=None, *, strict: bool = True):
    """The `(height, width)` and channels to read `paths` at.

    Args:
        paths: the image files.
        image_size: the size to resize to; None: the images' own, which must
            be one size.
        channels: 1 or 3; None: 1 when every header looked at is greyscale.
        strict: read every header when `image_size` is None and stop at a file
            that cannot be read (whatever reads the whole folder now); False
            looks at up to `HEADER_SAMPLE` headers and passes over unreadable
            files (a stream skips them when their batch comes).

    Raises:
        ValueError: images of several sizes and no `image_size`, a file that
            cannot be read (strict), or `channels` other than 1 or 3.
    """
    from PIL import Image

    size = pixels.parse_image_size(image_size)
    every = strict and size is None
    looked_at = paths if every else paths[:: max(1, len(paths) // HEADER_SAMPLE)]
    sizes, modes = {}, set()
    for path in looked_at:
        try:
            with Image.open(path) as image:
                sizes.setdefault(image.size, path)
                modes.add(image.mode)
        except Exception as error:
            if strict:
                raise ValueError(f"Cannot read {path!r} as an image: {error}") from error
    if not sizes:
        raise ValueError(f"None of the {len(looked_at)} sampled files could be read as images.")
    if size is None:
        if len(sizes) > 1:
            examples = ", ".join(f"{w}x{h} ({os.path.basename(p)})" for (w, h), p in sizes.items())
            raise ValueError(
                f"The images have {len(sizes)} different sizes ({examples[:300]}); pass "
                "`image_size` (--image-size N on the command line) to resize them all."
            )
        ((width, height),) = sizes
        size = (height, width)
    channels = pixels.channels_of(modes) if channels is None else channels
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: {channels!r}")
    return size, channels


def read_images(paths, image_size, channels) -> np.ndarray:
    """Decodes every file into one uint8 `(N, height, width, channels)` array (threads overlap I/O).

    Raises:
        ValueError: naming the files that cannot be decoded (damaged or truncated).
    """
    height, width = image_size
    images = np.empty((len(paths), height, width, channels), dtype="uint8")
    bad = []

    def read(row):
        try:
            images[row] = pixels.decode_image(paths[row], image_size, channels)
        except Exception:
            bad.append(paths[row])

    with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
        for _ in pool.map(read, range(len(paths))):
            pass
    if bad:
        bad.sort()
        raise ValueError(
            f"{len(bad)} image file(s) cannot be decoded (damaged or truncated), e.g. {bad[0]!r}; "
            f"remove or replace {'it' if len(bad) == 1 else 'them'}: {bad[:5]}"
        )
    return images


def read_folder(folder, image_size=None, channels=None, max_images=None):
    """A folder read whole: `(images, labels, class_names)`, uint8 images.

    Args:
        folder: a folder of images, or of class sub-folders of images.
        image_size: resize to this (centre-cropped to its aspect ratio); None
            keeps the images' one size.
        channels: 1 or 3; None: 1 when every image is greyscale.
        max_images: read a seeded random sample of this many (in folder order).
    """
    paths, class_names = scan_folder(folder)
    labels = folder_labels(folder, paths, class_names)
    size, channels = folder_geometry(paths, image_size, channels, strict=True)
    if max_images is not None and max_images < len(paths):
        rows = np.sort(np.random.default_rng(0).choice(len(paths), max_images, replace=False))
        paths = [paths[row] for row in rows]
        labels = None if labels is None else labels[rows]
    return read_images(paths, size, channels), labels, class_names
