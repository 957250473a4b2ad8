r"""Elementwise functions of one tensor.

Each backward multiplies the incoming gradient by the derivative, often written
in terms of the *output* :math:`y` so nothing has to be recomputed:
:math:`(e^x)' = y`, :math:`(\tanh x)' = 1 - y^2`, :math:`\sigma'(x) = y(1-y)`.
"""
from __future__ import annotations

import numpy as np

from ..tensor import make_result

__all__ = ["neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip", "astype", "stable_sigmoid"]


def neg(x):
    """:math:`-x`."""
    return make_result(-x.data, (x,), lambda g: (-g,), "neg")


def exp(x):
    r""":math:`e^x`; derivative :math:`e^x = y`."""
    y = np.exp(x.data)
    return make_result(y, (x,), lambda g: (g * y,), "exp")


def log(x):
    r"""Natural logarithm; derivative :math:`1/x`."""
    xd = x.data
    return make_result(np.log(xd), (x,), lambda g: (g / xd,), "log")


def sqrt(x):
    r""":math:`\sqrt x`; derivative :math:`1/(2\sqrt x) = 1/(2y)`."""
    y = np.sqrt(x.data)
    return make_result(y, (x,), lambda g: (g / (2 * y),), "sqrt")


def abs(x):
    r""":math:`|x|`; derivative :math:`\operatorname{sign}(x)` (0 at 0, as in PyTorch)."""
    xd = x.data
    return make_result(np.abs(xd), (x,), lambda g: (g * np.sign(xd),), "abs")


def tanh(x):
    r""":math:`\tanh x`; derivative :math:`1 - y^2`."""
    y = np.tanh(x.data)
    return make_result(y, (x,), lambda g: (g * (1 - y * y),), "tanh")


def stable_sigmoid(xd):
    r""":math:`1/(1+e^{-x})` without overflow: uses :math:`e^{-|x|} \le 1` on both sides of 0."""
    e = np.exp(-np.abs(xd))
    return np.where(xd >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(x):
    r"""Logistic function :math:`\sigma(x) = 1/(1+e^{-x})`; derivative :math:`y(1-y)`."""
    y = stable_sigmoid(x.data)
    return make_result(y, (x,), lambda g: (g * y * (1 - y),), "sigmoid")


def relu(x):
    r""":math:`\max(x, 0)`; derivative 1 where :math:`x > 0`, else 0 (0 at 0, as in PyTorch)."""
    xd = x.data
    return make_result(np.maximum(xd, 0), (x,), lambda g: (g * (xd > 0),), "relu")


def clip(x, min=None, max=None):
    r"""Limit values to ``[min, max]``; the gradient passes where :math:`\min \le x \le \max`."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    xd = x.data
    lo = -np.inf if min is None else min
    hi = np.inf if max is None else max
    if np.any(np.asarray(lo) > np.asarray(hi)):
        raise ValueError(f"clip: min ({min}) must not exceed max ({max})")
    inside = (xd >= lo) & (xd <= hi)
    return make_result(np.clip(xd, lo, hi), (x,), lambda g: (g * inside,), "clip")


def astype(x, dtype):
    """Convert to ``dtype``; the gradient is converted back to the input's dtype."""
    dt = np.dtype(dtype)
    src = x.data.dtype
    out = make_result(x.data.astype(dt), (x,), lambda g: (g.astype(src),), "astype")
    if dt.kind != "f":
        out.requires_grad, out._parents, out._backward = False, (), None
    return out
