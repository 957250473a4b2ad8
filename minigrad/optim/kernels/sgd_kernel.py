r"""SGD with momentum: numba kernel and numpy reference (same arithmetic, same order).

.. math::
    g_t &\leftarrow \pm g_t + \lambda\theta_{t-1} \\
    b_t &= \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1) \\
    g_t &\leftarrow g_t + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad g_t \leftarrow b_t \\
    \theta_t &= \theta_{t-1} - \gamma g_t

As torch's ``_single_tensor_sgd``: the momentum buffer starts as a copy of the
first gradient (no dampening on the first step), ``buf*momentum + (1-dampening)*g``
afterwards, and the update is ``param + (-lr) * g``.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["sgd_coefficients", "sgd_step", "sgd_step_kernel", "sgd_step_kernel_parallel", "sgd_step_reference"]


def sgd_coefficients(lr, momentum, dampening, weight_decay, dtype):
    """``(use_wd, wd, use_momentum, momentum, one_minus_dampening, neg_lr)`` cast to ``dtype``."""
    t = np.dtype(dtype).type
    return (weight_decay != 0, t(weight_decay), momentum != 0, t(momentum), t(1 - dampening), t(-lr))


@numba.njit(**JIT_OPTIONS)
def sgd_step_kernel(param, grad, buf, maximize, nesterov, first, use_wd, wd, use_momentum, momentum,
                    one_minus_dampening, neg_lr, lo, hi):
    """One SGD step on elements ``lo:hi`` of 1-D arrays, in place (``buf`` unused without momentum)."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    buf = buf[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            g = g + wd * p
        if use_momentum:
            if first:
                b = g
            else:
                b = buf[i] * momentum + one_minus_dampening * g
            buf[i] = b
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        param[i] = p + neg_lr * g


@numba.njit(**PARALLEL_OPTIONS)
def sgd_step_kernel_parallel(param, grad, buf, maximize, nesterov, first, use_wd, wd, use_momentum, momentum,
                             one_minus_dampening, neg_lr, nchunks):
    """:func:`sgd_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        sgd_step_kernel(param, grad, buf, maximize, nesterov, first, use_wd, wd, use_momentum, momentum,
                        one_minus_dampening, neg_lr, c * n // nchunks, (c + 1) * n // nchunks)


def sgd_step(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize,
             first):
    """Run the kernel on C-contiguous arrays; ``first`` means ``momentum_buffer`` is new (set it to g)."""
    c = sgd_coefficients(lr, momentum, dampening, weight_decay, param.dtype)
    p, g = param.reshape(-1), grad.reshape(-1)
    b = momentum_buffer.reshape(-1) if momentum_buffer is not None else g
    launch(sgd_step_kernel, sgd_step_kernel_parallel, p.size, p, g, b, maximize, nesterov, first, *c)


def sgd_step_reference(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                       maximize, first):
    """The same step with numpy array operations."""
    use_wd, wd, use_momentum, momentum_, one_minus_dampening, neg_lr = sgd_coefficients(
        lr, momentum, dampening, weight_decay, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        g = g + wd * param
    if use_momentum:
        if first:
            momentum_buffer[...] = g
        else:
            momentum_buffer[...] = momentum_buffer * momentum_ + one_minus_dampening * g
        g = g + momentum_ * momentum_buffer if nesterov else momentum_buffer
    param += neg_lr * g
