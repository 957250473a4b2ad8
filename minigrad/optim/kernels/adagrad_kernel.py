r"""Adagrad: numba kernel and numpy reference (same arithmetic, same order).

.. math::
    g_t &\leftarrow \pm g_t + \lambda\theta_{t-1}, \qquad
    \tilde\gamma = \frac{\gamma}{1 + (t-1)\eta} \\
    s_t &= s_{t-1} + g_t^2, \qquad
    \theta_t = \theta_{t-1} - \tilde\gamma\,\frac{g_t}{\sqrt{s_t} + \epsilon}

As torch's ``_single_tensor_adagrad`` (``addcmul`` then ``addcdiv`` with ``value=-clr``).
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["adagrad_coefficients", "adagrad_step", "adagrad_step_kernel", "adagrad_step_kernel_parallel",
           "adagrad_step_reference"]


def adagrad_coefficients(lr, lr_decay, weight_decay, eps, step, dtype):
    """``(use_wd, wd, eps, neg_clr)`` with ``clr = lr / (1 + (step - 1) * lr_decay)``, cast to ``dtype``."""
    t = np.dtype(dtype).type
    clr = lr / (1 + (step - 1) * lr_decay)
    return (weight_decay != 0, t(weight_decay), t(eps), t(-clr))


@numba.njit(**JIT_OPTIONS)
def adagrad_step_kernel(param, grad, state_sum, maximize, use_wd, wd, eps, neg_clr, lo, hi):
    """One Adagrad step on elements ``lo:hi`` of 1-D arrays, in place."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    state_sum = state_sum[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            g = g + wd * p
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = p + (neg_clr * g) / (np.sqrt(s) + eps)


@numba.njit(**PARALLEL_OPTIONS)
def adagrad_step_kernel_parallel(param, grad, state_sum, maximize, use_wd, wd, eps, neg_clr, nchunks):
    """:func:`adagrad_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        adagrad_step_kernel(param, grad, state_sum, maximize, use_wd, wd, eps, neg_clr,
                            c * n // nchunks, (c + 1) * n // nchunks)


def adagrad_step(param, grad, state_sum, *, lr, lr_decay, weight_decay, eps, step, maximize):
    """Run the kernel on C-contiguous arrays (``step`` already incremented)."""
    c = adagrad_coefficients(lr, lr_decay, weight_decay, eps, step, param.dtype)
    p = param.reshape(-1)
    launch(adagrad_step_kernel, adagrad_step_kernel_parallel, p.size, p, grad.reshape(-1),
           state_sum.reshape(-1), maximize, *c)


def adagrad_step_reference(param, grad, state_sum, *, lr, lr_decay, weight_decay, eps, step, maximize):
    """The same step with numpy array operations."""
    use_wd, wd, eps_, neg_clr = adagrad_coefficients(lr, lr_decay, weight_decay, eps, step, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        g = g + wd * param
    state_sum += g * g
    param += (neg_clr * g) / (np.sqrt(state_sum) + eps_)
