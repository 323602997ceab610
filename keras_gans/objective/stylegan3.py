"""The StyleGAN3 objective, read top to bottom (cf. NVlabs/stylegan3's `training/loss.py`).

StyleGAN2's non-saturating loss and lazy R1 (`objective/stylegan2.py`), without path
length regularisation, plus what StyleGAN3 adds: every image the discriminator sees
(real, generated, and in R1) is blurred by a Gaussian whose sigma fades linearly from
`blur_init_sigma` to 0 over the first `blur_fade_kimg` thousand images (StyleGAN3-R),
and the generator pass of the discriminator step updates the tracked w average and
the synthesis layers' input magnitudes (NVIDIA's `update_emas`).

Example:

```python
sigma = blur_sigma(model)                                  # 10 at the start, 0 after the fade
loss, (real_logits, fake_logits) = stylegan3_discriminator_loss(model, real, labels, 1.0, sigma)
```
"""

import math

from keras import ops

from keras_gans.networks.filtered_lrelu import upfirdn
from keras_gans.objective.gan_objective import sample_latent
from keras_gans.objective.penalties import per_sample_squared_norm
from keras_gans.objective.stylegan2 import discriminate, mapped_styles, synthesize


def blur_sigma(model):
    """`max(1 - images_seen / (blur_fade_kimg * 1000), 0) * blur_init_sigma` (0.0: no blur)."""
    if not model.blur_init_sigma or not model.blur_fade_kimg:
        return 0.0
    remaining = 1.0 - model.images_seen / (model.blur_fade_kimg * 1e3)
    return ops.maximum(remaining, 0.0) * model.blur_init_sigma


def blur(images, sigma, max_sigma):
    """Images filtered by taps `2^-(k / sigma)^2`, |k| <= floor(3 sigma), normalised; same size.

    The filter has `2 floor(3 max_sigma) + 1` taps whatever `sigma` is (one compiled
    step serves the whole fade); taps past `floor(3 sigma)` are 0, as NVIDIA's shorter
    filter. `sigma` below 1/3 leaves the images as they are.

    Args:
        images: `(batch, height, width, channels)`.
        sigma: the current sigma (a float or scalar tensor), at most `max_sigma`.
        max_sigma: the sigma the filter's length is made for (`blur_init_sigma`).
    """
    if isinstance(sigma, (int, float)) and sigma * 3 < 1:
        return images
    radius = int(math.floor(max_sigma * 3))
    if radius < 1:
        return images
    offsets = ops.arange(-radius, radius + 1, dtype="float32")
    sigma = ops.cast(sigma, "float32")
    inside = ops.abs(offsets) <= ops.floor(sigma * 3)
    # 2^-(k / sigma)^2 inside the reach, 0 outside (sigma 0: only k = 0 is inside)
    taps = ops.where(inside, ops.exp(-ops.square(offsets / ops.maximum(sigma, 1e-8)) * math.log(2)),
                     0.0)  # fmt: skip
    taps = taps / ops.sum(taps)
    return upfirdn(images, ops.cast(taps, images.dtype), padding=radius)


def discriminate_blurred(model, images, labels, sigma):
    """D(T(blur(x))) as a float32 vector (`discriminate` after the blur)."""
    return discriminate(model, blur(images, sigma, model.blur_init_sigma), labels)


def stylegan3_discriminator_loss(model, real_images, labels, r1_mask, sigma):
    """`softplus(D(G(z))) + softplus(-D(x)) [+ lazy R1]`; returns `(loss, (real, fake logits))`.

    The generator pass updates `w_avg` and the layers' `magnitude_ema` (not trained).
    """
    batch_size = ops.shape(real_images)[0]
    ws, w = mapped_styles(model, sample_latent(model, batch_size), labels)
    synthesis = model.generator.get_layer("synthesis")
    fake_images = ops.stop_gradient(synthesis(ws, training=True, update_emas=True))
    # w_avg <- mean(w) + beta (w_avg - mean(w)): the truncation centre
    w_mean = ops.stop_gradient(ops.mean(ops.cast(w, "float32"), axis=0))
    model.w_avg.assign(w_mean + model.w_avg_beta * (model.w_avg - w_mean))
    # Real and generated images go through D separately: the minibatch-std groups must not mix.
    fake_logits = discriminate_blurred(model, fake_images, labels, sigma)
    real_logits = discriminate_blurred(model, real_images, labels, sigma)
    # -log(1 - sigmoid(D(G(z)))) - log(sigmoid(D(x)))
    loss = ops.mean(ops.softplus(fake_logits)) + ops.mean(ops.softplus(-real_logits))
    if model.r1_gamma and not (isinstance(r1_mask, (int, float)) and r1_mask == 0):
        gradients = model._input_gradient(
            lambda x: discriminate_blurred(model, x, labels, sigma), real_images
        )
        # R1 = ||grad_x D(blur(x_real))||^2 per image
        r1 = per_sample_squared_norm(gradients)
        # + gamma / 2 * R1, times the interval (applied every r1_interval steps)
        loss = loss + ops.mean(r1) * (model.r1_gamma / 2) * model.r1_interval * r1_mask
    return loss, (real_logits, fake_logits)


def stylegan3_generator_loss(model, batch_size, labels, sigma):
    """`softplus(-D(blur(G(z))))`; returns `(loss, fake logits)`."""
    fake_images = synthesize(model, batch_size, labels)[0]
    fake_logits = discriminate_blurred(model, fake_images, labels, sigma)
    # -log(sigmoid(D(G(z))))
    return ops.mean(ops.softplus(-fake_logits)), fake_logits
