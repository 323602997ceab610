"""Feature extractors that map images in [-1, 1] to feature vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from keras_gans.utils.precision import global_policy

INCEPTION_SIZE = 299
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
FID_INCEPTION_SIZE = 299
RESIZE_MODES = ("bilinear", "clean")
_RANGE_TOLERANCE = 1e-3
_BUILT: dict[tuple[str, Any], FeatureExtractor] = {}


class FeatureExtractor:
    """Wraps a model or callable that maps images in `[-1, 1]` to `(N, D)` features.

    Images are validated (rank 4, finite, values in `[-1, 1]`) and fed in
    batches; features come back as float64 numpy arrays.

    Args:
        fn: A `keras.Model` or a callable taking a float32 batch `(n, H, W, C)`
            and returning features `(n, D)` (any tensor type).
        name: Name used in cache keys and file names.
        preprocess: Optional callable applied to each validated batch before
            `fn` (e.g. `preprocess_for_inception`).
        channels: Allowed channel counts, or `None` for any.
        identity: Optional text mixed into `fingerprint()`, e.g. the sha256
            of the weights file and the preprocessing settings.

    Example:

    ```python
    extractor = FeatureExtractor(my_model, name="my_features")
    features = extractor(images, batch_size=64)  # (N, D) float64
    ```
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        name: str | None = None,
        preprocess: Callable[[Any], Any] | None = None,
        channels: tuple[int, ...] | None = None,
        identity: str | None = None,
    ):
        if not callable(fn):
            raise TypeError(f"A feature extractor must be callable; got {fn!r}.")
        self.fn = fn
        self.preprocess = preprocess
        self.channels = channels
        self.identity = identity
        if name is None:
            if isinstance(fn, keras.Model):
                name = type(fn).__name__.lower()
            else:
                name = getattr(fn, "__qualname__", type(fn).__name__)
        self.name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)

    @property
    def model(self) -> keras.Model | None:
        """The wrapped `keras.Model`, if `fn` is one."""
        return self.fn if isinstance(self.fn, keras.Model) else None

    def fingerprint(self) -> str:
        """Returns a hex digest identifying the extractor and its weights.

        For a `keras.Model` it hashes each weight's shape, dtype and a strided
        sample of its values; for a plain callable, its module and qualified
        name (so changes inside it are not seen: name it yourself). The
        `identity` text, if any, is hashed too.

        Example:

        ```python
        key = get_feature_extractor(model).fingerprint()
        ```
        """
        digest = hashlib.sha256(self.name.encode())
        if self.identity is not None:
            digest.update(f"|identity={self.identity}|".encode())
        if self.model is not None:
            for weight in self.model.weights:
                value = np.asarray(keras.ops.convert_to_numpy(weight)).ravel()
                step = max(1, value.size // 256)
                digest.update(f"{tuple(weight.shape)}|{value.dtype.str}|".encode())
                digest.update(np.ascontiguousarray(value[::step][:256]).tobytes())
        else:
            module = getattr(self.fn, "__module__", "")
            qualname = getattr(self.fn, "__qualname__", type(self.fn).__qualname__)
            digest.update(f"{module}.{qualname}".encode())
        return digest.hexdigest()

    def iter_features(self, images: Any, batch_size: int = 50) -> Iterator[np.ndarray]:
        """Yields float64 feature batches for images or an iterable of batches.

        Args:
            images: Array `(N, H, W, C)` in `[-1, 1]`, or an iterable of such
                batches; an `(images, labels)` tuple yields its first element.
            batch_size: Images per extractor call.

        Example:

        ```python
        for features in extractor.iter_features(dataset, batch_size=64):
            ...
        ```
        """
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be positive, got {batch_size}.")
        full_seen = False
        for batch in _iter_batches(images, batch_size):
            batch = self._validate(batch)
            n = batch.shape[0]
            padded = batch
            if full_seen and n < batch_size and self.model is not None:
                # Pad the last batch so a compiled predict function is reused.
                pad = np.repeat(batch[-1:], batch_size - n, axis=0)
                padded = np.concatenate([batch, pad])
            full_seen = full_seen or n == batch_size
            features = self._call(padded)[:n]
            yield features

    def __call__(self, images: Any, batch_size: int = 50) -> np.ndarray:
        """Returns the float64 features `(N, D)` of all images."""
        chunks = list(self.iter_features(images, batch_size=batch_size))
        if not chunks:
            raise ValueError("No images were given.")
        return np.concatenate(chunks)

    def _call(self, batch: np.ndarray) -> np.ndarray:
        x = self.preprocess(batch) if self.preprocess is not None else batch
        if self.model is not None:
            out = self.model.predict_on_batch(x)
        else:
            out = self.fn(x)
        if isinstance(out, (list, tuple)):
            raise ValueError(
                f"The feature extractor {self.name!r} returned {len(out)} outputs; "
                "it must return one (N, D) array."
            )
        features = _to_numpy(out).astype("float64")
        if features.ndim != 2 or features.shape[0] != batch.shape[0]:
            raise ValueError(
                f"The feature extractor {self.name!r} must map {batch.shape[0]} "
                f"images to an ({batch.shape[0]}, D) array; got shape "
                f"{features.shape}. Add pooling or flatten its output."
            )
        return features

    def _validate(self, batch: Any) -> np.ndarray:
        return validate_images(batch, channels=self.channels)

    def __repr__(self) -> str:
        return f"FeatureExtractor(name={self.name!r})"


def validate_images(images: Any, channels: tuple[int, ...] | None = None) -> np.ndarray:
    """Checks that images are a finite `(N, H, W, C)` batch in `[-1, 1]`.

    Args:
        images: Array-like batch.
        channels: Allowed channel counts, or `None` for any.

    Returns:
        The images as a float32 numpy array.

    Example:

    ```python
    x = validate_images(x_train.astype("float32") / 127.5 - 1.0)
    ```
    """
    x = _to_numpy(images)
    if x.ndim != 4:
        raise ValueError(
            "Expected a batch of images of shape (N, H, W, C); got shape "
            f"{x.shape}. Add a channel axis to grayscale images, e.g. x[..., None]."
        )
    if channels is not None and x.shape[-1] not in channels:
        raise ValueError(
            f"Expected images with {' or '.join(map(str, channels))} channels "
            f"(channels last); got shape {x.shape}."
        )
    x = x.astype("float32", copy=False)
    if x.size:
        if not np.isfinite(x).all():
            raise ValueError("Images contain NaN or infinite values.")
        low, high = float(x.min()), float(x.max())
        if low < -1.0 - _RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
            raise ValueError(
                f"Expected images with values in [-1, 1]; got values in "
                f"[{low:.4g}, {high:.4g}]. Scale uint8 images with "
                "`x / 127.5 - 1` and [0, 1] images with `x * 2 - 1`."
            )
    return x


def _to_numpy(x: Any) -> np.ndarray:
    if keras.ops.is_tensor(x):
        return np.asarray(keras.ops.convert_to_numpy(x))
    return np.asarray(x)


def _iter_batches(images: Any, batch_size: int) -> Iterator[Any]:
    if hasattr(images, "shape") and hasattr(images, "__getitem__"):
        images = _to_numpy(images)
        if images.ndim != 4:
            validate_images(images)  # Raises the rank error.
        for start in range(0, images.shape[0], batch_size):
            yield images[start : start + batch_size]
        return
    try:
        iterator = iter(images)
    except TypeError:
        raise TypeError(
            "Expected an array of images or an iterable of image batches; got "
            f"{type(images).__name__}."
        ) from None
    for item in iterator:
        if isinstance(item, (tuple, list)):
            item = item[0]
        if isinstance(item, dict):
            raise TypeError("Batches must be image arrays or (images, labels) tuples; got a dict.")
        item = _to_numpy(item)
        if item.ndim != 4:
            validate_images(item)
        for start in range(0, item.shape[0], batch_size):
            yield item[start : start + batch_size]


def preprocess_for_inception(images: Any) -> Any:
    """Maps images in `[-1, 1]` to InceptionV3's input: 299x299 RGB in `[-1, 1]`.

    Grayscale images are repeated to 3 channels and resized bilinearly (with
    antialiasing when shrinking) to 299x299. Keras' InceptionV3 expects
    `keras.applications.inception_v3.preprocess_input` applied to pixels in
    `[0, 255]`, which maps them to `[-1, 1]` (`x / 127.5 - 1`); the images are
    mapped back to `[0, 255]` and passed through it, so the result is in the
    model's range whatever that function does.

    Args:
        images: Array `(N, H, W, C)`, `C` in `{1, 3}`, values in `[-1, 1]`.

    Returns:
        A backend float32 tensor `(N, 299, 299, 3)` with values in `[-1, 1]`.

    Example:

    ```python
    x = preprocess_for_inception(np.zeros((2, 28, 28, 1), "float32"))
    x.shape  # (2, 299, 299, 3)
    ```
    """
    x = validate_images(images, channels=(1, 3))
    x = keras.ops.convert_to_tensor(np.clip(x, -1.0, 1.0), dtype="float32")
    if x.shape[-1] == 1:
        x = keras.ops.repeat(x, 3, axis=-1)
    if tuple(x.shape[1:3]) != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = keras.ops.image.resize(
            x,
            (INCEPTION_SIZE, INCEPTION_SIZE),
            interpolation="bilinear",
            antialias=True,
            data_format="channels_last",
        )
    x = (x + 1.0) * 127.5
    x = keras.applications.inception_v3.preprocess_input(x, data_format="channels_last")
    x = keras.ops.clip(x, -1.0, 1.0)
    if keras.backend.image_data_format() == "channels_first":
        x = keras.ops.transpose(x, (0, 3, 1, 2))
    return x


def _pil_bicubic_matrix(in_size: int, out_size: int) -> np.ndarray:
    """PIL's `Image.resize(..., BICUBIC)` weights (antialiased, a = -0.5) as a matrix."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    matrix = np.zeros((out_size, in_size))
    for out in range(out_size):
        center = (out + 0.5) * scale
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        x = np.abs((np.arange(low, high) - center + 0.5) / filterscale)
        w = np.where(x < 1, (1.5 * x - 2.5) * x * x + 1, (((x - 5) * x + 8) * x - 4) * -0.5)
        w = np.where(x < 2, w, 0.0)
        matrix[out, low:high] = w / w.sum() if w.sum() else w
    return matrix


def preprocess_for_fid_inception(images: Any, resize: str = "bilinear") -> Any:
    """Maps images in `[-1, 1]` to the FID Inception input: `(N, 299, 299, 3)`.

    Gray images are repeated to 3 channels. With `resize="bilinear"` images
    are resized as pytorch-fid does, `F.interpolate(mode="bilinear",
    align_corners=False)` without antialiasing, which is what
    `keras.ops.image.resize(..., antialias=False)` computes on every backend
    (pytorch-fid's `2 * x - 1` input scaling is already done: our images are in
    `[-1, 1]`). With `resize="clean"`, as clean-fid does: PIL's float bicubic
    resize (antialiased when shrinking), clipped to the input range.

    Args:
        images: Array `(N, H, W, C)`, `C` in `{1, 3}`, values in `[-1, 1]`.
        resize: `"bilinear"` (pytorch-fid) or `"clean"` (clean-fid).

    Returns:
        A backend float32 tensor `(N, 299, 299, 3)`, channels last.

    Example:

    ```python
    x = preprocess_for_fid_inception(np.zeros((2, 32, 32, 3), "float32"))
    ```
    """
    if resize not in RESIZE_MODES:
        raise ValueError(f"`resize` must be one of {RESIZE_MODES}; got {resize!r}.")
    x = np.clip(validate_images(images, channels=(1, 3)), -1.0, 1.0)
    x = keras.ops.convert_to_tensor(x, dtype="float32")
    if x.shape[-1] == 1:
        x = keras.ops.repeat(x, 3, axis=-1)
    size = (FID_INCEPTION_SIZE, FID_INCEPTION_SIZE)
    if tuple(x.shape[1:3]) == size:
        return x
    if resize == "bilinear":
        return keras.ops.image.resize(
            x, size, interpolation="bilinear", antialias=False, data_format="channels_last"
        )
    rows = keras.ops.convert_to_tensor(_pil_bicubic_matrix(x.shape[1], size[0]), "float32")
    cols = keras.ops.convert_to_tensor(_pil_bicubic_matrix(x.shape[2], size[1]), "float32")
    x = keras.ops.einsum("pw,nhwc->nhpc", cols, x)  # PIL resizes rows first.
    x = keras.ops.einsum("oh,nhpc->nopc", rows, x)
    return keras.ops.clip(x, -1.0, 1.0)


def build_inception_v3(weights: str | None = "imagenet") -> FeatureExtractor:
    """Builds Keras' ImageNet InceptionV3 pool3 (2048-d) feature extractor.

    This is `keras.applications.InceptionV3(include_top=False, pooling="avg")`
    (registered as `"inception_v3_imagenet"`), not the TF FID graph, so its
    values are comparable with each other but not with published FIDs: use
    `"fid_inception"` (`fid_inception_v3`) for those.

    Args:
        weights: `"imagenet"` (downloaded once to `~/.keras/models/`), a path
            to a weights file, or `None` / `"random"` for random weights
            (tests only).

    Example:

    ```python
    extractor = build_inception_v3()
    features = extractor(images)  # (N, 2048)
    ```
    """
    weights = None if weights == "random" else weights
    try:
        model = keras.applications.InceptionV3(
            include_top=False,
            pooling="avg",
            weights=weights,
            input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3)
            if keras.backend.image_data_format() == "channels_last"
            else (3, INCEPTION_SIZE, INCEPTION_SIZE),
        )
    except Exception as error:
        if weights != "imagenet":
            raise
        raise RuntimeError(
            "Could not get the InceptionV3 ImageNet weights (no internet?). "
            f"Offline, copy `{INCEPTION_WEIGHTS_FILE}` (from "
            "https://storage.googleapis.com/tensorflow/keras-applications/"
            "inception_v3/) into `~/.keras/models/`, or pass its path with "
            "`get_feature_extractor('inception_v3_imagenet', weights='/path/to/file.h5')`, "
            "or use your own feature extractor: any keras.Model or callable "
            "mapping images in [-1, 1] to (N, D) features. "
            f"Original error: {error}"
        ) from error
    return FeatureExtractor(
        model,
        name="inception_v3_imagenet",
        preprocess=preprocess_for_inception,
        channels=(1, 3),
    )


# Name -> builder(weights=...). Modules defining an extractor register it on import
# (`fid_inception.py`, `digits_classifier.py`); `keras_gans.metrics` imports them all.
EXTRACTORS: dict[str, Callable[..., FeatureExtractor]] = {
    "inception_v3_imagenet": build_inception_v3,
}
RENAMED_EXTRACTORS = {
    "inception_v3": (
        "The feature extractor 'inception_v3' was renamed: use 'fid_inception' "
        "(pytorch-fid's FID Inception, comparable with published FIDs) or "
        "'inception_v3_imagenet' (Keras' ImageNet InceptionV3, the former 'inception_v3')."
    ),
}
DEFAULT_WEIGHTS = "default"


def register_extractor(name: str, builder: Callable[..., FeatureExtractor]) -> None:
    """Makes `get_feature_extractor(name)` build with `builder(weights=...)`.

    Args:
        name: the extractor's name, as recipes and `FrechetDistance` give it.
        builder: returns a `FeatureExtractor`; called without arguments for the
            default weights, else with `weights=`.
    """
    EXTRACTORS[name] = builder


def get_feature_extractor(
    extractor: str | FeatureExtractor | keras.Model | Callable[[Any], Any],
    weights: str | None = DEFAULT_WEIGHTS,
    name: str | None = None,
) -> FeatureExtractor:
    """Returns a `FeatureExtractor` from a registered name, model or callable.

    Named extractors are built once per `(name, weights)` and reused:

    - `"fid_inception"`: pytorch-fid's FID Inception (`fid_inception_v3`),
      the network behind published FIDs.
    - `"inception_v3_imagenet"`: Keras' ImageNet InceptionV3
      (`build_inception_v3`); its FIDs are not comparable with published ones.

    Args:
        extractor: A registered name, a `FeatureExtractor` (returned as is),
            a `keras.Model` or a callable mapping images in `[-1, 1]` to
            `(N, D)` features.
        weights: Weights of a named extractor: `"default"` (its pretrained
            weights), `"random"`, or what its builder accepts (a file path;
            `"imagenet"` for `"inception_v3_imagenet"`).
        name: Name of a wrapped model or callable (used in cache keys).

    Example:

    ```python
    extractor = get_feature_extractor("fid_inception")
    encoder = keras.Model(classifier.input, classifier.layers[-2].output)
    extractor = get_feature_extractor(encoder, name="mnist_classifier")
    ```
    """
    if isinstance(extractor, FeatureExtractor):
        return extractor
    if isinstance(extractor, str):
        if extractor in RENAMED_EXTRACTORS:
            raise ValueError(RENAMED_EXTRACTORS[extractor])
        if extractor not in EXTRACTORS:
            raise ValueError(
                f"Unknown feature extractor {extractor!r}; choose one of "
                f"{sorted(EXTRACTORS)} or pass a keras.Model or callable."
            )
        key = (extractor, weights)
        if key not in _BUILT:
            builder = EXTRACTORS[extractor]
            # float32 under any global policy: a metric's protocol includes its arithmetic.
            with global_policy("float32"):
                _BUILT[key] = builder() if weights == DEFAULT_WEIGHTS else builder(weights=weights)
        return _BUILT[key]
    return FeatureExtractor(extractor, name=name)
