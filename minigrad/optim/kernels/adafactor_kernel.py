r"""Adafactor update: numba kernels and numpy reference (same arithmetic, same order).

Adafactor scales the whole update of a parameter by two *norms* -- the RMS of
the parameter (relative step size) and the RMS of the update itself (update
clipping) -- so, unlike Adam, one pass over the data cannot do it: a number
that depends on every element is needed before the first element can be
written.  The passes used here are the minimum:

* a matrix (factored second moment, shape ``(..., m, n)``): pass 1 updates the
  row and column averages of :math:`g^2` and measures :math:`\|\theta\|`;
  pass 2 measures :math:`\|U\|` (it needs the *finished* column averages);
  pass 3 writes :math:`\theta`.
* a vector (or scalar): pass 1 updates :math:`\widehat V` and measures
  :math:`\|\theta\|` and :math:`\|U\|`; pass 2 writes :math:`\theta`.

:math:`U` is recomputed in the later pass instead of being stored, so nothing
of the parameter's size is allocated.  Norms are accumulated in double
precision, sequentially (the reference uses ``np.cumsum``, which adds in the
same order, instead of the pairwise ``np.sum``).

With :math:`w_t = t^{\tau}` (``beta2_decay`` :math:`\tau`):

.. math::
    R_t &= (1-w_t) R_{t-1} + w_t\,\operatorname{mean}_j g_{ij}^2, \qquad
    C_t = (1-w_t) C_{t-1} + w_t\,\operatorname{mean}_i g_{ij}^2 \\
    \widehat V_{ij} &= \frac{R_i C_j}{\max(\operatorname{mean}_i R_i,\ \epsilon_1)}, \qquad
    U = \frac{g}{\sqrt{\max(\widehat V,\ \epsilon_1^2)}}

torch writes the averages as ``lerp`` and the means as squared norms; here
they are written as the sums above (the column sums must be accumulated into
``C`` in place to avoid a buffer), which agrees with torch to a few ulps.  A
vector uses ``lerp`` exactly as torch.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS

__all__ = ["adafactor_factored_stats_kernel", "adafactor_factored_rms_kernel", "adafactor_factored_apply_kernel",
           "adafactor_vector_stats_kernel", "adafactor_vector_apply_kernel", "adafactor_step",
           "adafactor_step_reference"]


@numba.njit(**JIT_OPTIONS)
def adafactor_factored_stats_kernel(param, grad, row_var, col_var, zero, beta_hat, row_coef, col_coef):
    """Pass 1 on ``(B, m, n)`` arrays: update ``row_var (B, m)`` and ``col_var (B, n)``; return sum(param**2)."""
    nb, m, n = grad.shape
    pss = 0.0
    for b in range(nb):
        for j in range(n):
            col_var[b, j] = beta_hat * col_var[b, j]
        for i in range(m):
            acc = zero
            for j in range(n):
                g = grad[b, i, j]
                gg = g * g
                acc = acc + gg
                col_var[b, j] = col_var[b, j] + col_coef * gg
                p = np.float64(param[b, i, j])
                pss += p * p
            row_var[b, i] = beta_hat * row_var[b, i] + row_coef * acc
    return pss


@numba.njit(**JIT_OPTIONS)
def _row_denominator(row_var, b, zero, inv_m, eps1):
    """``max(mean_i row_var[b, i], eps1)`` (NaN propagates, as torch's clamp)."""
    s = zero
    for i in range(row_var.shape[1]):
        s = s + row_var[b, i]
    den = s * inv_m
    if den < eps1:
        den = eps1
    return den


@numba.njit(**JIT_OPTIONS)
def _factored_u(g, r, c, den, eps1_sq, one):
    """One element of the update ``U = g / sqrt(max(r c / den, eps1**2))`` (torch: ``rsqrt(v) * g``)."""
    v = (r * c) / den
    if v < eps1_sq:
        v = eps1_sq
    return (one / np.sqrt(v)) * g


@numba.njit(**JIT_OPTIONS)
def adafactor_factored_rms_kernel(grad, row_var, col_var, zero, one, inv_m, eps1, eps1_sq):
    """Pass 2 on ``(B, m, n)`` arrays: return sum(U**2), reading the updated factors (nothing written)."""
    nb, m, n = grad.shape
    uss = 0.0
    for b in range(nb):
        den = _row_denominator(row_var, b, zero, inv_m, eps1)
        for i in range(m):
            r = row_var[b, i]
            for j in range(n):
                u = np.float64(_factored_u(grad[b, i, j], r, col_var[b, j], den, eps1_sq, one))
                uss += u * u
    return uss


@numba.njit(**JIT_OPTIONS)
def adafactor_factored_apply_kernel(param, grad, row_var, col_var, maximize, use_wd, decay, zero, one, inv_m,
                                    eps1, eps1_sq, coef):
    """Pass 3 on ``(B, m, n)`` arrays: ``param = param * decay + coef * U`` in place."""
    nb, m, n = grad.shape
    for b in range(nb):
        den = _row_denominator(row_var, b, zero, inv_m, eps1)
        for i in range(m):
            r = row_var[b, i]
            for j in range(n):
                g = grad[b, i, j]
                if maximize:
                    g = -g
                p = param[b, i, j]
                if use_wd:
                    p = p * decay
                param[b, i, j] = p + coef * _factored_u(g, r, col_var[b, j], den, eps1_sq, one)


@numba.njit(**JIT_OPTIONS)
def adafactor_vector_stats_kernel(param, grad, variance, lerp_small, w, one_minus_w, eps1_sq, one):
    """Pass 1 on 1-D arrays: update ``variance`` (torch's lerp); return ``(sum(param**2), sum(U**2))``."""
    pss = 0.0
    uss = 0.0
    for i in range(param.size):
        g = grad[i]
        gg = g * g
        v = variance[i]
        if lerp_small:
            v = v + w * (gg - v)
        else:
            v = gg - (gg - v) * one_minus_w
        variance[i] = v
        if v < eps1_sq:
            v = eps1_sq
        u = np.float64((one / np.sqrt(v)) * g)
        uss += u * u
        p = np.float64(param[i])
        pss += p * p
    return pss, uss


@numba.njit(**JIT_OPTIONS)
def adafactor_vector_apply_kernel(param, grad, variance, maximize, use_wd, decay, eps1_sq, one, coef):
    """Pass 2 on 1-D arrays: ``param = param * decay + coef * U`` in place."""
    for i in range(param.size):
        g = grad[i]
        if maximize:
            g = -g
        v = variance[i]
        if v < eps1_sq:
            v = eps1_sq
        p = param[i]
        if use_wd:
            p = p * decay
        param[i] = p + coef * ((one / np.sqrt(v)) * g)


def _scalars(lr, beta2_decay, eps1, weight_decay, step, dtype):
    """Step-dependent doubles of torch's ``_single_tensor_adafactor``."""
    dtype = np.dtype(dtype)
    if eps1 is None:
        eps1 = float(np.finfo(dtype).eps)
    one_minus_beta2_t = step ** beta2_decay
    rho_t = min(lr, 1 / (step ** 0.5))
    return eps1, one_minus_beta2_t, rho_t, weight_decay != 0, dtype.type(1 - lr * weight_decay)


def _coef(pss, uss, numel, eps2, rho_t, d):
    """``-alpha / denom`` with alpha from RMS(param) and the clipping denominator from RMS(U), as torch."""
    alpha = max(eps2, pss ** 0.5 / (numel ** 0.5)) * rho_t
    denom = max(1.0, uss ** 0.5 / ((numel ** 0.5) * d))
    return -alpha / denom


def adafactor_step(param, grad, row_var, col_var, variance, *, lr, beta2_decay, eps1, eps2, d, weight_decay,
                   step, maximize):
    """One Adafactor step on a C-contiguous parameter (``step`` is the incremented count).

    A parameter with ``ndim >= 2`` uses ``row_var`` (shape ``(..., m, 1)``) and
    ``col_var`` (``(..., 1, n)``); otherwise ``variance`` (the parameter's shape).
    """
    if param.size == 0:
        return
    t = param.dtype.type
    eps1, w, rho_t, use_wd, decay = _scalars(lr, beta2_decay, eps1, weight_decay, step, param.dtype)
    if param.ndim >= 2:
        m, n = param.shape[-2:]
        p3, g3 = param.reshape(-1, m, n), grad.reshape(-1, m, n)
        r2, c2 = row_var.reshape(-1, m), col_var.reshape(-1, n)
        zero, one, inv_m = t(0), t(1), t(1.0 / m)
        pss = adafactor_factored_stats_kernel(p3, g3, r2, c2, zero, t(1 - w), t(w / n), t(w / m))
        uss = adafactor_factored_rms_kernel(g3, r2, c2, zero, one, inv_m, t(eps1), t(eps1 * eps1))
        coef = _coef(pss, uss, param.size, eps2, rho_t, d)
        adafactor_factored_apply_kernel(p3, g3, r2, c2, maximize, use_wd, decay, zero, one, inv_m, t(eps1),
                                        t(eps1 * eps1), t(coef))
    else:
        p1, g1, v1 = param.reshape(-1), grad.reshape(-1), variance.reshape(-1)
        pss, uss = adafactor_vector_stats_kernel(p1, g1, v1, abs(w) < 0.5, t(w), t(1 - w), t(eps1 * eps1), t(1))
        coef = _coef(pss, uss, param.size, eps2, rho_t, d)
        adafactor_vector_apply_kernel(p1, g1, v1, maximize, use_wd, decay, t(eps1 * eps1), t(1), t(coef))


def _seq_sumsq(x):
    """Sum of squares in double precision, added in order (as the kernels do)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(np.cumsum(x * x)[-1]) if x.size else 0.0


def adafactor_step_reference(param, grad, row_var, col_var, variance, *, lr, beta2_decay, eps1, eps2, d,
                             weight_decay, step, maximize):
    """The same step with numpy array operations (temporaries and all), for tests and for reading."""
    if param.size == 0:
        return
    t = param.dtype.type
    eps1, w, rho_t, use_wd, decay = _scalars(lr, beta2_decay, eps1, weight_decay, step, param.dtype)
    eps1_sq = t(eps1 * eps1)
    pss = _seq_sumsq(param)
    gg = grad * grad
    if param.ndim >= 2:
        m, n = param.shape[-2:]
        # R: the sum over a row, added left to right, then scaled; C: scaled, then each row added in turn
        row_sums = np.cumsum(gg, axis=-1)[..., -1:]
        row_var[...] = t(1 - w) * row_var + t(w / n) * row_sums
        col_var *= t(1 - w)
        for i in range(m):
            col_var += t(w / m) * gg[..., i:i + 1, :]
        den = np.cumsum(row_var, axis=-2)[..., -1:, :] * t(1.0 / m)
        den = np.where(den < t(eps1), t(eps1), den)
        v = (row_var * col_var) / den
    else:
        if abs(w) < 0.5:
            variance[...] = variance + t(w) * (gg - variance)
        else:
            variance[...] = gg - (gg - variance) * t(1 - w)
        v = variance
    v = np.where(v < eps1_sq, eps1_sq, v)
    u = (t(1) / np.sqrt(v)) * grad
    coef = _coef(pss, _seq_sumsq(u), param.size, eps2, rho_t, d)
    if maximize:
        u = -u
    if use_wd:
        param *= decay
    param += t(coef) * u
