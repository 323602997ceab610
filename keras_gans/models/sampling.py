"""What every keras-gans model offers for sampling: an EMA generator, `generate`, `export`.

`SamplingMixin` is mixed into `BaseGAN`; it relies on `generator`, `latent_dim`
and `_resolve_generate_inputs` (which conditional models override to take labels).
"""

import keras
import numpy as np
from keras import ops

_BACKEND = keras.backend.backend()


def forward(network, inputs, batch_size=None):
    """`network(inputs)` in inference mode as NumPy; on JAX one jitted call of a fixed shape.

    Op-by-op eager JAX dispatches every layer separately (a 64x64 DCGAN took over a
    second per image on 2 CPU cores); `predict_on_batch` compiles the network once per
    batch shape, so the last, shorter batch is padded to `batch_size`.
    """
    if _BACKEND != "jax":
        return ops.convert_to_numpy(network(inputs, training=False))
    arrays = inputs if isinstance(inputs, list) else [inputs]
    count = len(arrays[0])
    pad = max(0, (batch_size or count) - count)
    if pad:
        arrays = [np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]) for a in arrays]
    output = network.predict_on_batch(arrays if isinstance(inputs, list) else arrays[0])
    return np.asarray(output)[:count]


class SamplingMixin:
    """EMA generator, latent sampling, `generate` and `export` for a GAN model."""

    @property
    def sampling_generator(self):
        """The generator `generate()` samples with (the EMA copy when one is kept)."""
        return self.ema_generator or self.generator

    def enable_ema(self, decay=0.999):
        """Keeps an exponential moving average of the generator for sampling.

        The average is a copy of the generator, updated after every
        generator update as `ema = d * ema + (1 - d) * weights` with the
        usual warm-up `d = min(decay, (1 + step) / (10 + step))`. It is part
        of the model's state: saved, loaded and carried through jitted steps.
        `generate()`, image grids and FID use it once enabled.

        Args:
            decay: the long-run decay, in (0, 1).

        Example:

        ```python
        gan = keras_gans.DCGAN(ema_decay=0.999)   # or gan.enable_ema(0.999)
        ```
        """
        if not 0.0 < float(decay) < 1.0:
            raise ValueError(f"`decay` must be in (0, 1). Received: {decay!r}")
        self.ema_decay = float(decay)
        if self.ema_generator is None:
            ema = keras.models.clone_model(self.generator)
            ema.set_weights(self.generator.get_weights())
            ema.trainable = False
            self.ema_generator = ema
            # A compiled step traced without the EMA must be traced again.
            self.train_function = None

    def _update_ema(self):
        step = ops.cast(self.optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        if not getattr(self, "ema_warmup", True):  # a pretrained EMA continues as it is
            decay = ops.convert_to_tensor(self.ema_decay, "float32")
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            weight = ops.stop_gradient(ops.cast(weight, average.dtype))
            average.assign(weight + ops.cast(decay, average.dtype) * (average - weight))

    def _sync_training_state(self):
        """On JAX, writes the in-flight training state back into the variables."""
        if _BACKEND == "jax" and getattr(self, "_jax_state", None):
            self.jax_state_sync()

    def sample_latent(self, num_images, seed=None):
        """Draws `num_images` latent vectors as a NumPy array.

        Noise comes from NumPy so that the same `seed` gives the same latent
        vectors on every backend. With `seed=None` it comes from NumPy's
        global generator, which `keras.utils.set_random_seed` seeds.
        """
        rng = np.random if seed is None else np.random.default_rng(seed)
        return rng.standard_normal((int(num_images), self.latent_dim)).astype("float32")

    def _check_latent(self, latent):
        latent = np.asarray(latent, dtype="float32")
        if latent.ndim != 2 or latent.shape[1] != self.latent_dim:
            raise ValueError(
                f"`latent` must have shape (num_images, {self.latent_dim}) for "
                f"latent_dim={self.latent_dim}; received shape {latent.shape}."
            )
        return latent

    def _resolve_generate_inputs(self, num_images, labels, seed, latent):
        if labels is not None:
            raise ValueError(
                "`labels` were given but this model is unconditional; use "
                "keras_gans.ConditionalGAN for class-conditional sampling."
            )
        if latent is not None:
            latent = self._check_latent(latent)
        else:
            if num_images is None or int(num_images) < 1:
                raise ValueError(
                    f"`num_images` must be a positive integer. Received: {num_images!r}"
                )
            latent = self.sample_latent(num_images, seed)
        return latent, None

    def generate(self, num_images=None, labels=None, seed=None, latent=None, batch_size=256):
        """Generates images with the (EMA, when kept) generator.

        Args:
            num_images: how many images; ignored when `latent` is given.
            labels: class ids, one per image (conditional models only).
            seed: integer seed of the latent noise; the same seed gives the
                same images on every backend.
            latent: explicit latent vectors, shape `(num_images, latent_dim)`.
            batch_size: images per generator call.

        Returns:
            float32 NumPy array `(num_images,) + image_shape` in [-1, 1].

        Example:

        ```python
        images = gan.generate(16, seed=0)
        ```
        """
        generator = self.sampling_generator

        def sample_batch(inputs, size):
            return forward(generator, inputs, size)

        return self._generate_in_batches(num_images, labels, seed, latent, batch_size,
                                         sample_batch)  # fmt: skip

    def _generate_in_batches(self, num_images, labels, seed, latent, batch_size, sample_batch):
        """`generate`'s argument checks and batch loop; `sample_batch(inputs, size)` -> images."""
        if num_images is not None and np.ndim(num_images) > 0:
            if latent is not None:
                raise ValueError("Give the latent vectors once: as `latent=` or positionally.")
            latent, num_images = num_images, None  # generate(latent_array)
        if num_images is not None and (
            isinstance(num_images, bool) or not float(num_images).is_integer()
        ):
            raise ValueError(f"`num_images` must be a positive integer. Received: {num_images!r}")
        if isinstance(batch_size, bool) or not float(batch_size).is_integer() or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
        latent, labels = self._resolve_generate_inputs(num_images, labels, seed, latent)
        self._sync_training_state()
        batch_size = min(int(batch_size), len(latent))
        batches = []
        for start in range(0, len(latent), batch_size):
            inputs = latent[start : start + batch_size]
            if labels is not None:
                inputs = [inputs, labels[start : start + batch_size]]
            batches.append(np.asarray(sample_batch(inputs, batch_size)))
        return np.concatenate(batches).astype("float32")

    def export(self, filepath, format="tf_saved_model", **kwargs):
        """Exports the generator (the EMA copy when kept) for serving.

        Uses Keras' own `Model.export` (see `keras_gans.models.exporting` for which
        backend writes which format). The exported function maps latent vectors (and
        labels, for conditional models) to the generator's images: the same as
        `generate` before its clipping to [-1, 1] (StyleGAN2: `truncation_psi=1`,
        constant noise).

        Args:
            filepath: where to write the artifact.
            format: `"onnx"`, `"tf_saved_model"`, `"litert"`, `"torch"` or `"openvino"`.
            **kwargs: passed on to `keras.Model.export`.

        Example:

        ```python
        gan.export("generator.onnx", format="onnx")
        session = onnxruntime.InferenceSession("generator.onnx")
        images = session.run(None, {"latent": gan.sample_latent(4, seed=0)})[0]
        ```
        """
        from keras_gans.models.exporting import example_generator_inputs, export_network

        self._sync_training_state()
        return export_network(
            self.sampling_generator, example_generator_inputs(self), filepath, format, **kwargs
        )
