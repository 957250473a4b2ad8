r"""LAMB update: numba kernels and numpy reference (same arithmetic, same order).

The Adam direction with decoupled weight decay,

.. math::
    m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
    u_t &= \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon} + \lambda w_{t-1},

is scaled by the layer-wise trust ratio
:math:`\phi(\|w_{t-1}\|)/\|u_t\|` (1 if either norm is zero):
:math:`w_t = w_{t-1} - \gamma\,\frac{\phi(\|w_{t-1}\|)}{\|u_t\|}\,u_t`.

The ratio needs :math:`\|u_t\|`, a norm over the whole tensor of a quantity
that exists only once the moments are updated, so one pass cannot do it; two
passes are the minimum, and neither allocates anything of the parameter's size:

1. :func:`lamb_moments_kernel` updates :math:`m` and :math:`v` in place and
   returns :math:`\|w\|^2` and :math:`\|u\|^2` (double precision, index order;
   the reference uses ``np.cumsum``, which adds in the same order);
2. :func:`lamb_apply_kernel` recomputes :math:`u` from the stored :math:`m`,
   :math:`v` and :math:`w` (the same operations, hence the same bits) and
   writes :math:`w`.

There is no threaded variant: the first pass is a serial reduction (so that the
norms do not depend on the number of threads), and threading the second pass
alone would gain little.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS

__all__ = ["lamb_trust_ratio", "lamb_coefficients", "lamb_moments_kernel", "lamb_apply_kernel", "lamb_step",
           "lamb_step_reference"]


def lamb_trust_ratio(weight_norm, update_norm, clamp_value=None):
    r"""``phi(||w||) / ||u||`` with ``phi(z) = min(z, clamp_value)``; 1.0 when either norm is zero."""
    if weight_norm > 0 and update_norm > 0:
        phi = weight_norm if clamp_value is None else min(weight_norm, clamp_value)
        return phi / update_norm
    return 1.0


def lamb_coefficients(beta1, beta2, eps, weight_decay, step, dtype):
    """``(beta1, 1-beta1, beta2, 1-beta2, bias_correction1, bias_correction2, eps, use_wd, wd)`` in ``dtype``."""
    t = np.dtype(dtype).type
    return (t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(1 - beta1 ** step), t(1 - beta2 ** step), t(eps),
            weight_decay != 0, t(weight_decay))


@numba.njit(**JIT_OPTIONS)
def _direction(p, m, v, bias_correction1, bias_correction2, eps, use_wd, wd):
    """One element of ``u = (m / bc1) / (sqrt(v / bc2) + eps) + wd * p``."""
    u = (m / bias_correction1) / (np.sqrt(v / bias_correction2) + eps)
    if use_wd:
        u = u + wd * p
    return u


@numba.njit(**JIT_OPTIONS)
def lamb_moments_kernel(param, grad, exp_avg, exp_avg_sq, maximize, beta1, one_minus_beta1, beta2,
                        one_minus_beta2, bias_correction1, bias_correction2, eps, use_wd, wd):
    """Pass 1 on 1-D arrays: update the moments in place; return ``(sum(w**2), sum(u**2))``."""
    wss = 0.0
    uss = 0.0
    for i in range(param.size):
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        m = beta1 * exp_avg[i] + one_minus_beta1 * g
        v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        u = np.float64(_direction(p, m, v, bias_correction1, bias_correction2, eps, use_wd, wd))
        uss += u * u
        p64 = np.float64(p)
        wss += p64 * p64
    return wss, uss


@numba.njit(**JIT_OPTIONS)
def lamb_apply_kernel(param, exp_avg, exp_avg_sq, bias_correction1, bias_correction2, eps, use_wd, wd,
                      neg_step, lo, hi):
    """Pass 2 on elements ``lo:hi``: ``param += neg_step * u`` with ``u`` recomputed, in place."""
    param = param[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_avg_sq = exp_avg_sq[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        param[i] = p + neg_step * _direction(p, exp_avg[i], exp_avg_sq[i], bias_correction1, bias_correction2,
                                             eps, use_wd, wd)


def lamb_step(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, step, maximize,
              clamp_value=None, adapt=True):
    """Both passes on C-contiguous arrays (``step`` is the incremented count); returns the trust ratio used.

    ``adapt=False`` uses a ratio of 1 (an excluded tensor: a plain bias-corrected Adam step).
    """
    c = lamb_coefficients(beta1, beta2, eps, weight_decay, step, param.dtype)
    bc1, bc2, eps_, use_wd, wd = c[4:]
    p, m, v = param.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1)
    wss, uss = lamb_moments_kernel(p, grad.reshape(-1), m, v, maximize, *c)
    ratio = lamb_trust_ratio(wss ** 0.5, uss ** 0.5, clamp_value) if adapt else 1.0
    lamb_apply_kernel(p, m, v, bc1, bc2, eps_, use_wd, wd, param.dtype.type(-(lr * ratio)), 0, p.size)
    return ratio


def _seq_norm(x):
    """Euclidean norm in double precision, added in index order (as the kernels do)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(np.cumsum(x * x)[-1]) ** 0.5 if x.size else 0.0


def lamb_step_reference(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, step,
                        maximize, clamp_value=None, adapt=True):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    b1, omb1, b2, omb2, bc1, bc2, eps_, use_wd, wd = lamb_coefficients(beta1, beta2, eps, weight_decay, step,
                                                                       param.dtype)
    g = -grad if maximize else grad
    exp_avg[...] = b1 * exp_avg + omb1 * g
    exp_avg_sq[...] = b2 * exp_avg_sq + omb2 * g * g
    u = (exp_avg / bc1) / (np.sqrt(exp_avg_sq / bc2) + eps_)
    if use_wd:
        u = u + wd * param
    ratio = lamb_trust_ratio(_seq_norm(param), _seq_norm(u), clamp_value) if adapt else 1.0
    param += param.dtype.type(-(lr * ratio)) * u
    return ratio
