r"""The per-step statistics of an update: three sums, in a fixed order, beside their numpy reference.

A training loop wants two numbers from every step (see :mod:`minigrad.optim.step_stats`):
the gradient norm and the update-to-parameter ratio.  Both come from three sums
over the parameters :math:`\theta_{t-1}` (before the step), :math:`\theta_t`
(after) and the gradient :math:`g_t`:

.. math::  \sum_i g_i^2, \qquad \sum_i (\theta_{t,i}-\theta_{t-1,i})^2, \qquad \sum_i \theta_{t-1,i}^2 .

An optimizer kernel already reads :math:`g`, :math:`\theta_{t-1}` and writes
:math:`\theta_t` for every element, so the fused Adam/AdamW kernel adds
the three squares to running sums in the same pass: no copy of the parameters,
no second pass.  Other optimizers keep a copy of the parameters and call
:func:`step_sums_kernel` after the update; the sums are the same bits.

**Summation order.**  ``fastmath`` is off (IEEE arithmetic, no reassociation),
so a single running sum would stop LLVM from vectorizing the loop, and the
kernel would run at scalar speed.  Instead every quantity is squared in float64
and summed in this order, which a vectorized loop can follow exactly:

* the elements are cut into blocks of ``BLOCK`` (4096) consecutive elements;
* a block is read as rows of ``LANES`` (32) elements, and column :math:`j` of the
  rows is summed into lane :math:`j`: two rows at a time while two whole rows
  are left (lane :math:`j` adds :math:`x_{2r,j} + x_{2r+1,j}`), then the remaining
  elements one at a time (the last block may end inside a row);
* the 32 lane sums are folded pairwise, :math:`((l_0+l_1)+(l_2+l_3))+\dots`;
* the block sums are added, block after block, to the running total ``sums``
  (which carries over from tensor to tensor and group to group within a step).

Two rows per lane update halve the loads and stores of the lane sums, which
matters when another thread shares the core (measured: 8 instead of 80
microseconds on top of a 26k-parameter Adam step next to a spinning OpenBLAS
thread).  The blocks make the parallel kernels give the same bits as the serial
ones: a thread computes whole blocks, and the block sums are added in order
afterwards.  :func:`ordered_sum_reference` is the same order with numpy; the
tests compare every fused kernel with it bit for bit.
"""
from __future__ import annotations

import numba
import numpy as np

from .common import JIT_OPTIONS

__all__ = ["BLOCK", "LANES", "accumulate", "accumulate_pair", "add_block_sums", "fold_lanes", "lane_accumulators",
           "ordered_sum_reference", "step_sums_kernel", "step_sums_reference"]

LANES = 32
BLOCK = 4096  # a multiple of 2 * LANES


@numba.njit(inline="always", **JIT_OPTIONS)
def lane_accumulators():
    """The ``(3, LANES)`` float64 lane sums of one block, zeroed."""
    return np.zeros((3, LANES))


@numba.njit(inline="always", **JIT_OPTIONS)
def accumulate(acc, lane, g, p_old, p_new):
    """Add ``g**2``, ``(p_new - p_old)**2`` and ``p_old**2`` (in float64) to lane ``lane`` of ``acc``."""
    gg = np.float64(g)
    acc[0, lane] += gg * gg
    q = np.float64(p_old)
    d = np.float64(p_new) - q
    acc[1, lane] += d * d
    acc[2, lane] += q * q


@numba.njit(inline="always", **JIT_OPTIONS)
def accumulate_pair(acc, lane, g_a, old_a, new_a, g_b, old_b, new_b):
    """Add the squares of two elements (rows ``2r`` and ``2r+1`` of the lane), summed first, to lane ``lane``."""
    ga = np.float64(g_a)
    gb = np.float64(g_b)
    acc[0, lane] += ga * ga + gb * gb
    qa = np.float64(old_a)
    qb = np.float64(old_b)
    da = np.float64(new_a) - qa
    db = np.float64(new_b) - qb
    acc[1, lane] += da * da + db * db
    acc[2, lane] += qa * qa + qb * qb


@numba.njit(inline="always", **JIT_OPTIONS)
def fold_lanes(acc, sums):
    """Fold each row of ``acc`` pairwise, add it to ``sums[row]``, and zero ``acc`` for the next block."""
    for k in range(3):
        width = LANES // 2
        while width:
            for j in range(width):  # j < 2j: reads lanes not yet overwritten
                acc[k, j] = acc[k, 2 * j] + acc[k, 2 * j + 1]
            width //= 2
        sums[k] += acc[k, 0]
    acc[:, :] = 0.0


@numba.njit(inline="always", **JIT_OPTIONS)
def add_block_sums(sums, block_sums):
    """Add the rows of ``block_sums`` (one per block, in order) to ``sums``: the parallel kernels' last step."""
    for b in range(block_sums.shape[0]):
        for k in range(3):
            sums[k] += block_sums[b, k]


@numba.njit(**JIT_OPTIONS)
def step_sums_kernel(theta, prev, grad, sums):
    """Add ``sum g^2``, ``sum (theta - prev)^2``, ``sum prev^2`` to ``sums[0:3]`` (1-D arrays, this module's order)."""
    n = theta.size
    acc = lane_accumulators()
    for blk in range((n + BLOCK - 1) // BLOCK):
        start = blk * BLOCK
        stop = min(start + BLOCK, n)
        pairs = (stop - start) // (2 * LANES)
        for pair in range(pairs):
            base = start + 2 * LANES * pair
            for j in range(LANES):
                i = base + j
                k = i + LANES
                accumulate_pair(acc, j, grad[i], prev[i], theta[i], grad[k], prev[k], theta[k])
        rest = start + 2 * LANES * pairs
        for j in range(stop - rest):  # fewer than two rows left: one element at a time
            i = rest + j
            accumulate(acc, j % LANES, grad[i], prev[i], theta[i])
        fold_lanes(acc, sums)


def ordered_sum_reference(values, total=0.0):
    """``total`` plus the float64 1-D array ``values``, summed in this module's order (``cumsum`` is sequential)."""
    total = np.float64(total)
    for start in range(0, values.size, BLOCK):
        block = values[start:start + BLOCK]
        pairs = block.size // (2 * LANES)
        head = block[:2 * LANES * pairs].reshape(pairs, 2, LANES)
        lanes = np.zeros(LANES)
        if pairs:
            lanes = np.cumsum(head[:, 0, :] + head[:, 1, :], axis=0)[-1]
        rest = np.zeros(2 * LANES)              # 0.0 + x == x: padding changes no bit
        rest[:block.size - head.size] = block[head.size:]
        lanes = (lanes + rest[:LANES]) + rest[LANES:]
        while lanes.size > 1:
            lanes = lanes[0::2] + lanes[1::2]
        total = total + lanes[0]
    return total


def step_sums_reference(theta, prev, grad, sums):
    """NumPy reference of :func:`step_sums_kernel` (adds the same bits to ``sums``)."""
    g = grad.astype(np.float64)
    q = prev.astype(np.float64)
    d = theta.astype(np.float64) - q
    for k, sq in enumerate((g * g, d * d, q * q)):
        sums[k] = ordered_sum_reference(sq, sums[k])
