"""StyleGAN2 (Karras et al., 2020), NVIDIA's architecture, with ADA and classes, on every backend.

`StyleGAN2.from_nvlabs` converts NVIDIA's published StyleGAN2-ADA network pickles
(`keras_gans.convert`), which then sample, fine-tune and push like any model.
"""

import keras
import numpy as np
from keras import ops

from keras_gans.models.sampling import forward
from keras_gans.models.style_family import StyleFamilyGAN
from keras_gans.networks import stylegan2 as networks
from keras_gans.networks.synthesis import NOISE_MODES
from keras_gans.objective import stylegan2 as objective


def lazy_adam(learning_rate, interval, beta_2=0.99):
    """Adam(lr, 0, 0.99) rescaled for a penalty run every `interval` steps (StyleGAN2's mb_ratio).

    With `c = interval / (interval + 1)`: lr * c, beta_1 ** c, beta_2 ** c; `interval=0`: none.
    """
    c = interval / (interval + 1) if interval else 1.0
    return keras.optimizers.Adam(learning_rate * c, beta_1=0.0, beta_2=beta_2**c, epsilon=1e-8)


@keras.saving.register_keras_serializable(package="keras_gans")
class StyleGAN2(StyleFamilyGAN):
    """StyleGAN2 with lazy R1, path-length regularisation, style mixing and truncation.

    Args:
        image_shape: `(height, width, channels)`, 1 or 3 channels, sides from 32 to 256
            (or more) that take the same number of 2x steps (32x64 starts at 4x8).
        latent_dim: size of z (512 in the paper).
        w_dim: size of w; default `latent_dim`.
        mapping_layers: dense layers of the mapping network (8; 2 for CIFAR-10 in ADA).
        channel_base, channel_max: feature maps at resolution r are
            `min(channel_base / r, channel_max)` (16384 and 512 at 32x32 in ADA's CIFAR setup).
        num_classes: class-conditional (label embedding into the mapping network and a
            projection discriminator) when set.
        mbstd_group_size: minibatch standard-deviation group size (4).
        r1_gamma, r1_interval: R1 weight and lazy interval (16).
        pl_weight, pl_interval, pl_batch_shrink, pl_decay: path-length regularisation.
        style_mixing_prob: probability of mixing two ws in a batch (0.9).
        w_avg_beta: decay of the tracked w average used for truncation.
        ada_target, ada_kimg: adaptive augmentation (None: off; 0.6 in the paper).
        ema_decay: decay of the generator average sampled by `generate` (default 0.999).
        ema_warmup: ramp the EMA decay up over the first steps (`min(decay, (1 + t) /
            (10 + t))`); a fine-tuned pretrained model continues from its EMA without it.
        architecture, d_architecture: `"skip"` / `"resnet"` (NVIDIA's defaults), or
            `"orig"`, `"skip"`, `"resnet"` for either network.
        conv_clamp: clamp convolution outputs to +-`conv_clamp` (256, as NVIDIA trains).
        d_conv_clamp: the discriminator's clamp when it differs (`"same"`: `conv_clamp`).
        resample_filter: FIR taps of the resampling filters ((1, 3, 3, 1)).
        num_fp16_res: under a mixed-precision policy, only the blocks of this many highest
            resolutions compute in half precision (NVIDIA's 4); None: every layer follows
            the policy. Without a mixed policy everything is float32.
        mbstd_num_channels: features of the minibatch standard deviation (1).
        d_mapping_layers, cmap_dim: the conditional discriminator's label mapping (default
            `mapping_layers` dense layers to the 4x4 width).
        mapping_lr_multiplier: learning-rate multiplier of the mapping network (0.01).
        mapping_embed_features, mapping_layer_features: the generator's label-embedding
            and hidden mapping widths (default `w_dim`).
        pretrained_source: where converted weights came from (set by `from_nvlabs`; the
            model card names its URL and license).
        **kwargs: `seed`, `augment` (DiffAugment), `d_steps`; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.StyleGAN2(image_shape=(32, 32, 3), latent_dim=512, ada_target=0.6)
    gan.compile()
    gan.fit(images, batch_size=64, epochs=100)
    gan.generate(16, seed=0, truncation_psi=0.7)

    ffhq = keras_gans.StyleGAN2.from_nvlabs("nvlabs:ffhq")       # NVIDIA's FFHQ 1024x1024
    ```
    """

    SAMPLING_OPTIONS = ("truncation_psi", "truncation_cutoff", "noise_mode")

    def __init__(self, image_shape=(32, 32, 3), latent_dim=512, w_dim=None, mapping_layers=8,
                 channel_base=16384, channel_max=512, num_classes=None, mbstd_group_size=4,
                 r1_gamma=10.0, r1_interval=16, pl_weight=2.0, pl_interval=4, pl_batch_shrink=2,
                 pl_decay=0.01, style_mixing_prob=0.9, w_avg_beta=0.995, ema_decay=0.999,
                 ema_warmup=True, architecture="skip", d_architecture="resnet", conv_clamp=256,
                 d_conv_clamp="same",
                 resample_filter=(1, 3, 3, 1), num_fp16_res=None, mbstd_num_channels=1,
                 d_mapping_layers=None, cmap_dim=None, mapping_lr_multiplier=0.01,
                 mapping_embed_features=None, mapping_layer_features=None,
                 pretrained_source=None, generator=None, discriminator=None,
                 **kwargs):  # fmt: skip
        kwargs.pop("loss", None)  # the non-saturating loss is built in
        image_shape = tuple(int(d) for d in image_shape)
        self.w_dim = int(w_dim or latent_dim)
        self.mapping_layers = int(mapping_layers)
        self.channel_base, self.channel_max = int(channel_base), int(channel_max)
        self.mbstd_group_size = None if mbstd_group_size is None else int(mbstd_group_size)
        self.architecture, self.d_architecture = architecture, d_architecture
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        if d_conv_clamp == "same":
            d_conv_clamp = self.conv_clamp
        self.d_conv_clamp = None if d_conv_clamp is None else float(d_conv_clamp)
        self.resample_filter = tuple(float(t) for t in resample_filter)
        self.num_fp16_res = None if num_fp16_res is None else int(num_fp16_res)
        self.mbstd_num_channels = int(mbstd_num_channels)
        self.d_mapping_layers = int(d_mapping_layers or mapping_layers)
        self.cmap_dim = None if cmap_dim is None else int(cmap_dim)
        self.mapping_lr_multiplier = float(mapping_lr_multiplier)
        self.mapping_embed_features = mapping_embed_features and int(mapping_embed_features)
        self.mapping_layer_features = mapping_layer_features and int(mapping_layer_features)
        self.pretrained_source = dict(pretrained_source) if pretrained_source else None
        self.ema_warmup = bool(ema_warmup)
        common = dict(conv_clamp=self.conv_clamp, resample_filter=self.resample_filter,
                      num_fp16_res=self.num_fp16_res)  # fmt: skip
        if generator is None:
            generator = networks.stylegan2_generator(
                latent_dim, image_shape, self.w_dim, self.mapping_layers, self.channel_base,
                self.channel_max, num_classes, architecture=architecture,
                mapping_lr_multiplier=self.mapping_lr_multiplier,
                mapping_embed_features=self.mapping_embed_features,
                mapping_layer_features=self.mapping_layer_features, **common,
            )  # fmt: skip
        if discriminator is None:
            discriminator = networks.stylegan2_discriminator(
                image_shape, self.channel_base, self.channel_max, self.mbstd_group_size,
                num_classes, architecture=d_architecture,
                mbstd_num_channels=self.mbstd_num_channels, mapping_layers=self.d_mapping_layers,
                cmap_dim=self.cmap_dim, **{**common, "conv_clamp": self.d_conv_clamp},
            )  # fmt: skip
        super().__init__(generator, discriminator, latent_dim, num_classes=num_classes,
                         ema_decay=ema_decay, **kwargs)  # fmt: skip
        for name, value in (("r1_gamma", r1_gamma), ("pl_weight", pl_weight)):
            if float(value) < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {value!r}")
        self.r1_gamma, self.r1_interval = float(r1_gamma), int(r1_interval)
        self.pl_weight, self.pl_interval = float(pl_weight), int(pl_interval)
        self.pl_batch_shrink, self.pl_decay = int(pl_batch_shrink), float(pl_decay)
        self.style_mixing_prob, self.w_avg_beta = float(style_mixing_prob), float(w_avg_beta)
        self.num_ws = networks.num_ws_for(self.image_shape)
        # Training state, saved with the model and restored by BackupAndRestore.
        self.w_avg = self._state("w_avg", (self.w_dim,))
        self.pl_mean = self._state("pl_mean")
        self.d_reg_step = self._state("d_reg_step")
        self.g_reg_step = self._state("g_reg_step")

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Defaults: Adam(0.0025, beta_1=0, beta_2=0.99) rescaled for each lazy interval."""
        d_optimizer = d_optimizer or lazy_adam(0.0025, self.r1_interval if self.r1_gamma else 0)
        g_optimizer = g_optimizer or lazy_adam(0.0025, self.pl_interval if self.pl_weight else 0)
        super().compile(d_optimizer, g_optimizer, **kwargs)

    def _gan_train_step(self, data):
        real_images, labels = self._unpack_batch(data)
        batch_size = ops.shape(real_images)[0]
        for _ in range(self.d_steps):
            r1_mask = self._lazy_mask(self.d_reg_step, self.r1_interval)
            d_loss, (real_logits, fake_logits) = self._train_network(
                self.discriminator,
                self.d_optimizer,
                lambda mask=r1_mask: objective.stylegan2_discriminator_loss(
                    self, real_images, labels, mask
                ),
            )
            self.d_reg_step.assign_add(1.0)
            if self.ada is not None:
                self.ada.update(real_logits)
        pl_mask = self._lazy_mask(self.g_reg_step, self.pl_interval)
        g_loss, _ = self._train_network(
            self.generator,
            self.g_optimizer,
            lambda: objective.stylegan2_generator_loss(self, batch_size, labels, pl_mask),
        )
        self.g_reg_step.assign_add(1.0)
        return self._finish_step(d_loss, g_loss, real_logits, fake_logits)

    def _gan_test_step(self, data):
        real_images, labels = self._unpack_batch(data)
        d_loss, (real_logits, fake_logits) = objective.stylegan2_discriminator_loss(
            self, real_images, labels, 0.0
        )
        g_loss = ops.mean(ops.softplus(-fake_logits))  # -log(sigmoid(D(G(z))))
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    @classmethod
    def from_nvlabs(cls, path_or_url, cache_dir=None, **overrides):
        """NVIDIA's StyleGAN2-ADA network pickle as a `StyleGAN2`, without running its code.

        `G_ema` becomes the sampling (EMA) generator, `G` the generator, `D` the
        discriminator, with `w_avg`, the constant noise maps and every architectural
        setting of the pickle. Nothing in the pickle is executed and PyTorch is not
        needed (`keras_gans.convert.pickle_reader`).

        Args:
            path_or_url: a local `.pkl`, an `https://` URL (downloaded once into the cache,
                resumably), or a name such as `"nvlabs:ffhq"` (see
                `keras_gans.convert.presets.NVLABS_STYLEGAN2`).
            cache_dir: download folder (default `~/.cache/keras_gans/downloads`).
            **overrides: training and precision options for the new model (`r1_gamma`,
                `ada_target`, `ema_decay`, `num_fp16_res`, `mbstd_group_size`, ...); the
                architecture comes from the pickle.

        Example:

        ```python
        gan = keras_gans.StyleGAN2.from_nvlabs("nvlabs:afhqcat")
        images = gan.generate(4, seed=0, truncation_psi=0.7)       # (4, 512, 512, 3)
        ```
        """
        from keras_gans.convert import stylegan2 as nvlabs  # only when converting

        fixed = sorted(set(overrides) & set(nvlabs.ARCHITECTURE_OPTIONS))
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)} come from the pickle and cannot be overridden; "
                "`from_nvlabs` takes training options (r1_gamma, ada_target, num_fp16_res, ...)."
            )
        converted = nvlabs.read_stylegan2(path_or_url, cache_dir=cache_dir)
        model = cls(**{**converted.options, **overrides})
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

    def _synthesize(self, ws, noise_mode):
        synthesis = self.sampling_generator.get_layer("synthesis")
        extra = {} if noise_mode == "const" else {"noise_mode": noise_mode}
        return synthesis(ws, training=False, **extra)

    def _sample(self, inputs, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const"):
        self._check_sampling(truncation_cutoff, noise_mode)
        if float(truncation_psi) == 1.0 and noise_mode == "const":
            return forward(self.sampling_generator, inputs)
        return self._synthesize(self._ws(inputs, truncation_psi, truncation_cutoff), noise_mode)

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

    def ws_to_images(self, ws, noise_mode="const", batch_size=64):
        """Images of the sampling generator for ws `(n, num_ws, w_dim)`, clipped to [-1, 1].

        Args:
            ws: from `latents_to_ws` (or a projection's `"ws"`).
            noise_mode: `"const"`, `"random"` or `"none"`.
            batch_size: ws per synthesis call.
        """
        self._check_sampling(None, noise_mode)
        ws = np.asarray(ws, dtype="float32")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(
                f"`ws` must have shape (n, {self.num_ws}, {self.w_dim}); received {ws.shape}."
            )
        self._sync_training_state()
        batches = [
            np.clip(ops.convert_to_numpy(self._synthesize(ws[i : i + batch_size], noise_mode)),
                    -1.0, 1.0)
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

    def generate(self, num_images=None, labels=None, seed=None, latent=None, batch_size=256,
                 truncation_psi=1.0, truncation_cutoff=None, noise_mode="const"):  # fmt: skip
        """Generates images with the EMA generator, clipped to [-1, 1].

        Args:
            num_images, labels, seed, latent, batch_size: as `BaseGAN.generate`; labels are
                class indices for a conditional model.
            truncation_psi: `w = w_avg + psi (w - w_avg)` (1: none; 0.5-0.7 for typical
                images).
            truncation_cutoff: truncate only the first this many ws (None: all).
            noise_mode: per-pixel noise: `"const"` (the stored maps, deterministic),
                `"random"` (fresh noise each call) or `"none"`.

        Example:

        ```python
        images = gan.generate(16, seed=0, truncation_psi=0.7, noise_mode="const")
        ```
        """
        return super().generate(
            num_images, labels, seed, latent, batch_size, truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff, noise_mode=noise_mode,
        )  # fmt: skip

    def get_config(self):
        return {
            **super().get_config(),
            "w_dim": self.w_dim,
            "mapping_layers": self.mapping_layers,
            "channel_base": self.channel_base,
            "channel_max": self.channel_max,
            "mbstd_group_size": self.mbstd_group_size,
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "pl_weight": self.pl_weight,
            "pl_interval": self.pl_interval,
            "pl_batch_shrink": self.pl_batch_shrink,
            "pl_decay": self.pl_decay,
            "style_mixing_prob": self.style_mixing_prob,
            "w_avg_beta": self.w_avg_beta,
            "ema_warmup": self.ema_warmup,
            "architecture": self.architecture,
            "d_architecture": self.d_architecture,
            "conv_clamp": self.conv_clamp,
            "d_conv_clamp": self.d_conv_clamp,
            "resample_filter": list(self.resample_filter),
            "num_fp16_res": self.num_fp16_res,
            "mbstd_num_channels": self.mbstd_num_channels,
            "d_mapping_layers": self.d_mapping_layers,
            "cmap_dim": self.cmap_dim,
            "mapping_lr_multiplier": self.mapping_lr_multiplier,
            "mapping_embed_features": self.mapping_embed_features,
            "mapping_layer_features": self.mapping_layer_features,
            "pretrained_source": self.pretrained_source,
        }
