r"""LARS update: numba kernels and numpy reference (same arithmetic, same order).

The layer-wise trust ratio

.. math::
    \lambda^l = \eta\,\frac{\|w^l\|}{\|g^l\| + \beta\|w^l\| + \epsilon}
    \qquad (\lambda^l = 1 \text{ if } \|w^l\| = 0 \text{ or } \|g^l\| = 0)

needs the norms of the *whole* tensor before any element can be updated, so
one pass over the data cannot do it; two passes are the minimum:

1. :func:`lars_norms_kernel` reads :math:`w` and :math:`g` once and returns
   :math:`\|w\|^2` and :math:`\|g\|^2` (accumulated in double precision, in
   index order; the reference uses ``np.cumsum``, which adds in the same
   order, rather than the pairwise ``np.sum``);
2. :func:`lars_step_kernel` applies SGD with momentum to the scaled direction,
   element by element, in place:

.. math::
    d_t &= \lambda^l\,(g_t + \beta w_{t-1}) \\
    b_t &= \mu b_{t-1} + (1-\tau) d_t \quad (b_1 = d_1) \\
    d_t &\leftarrow d_t + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad d_t \leftarrow b_t \\
    w_t &= w_{t-1} - \gamma d_t

Nothing of the parameter's size is allocated by either kernel.  There is no
threaded variant: the norms pass is a serial reduction (so that the result does
not depend on the number of threads), and threading the second pass alone would
gain little.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS

__all__ = ["lars_trust_ratio", "lars_norms_kernel", "lars_step_kernel", "lars_step",
           "lars_step_reference"]


def lars_trust_ratio(weight_norm, grad_norm, trust_coefficient, weight_decay, eps):
    r"""``eta * ||w|| / (||g|| + wd * ||w|| + eps)``, or 1.0 when either norm is zero (Python doubles)."""
    if weight_norm > 0 and grad_norm > 0:
        return trust_coefficient * weight_norm / (grad_norm + weight_decay * weight_norm + eps)
    return 1.0


@numba.njit(**JIT_OPTIONS)
def lars_norms_kernel(param, grad):
    """Pass 1 on 1-D arrays: ``(sum(param**2), sum(grad**2))`` in double precision, in index order."""
    wss = 0.0
    gss = 0.0
    for i in range(param.size):
        w = np.float64(param[i])
        g = np.float64(grad[i])
        wss += w * w
        gss += g * g
    return wss, gss


@numba.njit(**JIT_OPTIONS)
def lars_step_kernel(param, grad, buf, maximize, nesterov, first, use_wd, wd, ratio, use_momentum, momentum,
                     one_minus_dampening, neg_lr, lo, hi):
    """Pass 2 on elements ``lo:hi`` of 1-D arrays, in place (``buf`` unused without momentum)."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    buf = buf[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        d = grad[i]
        if maximize:
            d = -d
        if use_wd:
            d = d + wd * p
        d = ratio * d
        if use_momentum:
            if first:
                b = d
            else:
                b = buf[i] * momentum + one_minus_dampening * d
            buf[i] = b
            if nesterov:
                d = d + momentum * b
            else:
                d = b
        param[i] = p + neg_lr * d


def _coefficients(lr, momentum, dampening, weight_decay, ratio, dtype):
    t = np.dtype(dtype).type
    return (weight_decay != 0, t(weight_decay), t(ratio), momentum != 0, t(momentum), t(1 - dampening), t(-lr))


def lars_step(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize, first,
              trust_coefficient, eps, adapt=True):
    """Both passes on C-contiguous arrays; returns the trust ratio used.

    ``adapt=False`` skips the norms (ratio 1: plain SGD, for excluded parameters);
    ``first`` means ``momentum_buffer`` is new (it is set to the first direction).
    """
    p, g = param.reshape(-1), grad.reshape(-1)
    ratio = 1.0
    if adapt:
        wss, gss = lars_norms_kernel(p, g)
        ratio = lars_trust_ratio(wss ** 0.5, gss ** 0.5, trust_coefficient, weight_decay, eps)
    b = momentum_buffer.reshape(-1) if momentum_buffer is not None else g
    lars_step_kernel(p, g, b, maximize, nesterov, first,
                     *_coefficients(lr, momentum, dampening, weight_decay, ratio, param.dtype), 0, p.size)
    return ratio


def _seq_norm(x):
    """Euclidean norm in double precision, added in index order (as the kernels do)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(np.cumsum(x * x)[-1]) ** 0.5 if x.size else 0.0


def lars_step_reference(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                        maximize, first, trust_coefficient, eps, adapt=True):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    ratio = 1.0
    if adapt:
        ratio = lars_trust_ratio(_seq_norm(param), _seq_norm(grad), trust_coefficient, weight_decay, eps)
    use_wd, wd, ratio_, use_momentum, momentum_, one_minus_dampening, neg_lr = _coefficients(
        lr, momentum, dampening, weight_decay, ratio, param.dtype)
    d = -grad if maximize else grad
    if use_wd:
        d = d + wd * param
    d = ratio_ * d
    if use_momentum:
        if first:
            momentum_buffer[...] = d
        else:
            momentum_buffer[...] = momentum_buffer * momentum_ + one_minus_dampening * d
        d = d + momentum_ * momentum_buffer if nesterov else momentum_buffer
    param += neg_lr * d
    return ratio
