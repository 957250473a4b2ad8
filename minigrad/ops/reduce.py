r"""Reductions with NumPy's ``axis``/``keepdims``: ``sum``, ``mean``, ``max``, ``min``.

The backward of a reduction *spreads* the gradient back over the reduced axes:
for a sum every input gets the gradient of its output; for a mean, that divided
by the number of elements averaged; for a max, only the maximal elements (shared
equally among ties, like ``torch.amax``).
"""
from __future__ import annotations

import builtins

import numpy as np

from ..tensor import make_result

__all__ = ["sum", "mean", "max", "min"]


def _axes(axis, ndim, name):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of bounds for a tensor with {ndim} dimension(s)")
        out.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(set(out)))


def _expand(g, axes, keepdims, shape):
    """Undo the reduction's shape change so ``g`` broadcasts against the input."""
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def sum(x, axis=None, keepdims=False):
    r""":math:`\sum` over ``axis``; every input element receives its output's gradient."""
    axes = _axes(axis, x.ndim, "sum")
    shape = x.shape
    out = np.sum(x.data, axis=axes, keepdims=keepdims)
    return make_result(np.asarray(out), (x,), lambda g: (_expand(g, axes, keepdims, shape),), "sum")


def mean(x, axis=None, keepdims=False):
    r"""Average over ``axis``; the gradient is divided by the number of elements averaged."""
    axes = _axes(axis, x.ndim, "mean")
    shape = x.shape
    n = int(np.prod([shape[a] for a in axes])) if axes else 1
    out = np.mean(x.data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (_expand(g / n, axes, keepdims, shape),)

    return make_result(np.asarray(out), (x,), backward, "mean")


def _extreme(x, axis, keepdims, fn, name):
    axes = _axes(axis, x.ndim, name)
    if x.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    kept = fn(x.data, axis=axes, keepdims=True)
    winners = x.data == kept
    counts = winners.sum(axis=axes, keepdims=True)
    out = kept if keepdims else np.squeeze(kept, axis=axes)

    def backward(g):
        gk = g if keepdims else np.expand_dims(g, axes)
        return (winners * (gk / counts),)

    return make_result(np.asarray(out), (x,), backward, name)


def max(x, axis=None, keepdims=False):
    """Largest value over ``axis``; ties share the gradient equally."""
    return _extreme(x, axis, keepdims, np.max, "max")


def min(x, axis=None, keepdims=False):
    """Smallest value over ``axis``; ties share the gradient equally."""
    return _extreme(x, axis, keepdims, np.min, "min")
