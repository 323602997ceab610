"""What the families with a mapping network share: ws, style mixing and projection.

`MappedStylesMixin` is mixed into `StyleGAN2` and `StyleGAN3`; it relies on the
model's `sampling_generator` (with `"mapping"` and `"synthesis"` layers), `w_avg`,
`num_ws`, `w_dim` and the class's own `_synthesize(ws, noise_mode, **options)`.
"""

import numpy as np
from keras import ops

from keras_gans.networks.synthesis import NOISE_MODES


class MappedStylesMixin:
    """`latents_to_ws`, `ws_to_images`, `mix_styles` and `project` for a mapped generator."""

    @classmethod
    def _from_converted(cls, converter, path_or_url, cache_dir, overrides, defaults=()):
        """A model built and loaded from `converter.read(path_or_url)` (what `from_nvlabs` does).

        `converter` is `keras_gans.convert.stylegan2` or `.stylegan3`; `overrides` may hold
        training options only, `defaults` are training options the conversion prefers.
        """
        fixed = sorted(set(overrides) & set(converter.ARCHITECTURE_OPTIONS))
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)} come from the pickle and cannot be overridden; "
                f"`{cls.__name__}.from_nvlabs` takes training options (r1_gamma, ada_target, "
                "ema_decay, ...)."
            )
        converted = converter.read(path_or_url, cache_dir=cache_dir)
        model = cls(**{**converted.options, **dict(defaults), **overrides})
        converted.load_into(model)
        return model

    def _check_sampling(self, truncation_cutoff, noise_mode):
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"`noise_mode` must be one of {NOISE_MODES}. Received: {noise_mode!r}")
        if truncation_cutoff is not None and (
            isinstance(truncation_cutoff, bool) or int(truncation_cutoff) != truncation_cutoff
            or truncation_cutoff < 0
        ):  # fmt: skip
            raise ValueError(
                f"`truncation_cutoff` must be None or an integer >= 0 (the number of leading "
                f"ws truncated, of {self.num_ws}). Received: {truncation_cutoff!r}"
            )

    def _ws(self, inputs, truncation_psi, truncation_cutoff):
        """The sampling generator's ws `(batch, num_ws, w_dim)` for `inputs`, truncated."""
        w = self.sampling_generator.get_layer("mapping")(inputs, training=False)
        ws = ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)
        if float(truncation_psi) != 1.0:
            # w' = w_avg + psi (w - w_avg): trade variety for typicality
            truncated = self.w_avg + float(truncation_psi) * (ws - self.w_avg)
            cutoff = self.num_ws if truncation_cutoff is None else int(truncation_cutoff)
            first = ops.arange(self.num_ws)[None, :, None] < cutoff
            ws = ops.where(first, truncated, ws)  # only the first `cutoff` ws
        return ws

    def latents_to_ws(self, latent, labels=None, truncation_psi=1.0, truncation_cutoff=None):
        """Maps latent vectors (and labels) to the ws of the sampling generator.

        Args:
            latent: `(n, latent_dim)` latent vectors.
            labels: class ids, one per vector (conditional models).
            truncation_psi, truncation_cutoff: as in `generate`.

        Returns:
            float32 NumPy array `(n, num_ws, w_dim)`; `ws_to_images` turns it into images.

        Example:

        ```python
        ws = gan.latents_to_ws(gan.sample_latent(2, seed=0), truncation_psi=0.7)
        halfway = gan.ws_to_images((ws[:1] + ws[1:]) / 2)
        ```
        """
        self._check_sampling(truncation_cutoff, "const")
        latent, labels = self._resolve_generate_inputs(None, labels, None, latent)
        self._sync_training_state()
        inputs = latent if labels is None else [latent, labels]
        ws = self._ws(inputs, truncation_psi, truncation_cutoff)
        return ops.convert_to_numpy(ws).astype("float32")

    def ws_to_images(self, ws, noise_mode="const", batch_size=64, **synthesis_options):
        """Images of the sampling generator for ws `(n, num_ws, w_dim)`, clipped to [-1, 1].

        Args:
            ws: from `latents_to_ws` (or a projection's `"ws"`).
            noise_mode: `"const"`, `"random"` or `"none"`.
            batch_size: ws per synthesis call.
            **synthesis_options: StyleGAN3's `translate=(tx, ty)` and `rotate=degrees`.
        """
        self._check_sampling(None, noise_mode)
        ws = np.asarray(ws, dtype="float32")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(
                f"`ws` must have shape (n, {self.num_ws}, {self.w_dim}); received {ws.shape}."
            )
        self._sync_training_state()
        batches = [
            np.clip(ops.convert_to_numpy(
                self._synthesize(ws[i : i + batch_size], noise_mode, **synthesis_options)
            ), -1.0, 1.0)
            for i in range(0, len(ws), batch_size)
        ]  # fmt: skip
        return np.concatenate(batches).astype("float32")

    def mix_styles(self, row_seeds, col_seeds, layers=None, labels=None, truncation_psi=1.0,
                   noise_mode="const"):  # fmt: skip
        """The style-mixing grid: row images with the `layers` ws of column images.

        As NVIDIA's `style_mixing.py`: image `(i, j)` is row seed i's ws with the ws at
        `layers` taken from column seed j. Coarse layers (0-3) carry pose and shape,
        middle ones (4-7) features, fine ones colour.

        Args:
            row_seeds, col_seeds: seeds (as `generate(seed=...)`) of the rows and columns.
            layers: indices of the ws taken from the column (default 0-6, NVIDIA's).
            labels: one class id for every image of a conditional model.
            truncation_psi, noise_mode: as in `generate`.

        Returns:
            float32 array `(rows, cols, H, W, C)` in [-1, 1]. Row and column images
            themselves are `generate(seed=s)`.

        Example:

        ```python
        grid = gan.mix_styles([1, 2], [10, 11, 12], layers=range(4))   # (2, 3, H, W, C)
        ```
        """
        rows, cols = [int(s) for s in row_seeds], [int(s) for s in col_seeds]
        if not rows or not cols:
            raise ValueError("`row_seeds` and `col_seeds` each need at least one seed.")
        layers = list(range(min(7, self.num_ws)) if layers is None else layers)
        if not layers or min(layers) < 0 or max(layers) >= self.num_ws:
            raise ValueError(f"`layers` must be indices in [0, {self.num_ws}); received {layers}.")
        latent = np.concatenate([self.sample_latent(1, seed) for seed in rows + cols])
        if self.num_classes is not None:
            labels = [0 if labels is None else int(labels)] * len(latent)
        ws = self.latents_to_ws(latent, labels, truncation_psi)
        row_ws, col_ws = ws[: len(rows)], ws[len(rows) :]
        mixed = np.repeat(row_ws[:, None], len(cols), axis=1)  # (rows, cols, num_ws, w_dim)
        mixed[:, :, layers] = col_ws[None, :, layers]
        images = self.ws_to_images(mixed.reshape(-1, self.num_ws, self.w_dim), noise_mode)
        return images.reshape(len(rows), len(cols), *self.image_shape)

    def project(self, images, steps=1000, features=None, labels=None, progress=None, **options):
        """Projects images into this generator: `{"ws", "images", "distance"}` per image.

        NVIDIA's `projector.py` (w-space optimisation with noise regularisation and a
        ramped learning rate); see `keras_gans.models.projection.project` for every option.

        Args:
            images: `(n, H, W, C)` in [-1, 1] at this model's image shape.
            steps: optimisation steps per image (1000).
            features: None for pixels, or a feature network such as LPIPS-VGG16
                (`keras_gans.convert.lpips.lpips_vgg16`).
            labels: the class of a conditional model's images.
            progress: `progress(image_index, step, steps, loss)`, called every step.
            **options: NVIDIA's projector settings (`initial_learning_rate`, ...).

        Example:

        ```python
        result = gan.project(photo[None], steps=300)
        gan.ws_to_images(result["ws"])           # with the model's own noise maps
        ```
        """
        from keras_gans.models.projection import project

        return project(self, images, steps, features, labels, progress=progress, **options)
