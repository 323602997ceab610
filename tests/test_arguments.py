import numpy as np
import pytest

from keras_gans.utils.arguments import check_integer, check_shape


def test_integers_pass_as_int_and_bad_values_name_the_argument():
    assert check_integer("width", np.int64(8)) == 8 and type(check_integer("width", 8)) is int
    assert check_integer("rows", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"`width` must be a positive integer\. Received: True"):
        check_integer("width", True)
    with pytest.raises(ValueError, match=r"`steps` must be an integer >= 2\. Received: 1"):
        check_integer("steps", 1, minimum=2)
    with pytest.raises(ValueError, match=r"`rows` must be a positive integer or None\. Rec"):
        check_integer("rows", 2.5, allow_none=True)
    with pytest.raises(ValueError, match="`latent_dim`"):
        check_integer("latent_dim", None)


def test_shapes_pass_as_int_tuples_and_bad_ones_name_the_argument():
    assert check_shape("image_shape", [28, 28, np.int64(1)], channels=(1, 3)) == (28, 28, 1)
    with pytest.raises(
        ValueError, match=r"`image_shape` .* with 1 or 3 channels\. Received: \(8, 8, 2\)"
    ):
        check_shape("image_shape", (8, 8, 2), channels=(1, 3))
    for bad in [(8, 8), (8, 0, 3), "abc", None]:
        with pytest.raises(
            ValueError, match="`source_shape` must be \\(height, width, channels\\)"
        ):
            check_shape("source_shape", bad)
