"""The default floating dtype and the conversion of user data into arrays."""
from __future__ import annotations

import numpy as np

__all__ = ["set_default_dtype", "get_default_dtype", "as_array"]

_default = [np.dtype(np.float64)]


def set_default_dtype(dtype):
    """Set the dtype that Python scalars and lists become (float64 unless changed).

    Example: ``minigrad.set_default_dtype(np.float32)`` makes ``Tensor([1, 2])`` float32
    and new ``nn.Linear`` layers float32.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype such as np.float32 or np.float64, got {dt}")
    _default[0] = dt


def get_default_dtype():
    """The dtype that Python scalars and lists become (see :func:`set_default_dtype`)."""
    return _default[0]


def as_array(data):
    """Arrays keep their dtype; Python numbers and lists become the default float dtype.

    Booleans stay boolean (masks).  Strings and objects are rejected with a TypeError.
    """
    if isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if arr.dtype.kind in "iuf":
            arr = arr.astype(_default[0])
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: cannot make a tensor from data of dtype {arr.dtype} ({type(data).__name__}); "
            f"expected numbers (a numpy array, a Python number or a nested list of numbers)"
        )
    return arr
