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
