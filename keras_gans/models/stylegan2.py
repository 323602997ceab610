"""StyleGAN2 (Karras et al., 2020), NVIDIA's architecture, with ADA and classes, on every backend.

`StyleGAN2.from_nvlabs` converts NVIDIA's published StyleGAN2-ADA network pickles
(`keras_gans.convert`), which then sample, fine-tune and push like any model.
"""

import keras
from keras import ops

from keras_gans.models.mapped_styles import MappedStylesMixin
from keras_gans.models.sampling import forward
from keras_gans.models.style_family import StyleFamilyGAN
from keras_gans.networks import stylegan2 as networks
from keras_gans.objective import stylegan2 as objective


def lazy_adam(learning_rate, interval, beta_2=0.99):
    """Adam(lr, 0, 0.99) rescaled for a penalty run every `interval` steps (StyleGAN2's mb_ratio).

    With `c = interval / (interval + 1)`: lr * c, beta_1 ** c, beta_2 ** c; `interval=0`: none.
    """
    c = interval / (interval + 1) if interval else 1.0
    return keras.optimizers.Adam(learning_rate * c, beta_1=0.0, beta_2=beta_2**c, epsilon=1e-8)


@keras.saving.register_keras_serializable(package="keras_gans")
class StyleGAN2(MappedStylesMixin, StyleFamilyGAN):
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
        d_loss, real_logits, fake_logits = self._discriminator_steps(
            lambda mask: objective.stylegan2_discriminator_loss(self, real_images, labels, mask)
        )
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

        return cls._from_converted(nvlabs, path_or_url, cache_dir, overrides)

    def _synthesize(self, ws, noise_mode):
        synthesis = self.sampling_generator.get_layer("synthesis")
        extra = {} if noise_mode == "const" else {"noise_mode": noise_mode}
        return synthesis(ws, training=False, **extra)

    def _sample(self, inputs, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const"):
        self._check_sampling(truncation_cutoff, noise_mode)
        if float(truncation_psi) == 1.0 and noise_mode == "const":
            return forward(self.sampling_generator, inputs)
        return self._synthesize(self._ws(inputs, truncation_psi, truncation_cutoff), noise_mode)

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
