"""Discriminator regularizers of input gradients, written once in `keras.ops`.

Both penalties take the gradient of the discriminator's output with respect
to its input images; the backend trainers compute that gradient inside the
step (`_input_gradient`), so the same maths runs on JAX, TensorFlow and torch.

Example:

```python
gradients = model._input_gradient(critic, interpolated_images)
loss += 10.0 * keras_gans.penalties.gradient_penalty(gradients)
```
"""

from keras import ops


def per_sample_squared_norm(gradients):
    """`||g_i||_2^2` for each sample's gradient `g_i`, in float32, shape `(batch,)`.

    Args:
        gradients: a batch of gradients, shape `(batch, ...)`, any float dtype.
    """
    # In float32 whatever the compute dtype: squared bfloat16/float16 gradients lose
    # their small values, and the penalty is added to a float32 loss.
    gradients = ops.cast(gradients, "float32")
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    return ops.sum(ops.square(flat), axis=1)


def gradient_penalty(gradients, target=1.0):
    """WGAN-GP penalty (Gulrajani et al., 2017): `mean((||grad||_2 - target)^2)`.

    Args:
        gradients: gradients of the critic's output with respect to its
            input, one per sample, shape `(batch, ...)`.
        target: the gradient norm the critic is pushed towards (1 for a
            1-Lipschitz critic).
    """
    norms = ops.sqrt(per_sample_squared_norm(gradients) + 1e-12)
    return ops.mean(ops.square(norms - target))


def r1_penalty(gradients):
    """R1 penalty (Mescheder et al., 2018): `mean(||grad||_2^2)` on real images.

    Models add `r1_weight / 2 * r1_penalty(...)`, the StyleGAN convention
    where `r1_weight` is gamma.
    """
    return ops.mean(per_sample_squared_norm(gradients))
