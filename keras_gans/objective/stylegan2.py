"""The StyleGAN2 and R3GAN objectives, read top to bottom (cf. stylegan2-ada's `training/loss.py`).

StyleGAN2: non-saturating loss, lazy R1 on real images (every `r1_interval`
discriminator steps, gamma scaled by the interval), path-length regularisation
(every `pl_interval` generator steps, on a batch shrunk by `pl_batch_shrink`),
style mixing. R3GAN: the relativistic pairing loss with R1 and R2 zero-centred
penalties at every step.

The functions take the model for its networks, options and state variables
(`w_avg`, `pl_mean`, ADA's `p`); input gradients come from the backend's trainer
(`model._input_gradient`). `mask` arguments are 1.0 on the steps a lazy penalty
runs and 0.0 otherwise: a tensor on JAX/TensorFlow (the penalty is computed and
multiplied by 0, so one compiled step serves every step), a Python float on
torch (the penalty is skipped).
"""

import keras
from keras import ops

from keras_gans.objective import augment as augmentation
from keras_gans.objective.gan_objective import sample_latent
from keras_gans.objective.penalties import per_sample_squared_norm


def _skipped(mask):
    return isinstance(mask, (int, float)) and mask == 0


def discriminate(model, images, labels):
    """D(T(x)) as a float32 vector: DiffAugment and/or ADA first, when the model has them."""
    if model.augment:
        policy = augmentation.POLICIES if model.augment == "diffaugment" else model.augment
        images = augmentation.diff_augment(images, model.seed_generator, policy)
    if model.ada is not None:
        images = model.ada(images)
    logits = model.discriminator(model._discriminator_inputs(images, labels), training=True)
    return ops.cast(ops.reshape(logits, (-1,)), "float32")


# StyleGAN2 --------------------------------------------------------------------------


def mapped_styles(model, latent, labels, generator=None, mixing=True):
    """z -> ws `(batch, num_ws, w_dim)`, with style mixing at `model.style_mixing_prob`.

    Returns `(ws, w)`, `w` being the unmixed mapping output (for the w average).
    """
    generator = generator or model.generator
    mapping = generator.get_layer("mapping")
    inputs = latent if labels is None else [latent, labels]
    w = mapping(inputs, training=True)
    num_ws = model.num_ws
    ws = ops.repeat(ops.expand_dims(w, 1), num_ws, axis=1)
    if mixing and model.style_mixing_prob > 0:
        z2 = sample_latent(model, ops.shape(latent)[0])
        w2 = mapping(z2 if labels is None else [z2, labels], training=True)
        # cutoff ~ U{1, ..., num_ws - 1} with probability p, else num_ws (no mixing)
        cutoff = keras.random.randint((1,), 1, num_ws, seed=model.seed_generator)
        mix = keras.random.uniform((1,), seed=model.seed_generator) < model.style_mixing_prob
        cutoff = ops.where(mix, cutoff, num_ws)
        # ws[:, cutoff:] = mapping(z2)[:, cutoff:]
        first = ops.arange(num_ws)[None, :, None] < ops.cast(cutoff, "int32")[:, None, None]
        ws = ops.where(first, ws, ops.expand_dims(w2, 1))
    return ws, w


def synthesize(model, batch_size, labels, mixing=True):
    """Generated images of fresh noise (with style mixing), their ws and unmixed w."""
    ws, w = mapped_styles(model, sample_latent(model, batch_size), labels, mixing=mixing)
    return model.generator.get_layer("synthesis")(ws, training=True), ws, w


def stylegan2_discriminator_loss(model, real_images, labels, r1_mask):
    """`softplus(D(G(z))) + softplus(-D(x)) [+ lazy R1]`; returns `(loss, (real, fake logits))`."""
    batch_size = ops.shape(real_images)[0]
    fake_images = ops.stop_gradient(synthesize(model, batch_size, labels)[0])
    # Real and generated images go through D separately: the minibatch-std groups must not mix.
    fake_logits = discriminate(model, fake_images, labels)
    real_logits = discriminate(model, real_images, labels)
    # -log(1 - sigmoid(D(G(z)))) - log(sigmoid(D(x)))
    loss = ops.mean(ops.softplus(fake_logits)) + ops.mean(ops.softplus(-real_logits))
    if model.r1_gamma and not _skipped(r1_mask):
        gradients = model._input_gradient(lambda x: discriminate(model, x, labels), real_images)
        # R1 = ||grad_x D(x_real)||^2 per image
        r1 = per_sample_squared_norm(gradients)
        # + gamma / 2 * R1, times the interval (applied every r1_interval steps)
        loss = loss + ops.mean(r1) * (model.r1_gamma / 2) * model.r1_interval * r1_mask
    return loss, (real_logits, fake_logits)


def path_length_penalty(model, batch_size, labels, pl_mask):
    """`(||J_w^T y||_2 - a)^2` for y ~ N(0, I) / sqrt(H W), with `a` the running mean length."""
    if isinstance(batch_size, int):
        pl_batch = max(batch_size // model.pl_batch_shrink, 1)
    else:  # a batch size known only when the step runs (TensorFlow)
        pl_batch = ops.maximum(batch_size // model.pl_batch_shrink, 1)
    pl_labels = None if labels is None else labels[:pl_batch]
    # ws held constant: the penalty trains the synthesis network (NVlabs also reaches the mapping)
    ws = ops.stop_gradient(mapped_styles(model, sample_latent(model, pl_batch), pl_labels)[0])
    synthesis = model.generator.get_layer("synthesis")
    height, width, channels = model.image_shape
    # y ~ N(0, I) / sqrt(H * W)
    pl_noise = (
        keras.random.normal((pl_batch, height, width, channels), seed=model.seed_generator)
        / (height * width) ** 0.5
    )
    # J_w^T y = grad_ws sum(G(ws) * y)
    # sum(G(ws) * y), in float32 whatever the compute dtype
    gradients = model._input_gradient(
        lambda w: ops.cast(synthesis(w, training=True), "float32") * pl_noise, ws
    )
    gradients = ops.cast(gradients, "float32")  # small values squared: not in float16
    # ||J_w^T y||_2: squared norm over w_dim, mean over the ws, square root
    lengths = ops.sqrt(ops.mean(ops.sum(ops.square(gradients), axis=2), axis=1))
    # a <- a + 0.01 (E[length] - a), held constant in the penalty
    pl_mean = ops.stop_gradient(
        model.pl_mean + model.pl_decay * (ops.mean(lengths) - model.pl_mean)
    )
    model.pl_mean.assign(pl_mean * pl_mask + model.pl_mean * (1.0 - pl_mask))
    return ops.mean(ops.square(lengths - pl_mean))


def stylegan2_generator_loss(model, batch_size, labels, pl_mask):
    """`softplus(-D(G(z))) [+ lazy path length]`; updates the tracked w average."""
    fake_images, _, w = synthesize(model, batch_size, labels)
    fake_logits = discriminate(model, fake_images, labels)
    # -log(sigmoid(D(G(z))))
    loss = ops.mean(ops.softplus(-fake_logits))
    # w_avg <- mean(w) + beta (w_avg - mean(w)): the truncation centre
    w_mean = ops.stop_gradient(ops.mean(ops.cast(w, "float32"), axis=0))
    model.w_avg.assign(w_mean + model.w_avg_beta * (model.w_avg - w_mean))
    if model.pl_weight and not _skipped(pl_mask):
        penalty = path_length_penalty(model, batch_size, labels, pl_mask)
        # + pl_weight * penalty, times the interval (applied every pl_interval steps)
        loss = loss + penalty * model.pl_weight * model.pl_interval * pl_mask
    return loss, fake_logits


# R3GAN ------------------------------------------------------------------------------


def r3gan_discriminator_loss(model, real_images, labels, gamma):
    """Relativistic pairing loss + gamma / 2 (R1 + R2); returns `(loss, (real, fake logits))`."""
    batch_size = ops.shape(real_images)[0]
    latent = sample_latent(model, batch_size)
    fake_images = ops.stop_gradient(model._generate(latent, labels, training=True))
    real_logits = discriminate(model, real_images, labels)
    fake_logits = discriminate(model, fake_images, labels)
    # softplus(-(D(x_real) - D(x_fake))): real must score above its paired fake
    loss = ops.mean(ops.softplus(fake_logits - real_logits))
    if gamma is not None:
        both = ops.concatenate([real_images, fake_images], axis=0)
        both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
        # D has no cross-image ops, so one input gradient of sum(D) gives every image's own
        gradients = model._input_gradient(lambda x: discriminate(model, x, both_labels), both)
        squared = per_sample_squared_norm(gradients)
        # R1 = ||grad D(x_real)||^2, R2 = ||grad D(x_fake)||^2
        r1, r2 = squared[:batch_size], squared[batch_size:]
        # + gamma / 2 * (R1 + R2)
        loss = loss + ops.mean(r1 + r2) * (gamma / 2)
    return loss, (real_logits, fake_logits)


def r3gan_generator_loss(model, real_images, labels):
    """Relativistic pairing loss for G: `softplus(-(D(G(z)) - D(x_real)))`."""
    batch_size = ops.shape(real_images)[0]
    fake_images = model._generate(sample_latent(model, batch_size), labels, training=True)
    fake_logits = discriminate(model, fake_images, labels)
    real_logits = discriminate(model, real_images, labels)
    # softplus(-(D(x_fake) - D(x_real))): the fake must score above its paired real
    loss = ops.mean(ops.softplus(real_logits - fake_logits))
    return loss, fake_logits
