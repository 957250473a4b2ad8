r"""Adadelta: numba kernel and numpy reference (same arithmetic, same order).

.. math::
    g_t &\leftarrow \pm g_t + \lambda\theta_{t-1}, \qquad v_t = \rho v_{t-1} + (1-\rho) g_t^2 \\
    \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
    u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2, \qquad \theta_t = \theta_{t-1} - \gamma\Delta_t

As torch's ``_single_tensor_adadelta``.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["adadelta_coefficients", "adadelta_step", "adadelta_step_kernel", "adadelta_step_kernel_parallel",
           "adadelta_step_reference"]


def adadelta_coefficients(lr, rho, eps, weight_decay, dtype):
    """``(use_wd, wd, rho, one_minus_rho, eps, neg_lr)`` cast to ``dtype``."""
    t = np.dtype(dtype).type
    return (weight_decay != 0, t(weight_decay), t(rho), t(1 - rho), t(eps), t(-lr))


@numba.njit(**JIT_OPTIONS)
def adadelta_step_kernel(param, grad, square_avg, acc_delta, maximize, use_wd, wd, rho, one_minus_rho, eps,
                         neg_lr, lo, hi):
    """One Adadelta step on elements ``lo:hi`` of 1-D arrays, in place."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    square_avg = square_avg[lo:hi]
    acc_delta = acc_delta[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            g = g + wd * p
        v = square_avg[i] * rho + one_minus_rho * g * g
        square_avg[i] = v
        std = np.sqrt(v + eps)
        u = acc_delta[i]
        delta = np.sqrt(u + eps) / std * g
        acc_delta[i] = u * rho + one_minus_rho * delta * delta
        param[i] = p + neg_lr * delta


@numba.njit(**PARALLEL_OPTIONS)
def adadelta_step_kernel_parallel(param, grad, square_avg, acc_delta, maximize, use_wd, wd, rho, one_minus_rho,
                                  eps, neg_lr, nchunks):
    """:func:`adadelta_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        adadelta_step_kernel(param, grad, square_avg, acc_delta, maximize, use_wd, wd, rho, one_minus_rho, eps,
                             neg_lr, c * n // nchunks, (c + 1) * n // nchunks)


def adadelta_step(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """Run the kernel on C-contiguous arrays."""
    c = adadelta_coefficients(lr, rho, eps, weight_decay, param.dtype)
    p = param.reshape(-1)
    launch(adadelta_step_kernel, adadelta_step_kernel_parallel, p.size, p, grad.reshape(-1),
           square_avg.reshape(-1), acc_delta.reshape(-1), maximize, *c)


def adadelta_step_reference(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """The same step with numpy array operations."""
    use_wd, wd, rho_, one_minus_rho, eps_, neg_lr = adadelta_coefficients(lr, rho, eps, weight_decay, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        g = g + wd * param
    square_avg[...] = square_avg * rho_ + one_minus_rho * g * g
    std = np.sqrt(square_avg + eps_)
    delta = np.sqrt(acc_delta + eps_) / std * g
    acc_delta[...] = acc_delta * rho_ + one_minus_rho * delta * delta
    param += neg_lr * delta
