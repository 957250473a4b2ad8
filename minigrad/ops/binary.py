r"""Binary arithmetic with NumPy broadcasting: ``+ - * / **`` and ``@``.

Either operand may be a Tensor, a NumPy array or a Python number.  Python
numbers stay Python numbers, so NumPy's promotion rules keep a float32 tensor
float32 when it is multiplied by ``0.5``.

For :math:`z = f(x, y)` each backward returns
:math:`(\bar z\,\partial z/\partial x,\; \bar z\,\partial z/\partial y)`, summed
over broadcast axes by :func:`~minigrad.tensor.unbroadcast`.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, make_result, unbroadcast

__all__ = ["add", "sub", "mul", "div", "pow", "matmul"]


def _operand(x):
    """(tensor, data) for one operand.

    NumPy scalars become Python numbers, as in PyTorch (``np.float64`` is a Python
    ``float``), so ``float32_tensor * np.float64(0.5)`` stays float32.
    """
    if isinstance(x, Tensor):
        return x, x.data
    if isinstance(x, np.generic):
        x = x.item()
    xd = x if isinstance(x, (int, float, np.ndarray)) else np.asarray(x)
    return Tensor(xd), xd


def _split(a, b):
    """(tensor_a, tensor_b, data_a, data_b) for two operands of which at least one is a Tensor."""
    a, ad = _operand(a)
    b, bd = _operand(b)
    return a, b, ad, bd


def _shape(x):
    return np.shape(x)


def _compute(name, fn, ad, bd):
    try:
        return fn(ad, bd)
    except ValueError as err:
        try:
            np.broadcast_shapes(_shape(ad), _shape(bd))
        except ValueError:
            raise ValueError(
                f"{name}: operands with shapes {_shape(ad)} and {_shape(bd)} cannot be broadcast together "
                f"(NumPy rules: trailing dimensions must be equal or 1)"
            ) from err
        raise ValueError(  # not a shape problem, e.g. integer tensor ** negative integer
            f"{name}: {err} (operand dtypes {np.asarray(ad).dtype} and {np.asarray(bd).dtype}; "
            f"convert integer tensors to float first, e.g. x.astype(np.float64))"
        ) from err


def add(a, b):
    """Elementwise :math:`a + b`."""
    a, b, ad, bd = _split(a, b)
    out = _compute("add", np.add, ad, bd)
    sa, sb = _shape(ad), _shape(bd)

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(g, sb)

    return make_result(out, (a, b), backward, "add")


def sub(a, b):
    """Elementwise :math:`a - b`."""
    a, b, ad, bd = _split(a, b)
    out = _compute("sub", np.subtract, ad, bd)
    sa, sb = _shape(ad), _shape(bd)

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(-g, sb) if b.requires_grad else None

    return make_result(out, (a, b), backward, "sub")


def mul(a, b):
    r"""Elementwise :math:`a b`; :math:`\bar a = \bar z\, b`, :math:`\bar b = \bar z\, a`."""
    a, b, ad, bd = _split(a, b)
    out = _compute("mul", np.multiply, ad, bd)

    def backward(g):
        ga = unbroadcast(g * bd, _shape(ad)) if a.requires_grad else None
        gb = unbroadcast(g * ad, _shape(bd)) if b.requires_grad else None
        return ga, gb

    return make_result(out, (a, b), backward, "mul")


def div(a, b):
    r"""Elementwise :math:`a / b`; :math:`\bar a = \bar z / b`, :math:`\bar b = -\bar z\, a / b^2`."""
    a, b, ad, bd = _split(a, b)
    out = _compute("div", np.true_divide, ad, bd)

    def backward(g):
        ga = unbroadcast(g / bd, _shape(ad)) if a.requires_grad else None
        gb = unbroadcast(-g * ad / (bd * bd), _shape(bd)) if b.requires_grad else None
        return ga, gb

    return make_result(out, (a, b), backward, "div")


def pow(a, b):
    r"""Elementwise :math:`a^b`.

    :math:`\bar a = \bar z\, b\, a^{b-1}` (zero where :math:`b = 0`, as in PyTorch) and
    :math:`\bar b = \bar z\, a^b \ln a` (zero where :math:`a = 0,\ b \ge 0`, as in PyTorch).
    """
    a, b, ad, bd = _split(a, b)
    out = _compute("pow", np.power, ad, bd)

    def backward(g):
        ga = gb = None
        if a.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** (0 - 1) is masked out below
                ga = np.where(np.equal(bd, 0), 0.0, g * bd * np.power(ad, bd - 1)).astype(out.dtype, copy=False)
            ga = unbroadcast(ga, _shape(ad))
        if b.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 * log(0) is masked out
                dlog = np.where(np.equal(ad, 0) & np.greater_equal(bd, 0), 0.0, out * np.log(ad))
            gb = unbroadcast((g * dlog).astype(out.dtype, copy=False), _shape(bd))
        return ga, gb

    return make_result(out, (a, b), backward, "pow")


def matmul(a, b):
    r"""Matrix product with ``numpy.matmul`` semantics (1-D, 2-D and batched n-D).

    For :math:`Z = AB`: :math:`\bar A = \bar Z B^\top` and :math:`\bar B = A^\top \bar Z`.
    A 1-D left operand is treated as a row vector and a 1-D right operand as a
    column vector, and the added axis is removed again from the result.
    """
    a, b, ad, bd = _split(a, b)
    ad, bd = np.asarray(ad), np.asarray(bd)
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {ad.shape} and {bd.shape}")
    k_a = ad.shape[-1]
    k_b = bd.shape[0] if bd.ndim == 1 else bd.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {ad.shape} and {bd.shape} are not aligned: the last dimension of the first "
            f"({k_a}) must equal the {'first' if bd.ndim == 1 else 'second-to-last'} dimension of the second ({k_b})"
        )
    try:
        out = np.matmul(ad, bd)
    except ValueError as err:
        raise ValueError(f"matmul: batch dimensions of shapes {ad.shape} and {bd.shape} cannot be broadcast") from err

    def backward(g):
        if ad.ndim == 1 and bd.ndim == 1:
            return (g * bd if a.requires_grad else None), (g * ad if b.requires_grad else None)
        A = ad[None, :] if ad.ndim == 1 else ad
        B = bd[:, None] if bd.ndim == 1 else bd
        G = g
        if ad.ndim == 1:
            G = np.expand_dims(G, -2)
        if bd.ndim == 1:
            G = np.expand_dims(G, -1)
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(G @ np.swapaxes(B, -1, -2), A.shape).reshape(ad.shape)
        if b.requires_grad:
            gb = unbroadcast(np.swapaxes(A, -1, -2) @ G, B.shape).reshape(bd.shape)
        return ga, gb

    return make_result(out, (a, b), backward, "matmul")
