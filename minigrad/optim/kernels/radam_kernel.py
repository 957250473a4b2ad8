r"""RAdam update: numba kernel and numpy reference (same arithmetic, same order).

With gradient :math:`g_t` (negated if ``maximize``), step :math:`t`,
:math:`\rho_\infty = 2/(1-\beta_2) - 1` and
:math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`:

.. math::
    m_t &= \operatorname{lerp}(m_{t-1}, g_t, 1-\beta_1), \qquad
    v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2 \\
    \theta_t &= \theta_{t-1} - \frac{m_t}{1-\beta_1^t}\,\gamma\,
      \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\; r_t
      \quad\text{if } \rho_t > 5, \qquad
    \theta_t = \theta_{t-1} - \frac{m_t}{1-\beta_1^t}\,\gamma \quad\text{otherwise,}

with :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty / ((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`.
This is torch's ``_single_tensor_radam`` operation by operation: the update
is the product ``((m / bc1) * lr) * (sqrt(bc2) / (sqrt(v) + eps)) * rect``
evaluated left to right, subtracted from the parameter.  The switch
:math:`\rho_t > 5` and :math:`r_t` are decided in Python (doubles) by
:func:`radam_coefficients`.
"""
from __future__ import annotations

import numba
import numpy as np

from .adam_kernel import adam_moments
from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["radam_rho", "radam_coefficients", "radam_step", "radam_step_kernel", "radam_step_kernel_parallel",
           "radam_step_reference"]


def radam_rho(beta2, step):
    r"""``(rho_inf, rho_t)``: the maximum and the current length of the approximated SMA (doubles, as torch)."""
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    return rho_inf, rho_t


def radam_coefficients(lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, dtype):
    """The scalars of one step (Python doubles, as torch), cast to ``dtype``.

    Returns ``(use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
    rectify, bias_correction1, lr, bias_correction2_sqrt, eps, rect)``.
    """
    t = np.dtype(dtype).type
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf, rho_t = radam_rho(beta2, step)
    rectify = rho_t > 5.0
    rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            if rectify else 1.0)
    w = 1 - beta1
    return (weight_decay != 0, bool(decoupled_weight_decay), t(weight_decay), t(1 - lr * weight_decay),
            abs(w) < 0.5, t(w), t(1 - w), t(beta2), t(1 - beta2), bool(rectify), t(bias_correction1), t(lr),
            t(bias_correction2 ** 0.5), t(eps), t(rect))


@numba.njit(**JIT_OPTIONS)
def radam_step_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay, lerp_small,
                      w, one_minus_w, beta2, one_minus_beta2, rectify, bias_correction1, lr,
                      bias_correction2_sqrt, eps, rect, lo, hi):
    """One RAdam step on elements ``lo:hi`` of 1-D arrays, in place, in a single pass."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_avg_sq = exp_avg_sq[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p, g, m, v = adam_moments(param[i], grad[i], exp_avg[i], exp_avg_sq[i], maximize, use_wd, decoupled, wd,
                                  decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2)
        exp_avg[i] = m
        exp_avg_sq[i] = v
        u = m / bias_correction1 * lr
        if rectify:
            u = u * (bias_correction2_sqrt / (np.sqrt(v) + eps)) * rect
        param[i] = p - u


@numba.njit(**PARALLEL_OPTIONS)
def radam_step_kernel_parallel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay,
                               lerp_small, w, one_minus_w, beta2, one_minus_beta2, rectify, bias_correction1, lr,
                               bias_correction2_sqrt, eps, rect, nchunks):
    """:func:`radam_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        radam_step_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay, lerp_small,
                          w, one_minus_w, beta2, one_minus_beta2, rectify, bias_correction1, lr,
                          bias_correction2_sqrt, eps, rect, c * n // nchunks, (c + 1) * n // nchunks)


def radam_step(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, step, maximize,
               decoupled_weight_decay=False):
    """Run the kernel on C-contiguous arrays of any shape (``step`` is the already incremented count)."""
    c = radam_coefficients(lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, param.dtype)
    p = param.reshape(-1)
    launch(radam_step_kernel, radam_step_kernel_parallel, p.size, p, grad.reshape(-1), exp_avg.reshape(-1),
           exp_avg_sq.reshape(-1), maximize, *c)


def radam_step_reference(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, step,
                         maximize, decoupled_weight_decay=False):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    (use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2_, one_minus_beta2, rectify,
     bias_correction1, lr_, bias_correction2_sqrt, eps_, rect) = radam_coefficients(
        lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, param.dtype)
    g = -grad if maximize else grad
    if use_wd:
        if decoupled:
            param *= decay
        else:
            g = g + wd * param
    if lerp_small:
        exp_avg[...] = exp_avg + w * (g - exp_avg)
    else:
        exp_avg[...] = g - (g - exp_avg) * one_minus_w
    exp_avg_sq[...] = exp_avg_sq * beta2_ + one_minus_beta2 * g * g
    update = exp_avg / bias_correction1 * lr_
    if rectify:
        update = update * (bias_correction2_sqrt / (np.sqrt(exp_avg_sq) + eps_)) * rect
    param -= update
