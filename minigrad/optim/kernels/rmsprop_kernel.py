r"""RMSprop: numba kernel and numpy reference (same arithmetic, same order).

.. math::
    g_t &\leftarrow \pm g_t + \lambda\theta_{t-1}, \qquad v_t = \alpha v_{t-1} + (1-\alpha) g_t^2 \\
    \bar g_t &= \operatorname{lerp}(\bar g_{t-1}, g_t, 1-\alpha), \quad
    d_t = \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \quad\text{else}\ d_t = \sqrt{v_t} + \epsilon \\
    b_t &= \mu b_{t-1} + g_t / d_t, \ \theta_t = \theta_{t-1} - \gamma b_t \ (\mu > 0), \quad\text{else}\
    \theta_t = \theta_{t-1} - \gamma g_t / d_t

As torch's ``_single_tensor_rmsprop``.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["rmsprop_coefficients", "rmsprop_step", "rmsprop_step_kernel", "rmsprop_step_kernel_parallel",
           "rmsprop_step_reference"]


def rmsprop_coefficients(lr, alpha, eps, weight_decay, momentum, dtype):
    """``(use_wd, wd, alpha, one_minus_alpha, lerp_small, w, one_minus_w, eps, use_momentum, momentum,
    neg_lr)`` cast to ``dtype``; ``w = 1 - alpha`` is the lerp weight of the centered average."""
    t = np.dtype(dtype).type
    w = 1 - alpha
    return (weight_decay != 0, t(weight_decay), t(alpha), t(1 - alpha), abs(w) < 0.5, t(w), t(1 - w), t(eps),
            momentum > 0, t(momentum), t(-lr))


@numba.njit(**JIT_OPTIONS)
def rmsprop_step_kernel(param, grad, square_avg, grad_avg, momentum_buffer, maximize, centered, use_wd, wd,
                        alpha, one_minus_alpha, lerp_small, w, one_minus_w, eps, use_momentum, momentum, neg_lr,
                        lo, hi):
    """One RMSprop step on elements ``lo:hi`` of 1-D arrays, in place."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    square_avg = square_avg[lo:hi]
    grad_avg = grad_avg[lo:hi]
    momentum_buffer = momentum_buffer[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            g = g + wd * p
        v = square_avg[i] * alpha + one_minus_alpha * g * g
        square_avg[i] = v
        if centered:
            a = grad_avg[i]
            if lerp_small:
                a = a + w * (g - a)
            else:
                a = g - (g - a) * one_minus_w
            grad_avg[i] = a
            avg = np.sqrt(v + -a * a) + eps
        else:
            avg = np.sqrt(v) + eps
        if use_momentum:
            b = momentum_buffer[i] * momentum + g / avg
            momentum_buffer[i] = b
            param[i] = p + neg_lr * b
        else:
            param[i] = p + (neg_lr * g) / avg


@numba.njit(**PARALLEL_OPTIONS)
def rmsprop_step_kernel_parallel(param, grad, square_avg, grad_avg, momentum_buffer, maximize, centered, use_wd,
                                 wd, alpha, one_minus_alpha, lerp_small, w, one_minus_w, eps, use_momentum,
                                 momentum, neg_lr, nchunks):
    """:func:`rmsprop_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        rmsprop_step_kernel(param, grad, square_avg, grad_avg, momentum_buffer, maximize, centered, use_wd, wd,
                            alpha, one_minus_alpha, lerp_small, w, one_minus_w, eps, use_momentum, momentum,
                            neg_lr, c * n // nchunks, (c + 1) * n // nchunks)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                 centered, maximize):
    """Run the kernel on C-contiguous arrays; ``grad_avg``/``momentum_buffer`` may be None when unused."""
    c = rmsprop_coefficients(lr, alpha, eps, weight_decay, momentum, param.dtype)
    p, v = param.reshape(-1), square_avg.reshape(-1)
    a = grad_avg.reshape(-1) if centered else v
    b = momentum_buffer.reshape(-1) if momentum > 0 else v
    launch(rmsprop_step_kernel, rmsprop_step_kernel_parallel, p.size, p, grad.reshape(-1), v, a, b,
           maximize, centered, *c)


def rmsprop_step_reference(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay,
                           momentum, centered, maximize):
    """The same step with numpy array operations."""
    (use_wd, wd, alpha_, one_minus_alpha, lerp_small, w, one_minus_w, eps_, use_momentum, momentum_,
     neg_lr) = rmsprop_coefficients(lr, alpha, eps, weight_decay, momentum, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        g = g + wd * param
    square_avg[...] = square_avg * alpha_ + one_minus_alpha * g * g
    if centered:
        if lerp_small:
            grad_avg[...] = grad_avg + w * (g - grad_avg)
        else:
            grad_avg[...] = g - (g - grad_avg) * one_minus_w
        avg = np.sqrt(square_avg + -grad_avg * grad_avg) + eps_
    else:
        avg = np.sqrt(square_avg) + eps_
    if use_momentum:
        momentum_buffer[...] = momentum_buffer * momentum_ + g / avg
        param += neg_lr * momentum_buffer
    else:
        param += (neg_lr * g) / avg
