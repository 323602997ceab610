import numpy as np
import pytest

from keras_gans.utils.arguments import check_integer


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
