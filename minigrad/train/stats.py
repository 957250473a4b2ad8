r"""Per-step training diagnostics: gradient norm and update-to-parameter ratio.

Two numbers tell a lot about the health of a run (Karpathy, "A Recipe for
Training Neural Networks", 2019; CS231n notes):

* the global gradient norm :math:`\lVert g\rVert_2 = \sqrt{\sum_p \lVert \nabla_p L\rVert^2}`
  — spikes announce instability, a collapse to ~0 a dead network;
* the update ratio :math:`\lVert\theta_t-\theta_{t-1}\rVert_2 / \lVert\theta_{t-1}\rVert_2`
  — each step should change the weights by roughly :math:`10^{-3}` of their size; much
  larger means the learning rate is too high, much smaller that it is too low.

They are computed every step, so they must be cheap: one pass of a numba
kernel (:mod:`minigrad.train.stats_kernels`) after ``optimizer.step()`` reads the
parameters, the copy kept from the previous step and the gradients, and
refreshes the copy.  When the parameters and gradients are views of one flat
buffer (:func:`minigrad.optim.flatten_parameters`) that is a single kernel call
for the whole model; otherwise one call per parameter tensor.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from .stats_kernels import step_sums_kernel

__all__ = ["StepStats", "flat_base"]


def flat_base(arrays):
    """If ``arrays`` are contiguous, consecutive views filling one 1-D buffer, return that buffer.

    Returns ``None`` otherwise. Used to detect optimizers that keep parameters (or
    gradients) in a single flat array, so the statistics can run on it directly.
    """
    arrays = list(arrays)
    if not arrays or any(a is None for a in arrays):
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    start = base.__array_interface__["data"][0]
    item = base.itemsize
    offset = start
    for a in arrays:
        if a.dtype != base.dtype or not a.flags.c_contiguous or a.__array_interface__["data"][0] != offset:
            return None
        offset += a.size * item
    if offset != start + base.size * item:
        return None
    return base


class StepStats:
    r"""Compute :math:`\lVert g\rVert_2` and :math:`\lVert\Delta\theta\rVert/\lVert\theta\rVert` after each ``optimizer.step()``.

    It keeps a copy of the parameters; :meth:`update` (call it right after
    ``optimizer.step()``) compares the parameters with that copy, sums the squared
    gradients and refreshes the copy, all in one pass of
    :func:`~minigrad.train.stats_kernels.step_sums_kernel`. So :math:`\Delta\theta`
    is the change of the parameters since the previous :meth:`update` (or
    :meth:`sync`): call :meth:`sync` after changing the parameters by other means
    (loading weights). Parameters whose ``grad`` is ``None`` add nothing to the
    gradient norm.

    Example
    -------
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([3.0, 4.0]))
    >>> s = StepStats([w])                     # takes the first copy
    >>> w.grad = np.array([0.0, 2.0])
    >>> w.data -= 0.5 * w.grad                 # "optimizer step"
    >>> s.update()
    (2.0, 0.2)
    """

    def __init__(self, params):
        self.params = list(params)
        self._cache = {}
        self.sync()

    def _flat(self, kind, arrays):
        """:func:`flat_base` of ``arrays``, memoised on the identity of the arrays (cheap per step)."""
        hit = self._cache.get(kind)
        if hit is not None and len(hit[0]) == len(arrays) and all(map(operator.is_, hit[0], arrays)):
            return hit[1]
        base = flat_base(arrays)
        self._cache[kind] = (arrays, base)
        return base

    def sync(self):
        """Take a fresh copy of the parameters (the reference for the next update ratio)."""
        datas = [p.data for p in self.params]
        dtypes = {d.dtype for d in datas}
        if len(dtypes) == 1:
            dtype = dtypes.pop()
            self._prev_flat = np.empty(sum(d.size for d in datas), dtype=dtype)
            self._prev, off = [], 0
            for d in datas:
                view = self._prev_flat[off:off + d.size]
                view[...] = d.reshape(-1)
                self._prev.append(view)
                off += d.size
        else:
            self._prev_flat = None
            self._prev = [np.array(d, copy=True).reshape(-1) for d in datas]
        self._cache.clear()

    def update(self):
        """Return ``(grad_norm, update_ratio)`` of the step just taken and refresh the copy."""
        params = self.params
        datas = [p.data for p in params]
        grads = [p.grad for p in params]
        theta = self._flat("theta", datas)
        gflat = self._flat("grad", grads) if theta is not None else None
        pf = self._prev_flat
        if (theta is not None and gflat is not None and pf is not None
                and theta.size == pf.size == gflat.size and theta.dtype == pf.dtype):
            g2, d2, p2 = step_sums_kernel(theta, pf, gflat, True)
        else:
            g2 = d2 = p2 = 0.0
            for d, q, g in zip(datas, self._prev, grads):
                t = d.reshape(-1)
                if g is None:
                    a, b, c = step_sums_kernel(t, q, t, False)
                else:
                    a, b, c = step_sums_kernel(t, q, g.reshape(-1), True)
                g2 += a
                d2 += b
                p2 += c
        if p2 == 0.0:
            ratio = 0.0 if d2 == 0.0 else math.inf
        else:
            ratio = math.sqrt(d2 / p2)        # nan/inf propagate: a diverged run shows up here
        return math.sqrt(g2), ratio
