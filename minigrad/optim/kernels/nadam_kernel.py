r"""NAdam update: numba kernel and numpy reference (same arithmetic, same order).

With gradient :math:`g_t` (negated if ``maximize``), step :math:`t` and the
momentum schedule :math:`\mu_t = \beta_1(1 - \tfrac12\,0.96^{t\psi})`:

.. math::
    g_t &\leftarrow g_t + \lambda\theta_{t-1} \quad\text{(L2), or}\quad
    \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1} \quad\text{(decoupled)} \\
    m_t &= \operatorname{lerp}(m_{t-1}, g_t, 1-\beta_1), \qquad
    v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2 \\
    \theta_t &= \theta_{t-1}
      - \frac{\gamma(1-\mu_t)}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}
      - \frac{\gamma\,\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}

This is torch's ``_single_tensor_nadam`` operation by operation: the
denominator is ``sqrt(v / bias_correction2) + eps`` (unlike Adam, the bias
correction is *inside* the square root), and the parameter receives two
``addcdiv`` updates, first the gradient term and then the momentum term.
The scalar coefficients (including the running product of the :math:`\mu_i`)
are computed in Python doubles by :func:`nadam_coefficients`.
"""
from __future__ import annotations

import numba
import numpy as np

from .adam_kernel import adam_moments
from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["nadam_momentum", "nadam_coefficients", "nadam_step", "nadam_step_kernel",
           "nadam_step_kernel_parallel", "nadam_step_reference"]


def nadam_momentum(beta1, momentum_decay, step):
    r"""The momentum coefficient :math:`\mu_t = \beta_1(1 - \frac12 0.96^{t\psi})` of step ``t`` (a double)."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


def nadam_coefficients(lr, beta1, beta2, eps, weight_decay, momentum_decay, step, mu_product,
                       decoupled_weight_decay, dtype):
    """The scalars of one step, as torch computes them, cast to ``dtype``.

    ``step`` is the already incremented step count and ``mu_product`` the
    product :math:`\\prod_{i\\le t}\\mu_i` *including* this step's :math:`\\mu_t`.
    Returns ``(use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2,
    one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef)``.
    """
    t = np.dtype(dtype).type
    bias_correction2 = 1 - beta2 ** step
    mu = nadam_momentum(beta1, momentum_decay, step)
    mu_next = nadam_momentum(beta1, momentum_decay, step + 1)
    mu_product_next = mu_product * mu_next
    grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product)
    avg_coef = (-lr * mu_next) / (1.0 - mu_product_next)
    w = 1 - beta1
    return (weight_decay != 0, bool(decoupled_weight_decay), t(weight_decay), t(1 - lr * weight_decay),
            abs(w) < 0.5, t(w), t(1 - w), t(beta2), t(1 - beta2), t(bias_correction2), t(eps),
            t(grad_coef), t(avg_coef))


@numba.njit(**JIT_OPTIONS)
def nadam_step_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay, lerp_small,
                      w, one_minus_w, beta2, one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef,
                      lo, hi):
    """One NAdam step on elements ``lo:hi`` of 1-D arrays, in place, in a single pass."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_avg_sq = exp_avg_sq[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p, g, m, v = adam_moments(param[i], grad[i], exp_avg[i], exp_avg_sq[i], maximize, use_wd, decoupled, wd,
                                  decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2)
        exp_avg[i] = m
        exp_avg_sq[i] = v
        denom = np.sqrt(v / bias_correction2) + eps
        p = p + (grad_coef * g) / denom
        param[i] = p + (avg_coef * m) / denom


@numba.njit(**PARALLEL_OPTIONS)
def nadam_step_kernel_parallel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay,
                               lerp_small, w, one_minus_w, beta2, one_minus_beta2, bias_correction2, eps,
                               grad_coef, avg_coef, nchunks):
    """:func:`nadam_step_kernel` split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        nadam_step_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay, lerp_small,
                          w, one_minus_w, beta2, one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef,
                          c * n // nchunks, (c + 1) * n // nchunks)


def nadam_step(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, momentum_decay, step,
               mu_product, maximize, decoupled_weight_decay=False):
    """Run the kernel on C-contiguous arrays of any shape.

    ``step`` is the incremented count and ``mu_product`` already includes this step's :math:`\\mu_t`.
    """
    c = nadam_coefficients(lr, beta1, beta2, eps, weight_decay, momentum_decay, step, mu_product,
                           decoupled_weight_decay, param.dtype)
    p = param.reshape(-1)
    launch(nadam_step_kernel, nadam_step_kernel_parallel, p.size, p, grad.reshape(-1), exp_avg.reshape(-1),
           exp_avg_sq.reshape(-1), maximize, *c)


def nadam_step_reference(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay,
                         momentum_decay, step, mu_product, maximize, decoupled_weight_decay=False):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    (use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2_, one_minus_beta2, bias_correction2,
     eps_, grad_coef, avg_coef) = nadam_coefficients(lr, beta1, beta2, eps, weight_decay, momentum_decay, step,
                                                     mu_product, decoupled_weight_decay, param.dtype)
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
    denom = np.sqrt(exp_avg_sq / bias_correction2) + eps_
    param += (grad_coef * g) / denom
    param += (avg_coef * exp_avg) / denom
