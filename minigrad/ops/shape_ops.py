r"""Operations that move elements without changing them: reshape, transpose, indexing.

Their backward moves the gradient back: reshape it back, transpose it back with the
inverse permutation, or scatter it into zeros at the indexed positions.  With
integer-array indexing an element can be picked twice, so the scatter must *add*
(``numpy.add.at``) rather than assign.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, make_result

__all__ = ["reshape", "transpose", "getitem"]


def reshape(x, *shape):
    """Same elements, new shape (NumPy rules, one ``-1`` allowed)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        out = x.data.reshape(shape)
    except ValueError as err:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}") from err
    src = x.shape
    return make_result(out, (x,), lambda g: (g.reshape(src),), "reshape")


def transpose(x, *axes):
    """Permute axes (all reversed when none are given, like ``numpy.transpose``)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(reversed(range(x.ndim)))
    in_range = all(-x.ndim <= int(a) < x.ndim for a in axes)
    if not in_range or sorted(int(a) % x.ndim for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    axes = tuple(int(a) % x.ndim for a in axes)  # negative axes -> positive, so argsort gives the inverse
    inverse = tuple(np.argsort(axes))
    return make_result(np.transpose(x.data, axes), (x,), lambda g: (np.transpose(g, inverse),), "transpose")


def _plain(index):
    """Unwrap Tensors inside an index."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _has_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


def getitem(x, index):
    """NumPy indexing: slices, integers, integer arrays (repeats add up) and boolean masks."""
    index = _plain(index)
    try:
        out = x.data[index]
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} is invalid for a tensor of shape {x.shape}: {err}") from err
    shape, dtype, fancy = x.shape, x.dtype, _has_array(index)

    def backward(g):
        full = np.zeros(shape, dtype=np.result_type(dtype, g.dtype))
        if fancy:
            np.add.at(full, index, g)
        else:
            full[index] = g
        return (full,)

    return make_result(np.array(out) if np.isscalar(out) else out, (x,), backward, "getitem")
