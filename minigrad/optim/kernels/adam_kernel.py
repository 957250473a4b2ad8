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
from .step_sums import (BLOCK, LANES, accumulate, accumulate_pair, add_block_sums, fold_lanes,
                         lane_accumulators)

__all__ = ["adam_coefficients", "adam_element", "adam_moments", "adam_step", "adam_step_kernel",
           "adam_step_kernel_parallel", "adam_step_reference", "adam_step_sums_kernel",
           "adam_step_sums_kernel_parallel", "adam_update_at"]


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


@numba.njit(inline="always", **JIT_OPTIONS)
def adam_moments(p, g, m, v, maximize, use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w, beta2,
                 one_minus_beta2):
    """What Adam, NAdam and RAdam share for one element: the gradient (sign, L2 decay) or the decayed
    parameter (decoupled), and the two moments.  Returns ``(p, g, m, v)``."""
    if maximize:
        g = -g
    if use_wd:
        if decoupled:
            p = p * decay
        else:
            g = g + wd * p
    if lerp_small:
        m = m + w * (g - m)
    else:
        m = g - (g - m) * one_minus_w
    v = v * beta2 + one_minus_beta2 * g * g
    return p, g, m, v


@numba.njit(inline="always", **JIT_OPTIONS)
def adam_element(p, g, m, v, vm, amsgrad, maximize, use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w,
                 beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size):
    """The arithmetic of one element: the new ``(p, m, v, vm)`` (``vm`` is used only with ``amsgrad``)."""
    p, g, m, v = adam_moments(p, g, m, v, maximize, use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w,
                              beta2, one_minus_beta2)
    v_used = v
    if amsgrad:
        if not (vm >= v or vm != vm):  # np.maximum, NaN included
            vm = v
        v_used = vm
    denom = np.sqrt(v_used) / bias_correction2_sqrt + eps
    return p + (neg_step_size * m) / denom, m, v, vm


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
        v = exp_avg_sq[i]
        vm = max_exp_avg_sq[i] if amsgrad else v  # read only when used: keeps the loop vectorizable
        p, m, v, vm = adam_element(param[i], grad[i], exp_avg[i], v, vm, amsgrad, maximize, use_wd, decoupled,
                                   wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
                                   bias_correction2_sqrt, eps, neg_step_size)
        param[i] = p
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            max_exp_avg_sq[i] = vm


@numba.njit(inline="always", **JIT_OPTIONS)
def adam_update_at(param, grad, exp_avg, exp_avg_sq, i, maximize, use_wd, decoupled, wd, decay, lerp_small, w,
                   one_minus_w, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size):
    """Update element ``i`` (no amsgrad) in place; return ``(gradient, old parameter, new parameter)``."""
    p_old = param[i]
    g = grad[i]
    v = exp_avg_sq[i]
    p, m, v, _ = adam_element(p_old, g, exp_avg[i], v, v, False, maximize, use_wd, decoupled, wd, decay,
                              lerp_small, w, one_minus_w, beta2, one_minus_beta2, bias_correction2_sqrt, eps,
                              neg_step_size)
    param[i] = p
    exp_avg[i] = m
    exp_avg_sq[i] = v
    return g, p_old, p


@numba.njit(**JIT_OPTIONS)
def adam_step_sums_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay, lerp_small,
                          w, one_minus_w, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, sums,
                          lo, hi):
    """:func:`adam_step_kernel` (without amsgrad) that also adds the step's sums to ``sums``.

    The loop visits the elements in the order of :mod:`.step_sums` (``lo``
    starts a block), which vectorizes with the sums: per block, two rows of
    ``LANES`` elements at a time, then the rest one by one.  (With amsgrad the
    loop has one branch too many for LLVM to vectorize it; ``Adam`` then
    measures the step with a copy and :func:`.step_sums_kernel`.)
    """
    param = param[lo:hi]
    grad = grad[lo:hi]
    exp_avg = exp_avg[lo:hi]
    exp_avg_sq = exp_avg_sq[lo:hi]
    n = param.size
    acc = lane_accumulators()
    for blk in range((n + BLOCK - 1) // BLOCK):
        start = blk * BLOCK
        stop = min(start + BLOCK, n)
        pairs = (stop - start) // (2 * LANES)
        for pair in range(pairs):
            base = start + 2 * LANES * pair
            for j in range(LANES):
                g_a, old_a, new_a = adam_update_at(param, grad, exp_avg, exp_avg_sq, base + j, maximize, use_wd,
                                                   decoupled, wd, decay, lerp_small, w, one_minus_w, beta2,
                                                   one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size)
                g_b, old_b, new_b = adam_update_at(param, grad, exp_avg, exp_avg_sq, base + LANES + j, maximize,
                                                   use_wd, decoupled, wd, decay, lerp_small, w, one_minus_w,
                                                   beta2, one_minus_beta2, bias_correction2_sqrt, eps,
                                                   neg_step_size)
                accumulate_pair(acc, j, g_a, old_a, new_a, g_b, old_b, new_b)
        rest = start + 2 * LANES * pairs
        for j in range(stop - rest):  # fewer than two rows left: one element at a time
            g, old, new = adam_update_at(param, grad, exp_avg, exp_avg_sq, rest + j, maximize, use_wd, decoupled,
                                         wd, decay, lerp_small, w, one_minus_w, beta2, one_minus_beta2,
                                         bias_correction2_sqrt, eps, neg_step_size)
            accumulate(acc, j % LANES, g, old, new)
        fold_lanes(acc, sums)


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


@numba.njit(**PARALLEL_OPTIONS)
def adam_step_sums_kernel_parallel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay,
                                   lerp_small, w, one_minus_w, beta2, one_minus_beta2, bias_correction2_sqrt, eps,
                                   neg_step_size, sums, nchunks):
    """:func:`adam_step_sums_kernel` on threads: whole blocks per thread, their sums added in order after."""
    n = param.size
    block_sums = np.zeros(((n + BLOCK - 1) // BLOCK, 3))
    nblocks = block_sums.shape[0]
    for c in numba.prange(nchunks):
        for b in range(c * nblocks // nchunks, (c + 1) * nblocks // nchunks):
            adam_step_sums_kernel(param, grad, exp_avg, exp_avg_sq, maximize, use_wd, decoupled, wd, decay,
                                  lerp_small, w, one_minus_w, beta2, one_minus_beta2, bias_correction2_sqrt, eps,
                                  neg_step_size, block_sums[b], b * BLOCK, min(n, (b + 1) * BLOCK))
    add_block_sums(sums, block_sums)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay,
              step, amsgrad, maximize, decoupled_weight_decay=False, sums=None):
    """Run the kernel on C-contiguous arrays of any shape (``step`` is the already incremented count).

    ``max_exp_avg_sq`` may be None unless ``amsgrad``.  With ``sums`` (float64,
    size 3) the fused kernel also adds the step's statistics to it
    (:mod:`.step_sums`) and ``True`` is returned; with amsgrad it returns
    ``False`` (the caller measures the step itself).
    """
    c = adam_coefficients(lr, beta1, beta2, eps, weight_decay, step, decoupled_weight_decay, param.dtype)
    p, g, m, v = param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1)
    vmax = max_exp_avg_sq.reshape(-1) if amsgrad else v
    if sums is None or amsgrad:
        launch(adam_step_kernel, adam_step_kernel_parallel, p.size, p, g, m, v, vmax, amsgrad, maximize, *c)
        return False
    launch(adam_step_sums_kernel, adam_step_sums_kernel_parallel, p.size, p, g, m, v, maximize, *c, sums)
    return True


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
