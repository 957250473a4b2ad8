r"""Adamax: numba kernel and numpy reference (same arithmetic, same order).

.. math::
    g_t &\leftarrow \pm g_t + \lambda\theta_{t-1}, \qquad
    m_t = \operatorname{lerp}(m_{t-1}, g_t, 1-\beta_1) \\
    u_t &= \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
    \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t}

As torch's ``_single_tensor_adamax``: the infinity norm replaces Adam's second moment.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["adamax_coefficients", "adamax_step", "adamax_step_kernel", "adamax_step_kernel_parallel",
           "adamax_step_reference"]


def adamax_coefficients(lr, beta1, beta2, eps, weight_decay, step, dtype):
    """``(use_wd, wd, lerp_small, w, one_minus_w, beta2, eps, neg_clr)`` cast to ``dtype``."""
    t = np.dtype(dtype).type
    w = 1 - beta1
    clr = lr / (1 - beta1 ** step)
    return (weight_decay != 0, t(weight_decay), abs(w) < 0.5, t(w), t(1 - w), t(beta2), t(eps), t(-clr))


@numba.njit(**JIT_OPTIONS)
def adamax_step_kernel(param, grad, exp_avg, exp_inf, maximize, use_wd, wd, lerp_small, w, one_minus_w, beta2,
                       eps, neg_clr, lo, hi):
    """One Adamax step on elements ``lo:hi`` of 1-D arrays, in place."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_inf = exp_inf[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            g = g + wd * p
        m = exp_avg[i]
        if lerp_small:
            m = m + w * (g - m)
        else:
            m = g - (g - m) * one_minus_w
        exp_avg[i] = m
        u = exp_inf[i] * beta2
        a = np.abs(g) + eps
        if not (u >= a or u != u):  # np.maximum, NaN included
            u = a
        exp_inf[i] = u
        param[i] = p + (neg_clr * m) / u


@numba.njit(**PARALLEL_OPTIONS)
def adamax_step_kernel_parallel(param, grad, exp_avg, exp_inf, maximize, use_wd, wd, lerp_small, w, one_minus_w,
                                beta2, eps, neg_clr, nchunks):
    """:func:`adamax_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        adamax_step_kernel(param, grad, exp_avg, exp_inf, maximize, use_wd, wd, lerp_small, w, one_minus_w,
                           beta2, eps, neg_clr, c * n // nchunks, (c + 1) * n // nchunks)


def adamax_step(param, grad, exp_avg, exp_inf, *, lr, beta1, beta2, eps, weight_decay, step, maximize):
    """Run the kernel on C-contiguous arrays (``step`` already incremented)."""
    c = adamax_coefficients(lr, beta1, beta2, eps, weight_decay, step, param.dtype)
    p = param.reshape(-1)
    launch(adamax_step_kernel, adamax_step_kernel_parallel, p.size, p, grad.reshape(-1), exp_avg.reshape(-1),
           exp_inf.reshape(-1), maximize, *c)


def adamax_step_reference(param, grad, exp_avg, exp_inf, *, lr, beta1, beta2, eps, weight_decay, step, maximize):
    """The same step with numpy array operations."""
    use_wd, wd, lerp_small, w, one_minus_w, beta2_, eps_, neg_clr = adamax_coefficients(
        lr, beta1, beta2, eps, weight_decay, step, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        g = g + wd * param
    if lerp_small:
        exp_avg[...] = exp_avg + w * (g - exp_avg)
    else:
        exp_avg[...] = g - (g - exp_avg) * one_minus_w
    np.maximum(exp_inf * beta2_, np.abs(g) + eps_, out=exp_inf)
    param += (neg_clr * exp_avg) / exp_inf
