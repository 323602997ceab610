"""LPIPS-VGG16 (Zhang et al., 2018) as a Keras feature network, from the published weights.

The perceptual distance StyleGAN2's projector uses: torchvision's ImageNet VGG16
(`vgg16-397923af.pth`) and LPIPS' linear layers (`lpips/weights/v0.1/vgg.pth`), both
read with `read_state_dict` (no PyTorch, nothing executed). The network maps images in
[-1, 1] to one feature vector each, built so that the squared distance between two
vectors is LPIPS: at each of VGG's five ReLU taps, features unit-normalised over the
channels, times the square root of the learned channel weights, over the square root
of the tap's pixel count.

Example:

```python
from keras_gans.convert.lpips import lpips_vgg16

features = lpips_vgg16("vgg16-397923af.pth", "vgg.pth")
result = gan.project(photo[None], features=features)
```
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from keras_gans.convert.state_dict import read_state_dict

# torchvision's `vgg16().features`: conv indices and widths, "M" for max-pooling.
VGG16 = [(0, 64), (2, 64), "M", (5, 128), (7, 128), "M", (10, 256), (12, 256), (14, 256), "M",
         (17, 512), (19, 512), (21, 512), "M", (24, 512), (26, 512), (28, 512)]  # fmt: skip
TAPS = (2, 7, 14, 21, 28)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
# LPIPS' input scaling of images in [-1, 1]
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
_register = keras.saving.register_keras_serializable(package="keras_gans")


@_register
class LPIPSScaling(layers.Layer):
    """Images in [-1, 1] (grey ones repeated to RGB) -> LPIPS' normalised VGG input."""

    def call(self, images):
        if images.shape[-1] == 1:
            images = ops.repeat(images, 3, axis=-1)
        return (images - ops.convert_to_tensor(SHIFT)) / ops.convert_to_tensor(SCALE)


@_register
class LPIPSTap(layers.Layer):
    """One tap: unit-normalise over channels, weight by sqrt(w) / sqrt(H W), flatten."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.weight = self.add_weight(shape=(self.channels,), initializer="ones",
                                      trainable=False, name="weight")  # fmt: skip

    def call(self, x):
        # x / (||x||_channels + 1e-10), as LPIPS' normalize_tensor
        x = x / (ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True)) + 1e-10)
        pixels = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], x.dtype)
        x = x * ops.sqrt(ops.maximum(self.weight, 0.0)) / ops.sqrt(pixels)
        return ops.reshape(x, (ops.shape(x)[0], -1))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def lpips_vgg16(vgg_weights, lpips_weights, channels=3) -> keras.Model:
    """The LPIPS-VGG16 feature network (frozen) from the two published weight files.

    Args:
        vgg_weights: torchvision's VGG16 state dict (`vgg16-397923af.pth`), or a dict of
            its arrays.
        lpips_weights: LPIPS v0.1 linear layers (`vgg.pth`, keys `lin0.model.1.weight` ...
            `lin4...`), or a dict of its arrays.
        channels: channels of the images it will see (1 or 3).

    Returns:
        A `keras.Model` mapping `(n, H, W, channels)` images in [-1, 1] to `(n, F)`
        features; `sum((f(a) - f(b)) ** 2, axis=-1)` is LPIPS(a, b).
    """
    vgg = vgg_weights if isinstance(vgg_weights, dict) else read_state_dict(vgg_weights)
    lin = lpips_weights if isinstance(lpips_weights, dict) else read_state_dict(lpips_weights)
    images = keras.Input((None, None, int(channels)), name="images")
    x = LPIPSScaling(name="scaling")(images)
    outputs = []
    for entry in VGG16:
        if entry == "M":
            x = layers.MaxPooling2D(2, name=f"pool{len(outputs)}")(x)
            continue
        index, width = entry
        conv = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{index}")
        x = conv(x)
        kernel, bias = _take(vgg, f"features.{index}", (width, None, 3, 3))
        conv.set_weights([np.transpose(kernel, (2, 3, 1, 0)), bias])
        if index in TAPS:
            tap = LPIPSTap(width, name=f"tap{len(outputs)}")
            outputs.append(tap(x))
            weight = lin.get(f"lin{len(outputs) - 1}.model.1.weight")
            if weight is None or weight.size != width:
                raise ValueError(
                    f"`lpips_weights` has no lin{len(outputs) - 1}.model.1.weight of {width} "
                    f"channels (keys: {sorted(lin)[:6]}...): expected LPIPS v0.1's vgg.pth."
                )
            tap.set_weights([weight.reshape(width).astype("float32")])
    model = keras.Model(images, layers.Concatenate(name="lpips")(outputs), name="lpips_vgg16")
    model.trainable = False
    return model


def _take(state, prefix, shape):
    try:
        kernel, bias = state[f"{prefix}.weight"], state[f"{prefix}.bias"]
    except KeyError:
        raise ValueError(
            f"`vgg_weights` has no {prefix}.weight/bias: expected torchvision's VGG16 state "
            f"dict (keys such as features.0.weight; found {sorted(state)[:4]}...)."
        ) from None
    if kernel.shape[0] != shape[0] or kernel.shape[2:] != shape[2:]:
        raise ValueError(f"`vgg_weights` {prefix}.weight has shape {kernel.shape}, not VGG16's.")
    return kernel.astype("float32"), bias.astype("float32")


def lpips_distance(features, a, b):
    """LPIPS between image batches `a` and `b` with `features` from `lpips_vgg16`."""
    difference = ops.convert_to_numpy(features(a)) - ops.convert_to_numpy(features(b))
    return np.sum(np.square(difference), axis=-1)
