"""Argument checks shared across the package: one wording for every bad value."""

import numbers


def check_integer(argument, value, minimum=1, allow_none=False):
    """Returns `value` as an `int`, or raises a `ValueError` naming `argument`.

    Booleans are refused (`True` is not a width); NumPy integers are accepted.

    Args:
        argument: the argument's name, as the caller's user wrote it.
        value: what they passed.
        minimum: the smallest value allowed.
        allow_none: whether `None` passes (returned as `None`).

    Example:

    ```python
    width = check_integer("width", width)             # a positive integer
    steps = check_integer("steps", steps, minimum=2)
    ```
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if allow_none:
            expected += " or None"
        raise ValueError(f"`{argument}` must be {expected}. Received: {value!r}")
    return int(value)


def check_shape(argument, shape, channels=None):
    """Returns `shape` as `(height, width, channels)` ints, or raises a `ValueError` naming it.

    Args:
        argument: the argument's name, as the caller's user wrote it.
        shape: what they passed.
        channels: the channel counts allowed (e.g. `(1, 3)`), or None for any.

    Example:

    ```python
    check_shape("image_shape", [28, 28, 1], channels=(1, 3))   # (28, 28, 1)
    ```
    """
    try:
        checked = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        checked = ()
    allowed = channels is None or (checked and checked[-1] in channels)
    if len(checked) != 3 or min(checked) < 1 or not allowed:
        rule = "" if channels is None else f" with {' or '.join(map(str, channels))} channels"
        raise ValueError(
            f"`{argument}` must be (height, width, channels) of positive sizes{rule}. "
            f"Received: {shape!r}"
        )
    return checked
