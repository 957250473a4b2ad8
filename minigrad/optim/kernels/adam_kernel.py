r"""Adam / AdamW update: numba kernel and numpy reference (same arithmetic, same order).

With gradient :math:`g_t` (negated if ``maximize``), and step :math:`t`:

.. math::
    g_t &\leftarrow g_t + \lambda\theta_{t-1}  \quad\text{(Adam's L2 weight decay), or}\quad
    \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1} \quad\text{(AdamW's decoupled decay)} \\
    m_t &= \operatorname{lerp}(m_{t-1}, g_t, 1-\beta_1) = m_{t-1} + (1-\beta_1)(g_t - m_{t-1}) \\
    v_t &= \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2 \qquad
    (\text{amsgrad: } v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \text{ is used below}) \\
    \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
    \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

This is torch's ``_single_tensor_adam`` operation by operation: ``lerp`` for
the first moment (torch switches to ``end - (end - start)(1 - w)`` when the
weight is >= 0.5), ``v*beta2 + ((1-beta2)*g)*g`` for the second, the bias
corrections computed in double precision from a float step, and the update as
``param + (-step_size * m) / denom`` (torch's ``addcdiv``).
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS, PARALLEL_OPTIONS, launch

__all__ = ["adam_coefficients", "adam_step", "adam_step_kernel", "adam_step_kernel_parallel",
           "adam_step_reference"]


def adam_coefficients(lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, dtype):
    """The scalars of one step (Python doubles, as torch), cast to ``dtype``.

    Returns ``(use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
    bias_correction2_sqrt, eps, neg_step_size)``: the arguments the kernel and the reference share.
    """
    t = np.dtype(dtype).type
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    w = 1 - beta1
    return (weight_decay != 0, bool(decoupled_weight_decay), t(weight_decay), t(1 - lr * weight_decay),
            abs(w) < 0.5, t(w), t(1 - w), t(beta2), t(1 - beta2), t(bias_correction2_sqrt), t(eps),
            t(-step_size))


@numba.njit(**JIT_OPTIONS)
def adam_step_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize,
                     use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
                     bias_correction2_sqrt, eps, neg_step_size, lo, hi):
    """One Adam step on elements ``lo:hi`` of 1-D arrays, in place, in a single pass."""
    param = param[lo:hi]
    grad = grad[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_avg_sq = exp_avg_sq[lo:hi]
    max_exp_avg_sq = max_exp_avg_sq[lo:hi]
    for i in range(param.size):  # from 0: see common.py on vectorization
        p = param[i]
        g = grad[i]
        if maximize:
            g = -g
        if use_wd:
            if decoupled:
                p = p * decay
            else:
                g = g + wd * p
        m = exp_avg[i]
        if lerp_small:
            m = m + w * (g - m)
        else:
            m = g - (g - m) * one_minus_w
        exp_avg[i] = m
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg_sq[i] = v
        if amsgrad:
            vm = max_exp_avg_sq[i]
            if not (vm >= v or vm != vm):  # np.maximum, NaN included
                vm = v
            max_exp_avg_sq[i] = vm
            v = vm
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        param[i] = p + (neg_step_size * m) / denom


@numba.njit(**PARALLEL_OPTIONS)
def adam_step_kernel_parallel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize,
                              use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2,
                              one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, nchunks):
    """:func:`adam_step_kernel` over the whole arrays, split in ``nchunks`` ranges run by threads."""
    n = param.size
    for c in numba.prange(nchunks):
        adam_step_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize,
                         use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
                         bias_correction2_sqrt, eps, neg_step_size, c * n // nchunks, (c + 1) * n // nchunks)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay,
              step, amsgrad, maximize, decoupled_weight_decay=False):
    """Run the kernel on C-contiguous arrays of any shape (``step`` is the already incremented count).

    ``max_exp_avg_sq`` may be None unless ``amsgrad``.
    """
    c = adam_coefficients(lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, param.dtype)
    p, g, m, v = param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1)
    vmax = max_exp_avg_sq.reshape(-1) if amsgrad else v
    launch(adam_step_kernel, adam_step_kernel_parallel, p.size, p, g, m, v, vmax, amsgrad, maximize, *c)


def adam_step_reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps,
                        weight_decay, step, amsgrad, maximize, decoupled_weight_decay=False):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    (use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2_, one_minus_beta2,
     bias_correction2_sqrt, eps_, neg_step_size) = adam_coefficients(
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
    v = exp_avg_sq
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    denom = np.sqrt(v) / bias_correction2_sqrt + eps_
    param += (neg_step_size * exp_avg) / denom
