r"""One-pass kernel for the per-step statistics, beside its plain-numpy reference.

After ``optimizer.step()`` a single loop over the parameters reads the new
parameters :math:`\theta_t`, the copy :math:`\theta_{t-1}` kept from the
previous step and the gradient :math:`g_t`, and returns

.. math::  \sum_i g_i^2, \qquad \sum_i (\theta_{t,i}-\theta_{t-1,i})^2, \qquad \sum_i \theta_{t-1,i}^2,

while overwriting the copy with :math:`\theta_t` for the next step.  One pass
instead of five NumPy calls (copy, subtract, three dot products) matters: the
statistics run every step, next to an optimizer update of the same size.

Summation order (what makes kernel and reference agree bit for bit):
elements are squared in float64, accumulated in four interleaved lanes
(element :math:`i` goes to lane :math:`i \bmod 4` of the first :math:`4\lfloor n/4\rfloor`
elements, sequentially within a lane), the lanes are combined as
:math:`(l_0+l_1)+(l_2+l_3)` and the remaining elements are added one by one.
Four independent accumulators let the CPU overlap the additions (a single
running sum waits ~4 cycles for each previous addition); ``fastmath`` stays
off, so the order above is exactly what runs.
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["step_sums_kernel", "step_sums_reference"]


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def step_sums_kernel(theta, prev, grad, use_grad):
    """Return ``(sum g^2, sum (theta-prev)^2, sum prev^2)`` and set ``prev[:] = theta`` (1-D arrays)."""
    n = theta.shape[0]
    m = n - n % 4
    g0 = g1 = g2 = g3 = 0.0
    d0 = d1 = d2 = d3 = 0.0
    p0 = p1 = p2 = p3 = 0.0
    for i in range(0, m, 4):
        t0 = np.float64(theta[i])
        t1 = np.float64(theta[i + 1])
        t2 = np.float64(theta[i + 2])
        t3 = np.float64(theta[i + 3])
        q0 = np.float64(prev[i])
        q1 = np.float64(prev[i + 1])
        q2 = np.float64(prev[i + 2])
        q3 = np.float64(prev[i + 3])
        prev[i] = theta[i]
        prev[i + 1] = theta[i + 1]
        prev[i + 2] = theta[i + 2]
        prev[i + 3] = theta[i + 3]
        p0 += q0 * q0
        p1 += q1 * q1
        p2 += q2 * q2
        p3 += q3 * q3
        e0 = t0 - q0
        e1 = t1 - q1
        e2 = t2 - q2
        e3 = t3 - q3
        d0 += e0 * e0
        d1 += e1 * e1
        d2 += e2 * e2
        d3 += e3 * e3
        if use_grad:
            h0 = np.float64(grad[i])
            h1 = np.float64(grad[i + 1])
            h2 = np.float64(grad[i + 2])
            h3 = np.float64(grad[i + 3])
            g0 += h0 * h0
            g1 += h1 * h1
            g2 += h2 * h2
            g3 += h3 * h3
    gs = (g0 + g1) + (g2 + g3)
    ds = (d0 + d1) + (d2 + d3)
    ps = (p0 + p1) + (p2 + p3)
    for i in range(m, n):
        t = np.float64(theta[i])
        q = np.float64(prev[i])
        prev[i] = theta[i]
        ps += q * q
        e = t - q
        ds += e * e
        if use_grad:
            h = np.float64(grad[i])
            gs += h * h
    return gs, ds, ps


def _lane_sum(sq):
    """Sum ``sq`` (float64, 1-D) in the kernel's order: 4 sequential lanes, pairwise combine, tail."""
    n = sq.shape[0]
    m = n - n % 4
    if m:
        lanes = np.cumsum(sq[:m].reshape(-1, 4), axis=0)[-1]   # cumsum is strictly sequential
        total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    else:
        total = np.float64(0.0)
    for v in sq[m:]:
        total = total + v
    return float(total)


def step_sums_reference(theta, prev, grad, use_grad):
    """NumPy reference of :func:`step_sums_kernel` (same results bit for bit, also sets ``prev``)."""
    t = theta.astype(np.float64)
    q = prev.astype(np.float64)
    h = grad.astype(np.float64)
    gs = _lane_sum(h * h) if use_grad else 0.0
    e = t - q
    ds = _lane_sum(e * e)
    ps = _lane_sum(q * q)
    prev[...] = theta
    return gs, ds, ps
