r"""Step statistics: the gradient norm and the update-to-parameter ratio of one optimizer step.

Two numbers tell a lot about the health of a run (Karpathy, "A Recipe for
Training Neural Networks", 2019; CS231n notes):

* the global gradient norm :math:`\lVert g\rVert_2 = \sqrt{\sum_p \lVert \nabla_p L\rVert^2}`
  -- spikes announce instability, a collapse to ~0 a dead network;
* the update ratio :math:`\lVert\theta_t-\theta_{t-1}\rVert_2 / \lVert\theta_{t-1}\rVert_2`
  -- each step should change the weights by roughly :math:`10^{-3}` of their size; much
  larger means the learning rate is too high, much smaller that it is too low.

:func:`measure_step` takes one ``optimizer.step()`` and returns both.  They
come from three sums over the parameters the step updated (those with a
gradient).  Adam and AdamW add the sums from inside their update kernel, in
the pass they make anyway, so measuring costs almost nothing with float64
parameters (about as much as a second pass with float32); the other
optimizers keep a copy of each parameter and make one extra pass
(:mod:`minigrad.optim.kernels.step_sums`).  For SGD, whose update is a few
operations per element, the extra pass is no slower than a fused kernel was.
The two routes give the same bits.  :func:`minigrad.train.fit` records both
numbers for every step.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .kernels.step_sums import step_sums_kernel
from .optimizer import Optimizer

__all__ = ["StepStats", "measure_step"]


class StepStats(NamedTuple):
    r"""The sums of one step: :math:`\sum g^2`, :math:`\sum(\theta_t-\theta_{t-1})^2`, :math:`\sum\theta_{t-1}^2`."""

    grad_sq: float
    update_sq: float
    param_sq: float

    @property
    def grad_norm(self):
        r""":math:`\lVert g\rVert_2` over the parameters the step updated."""
        return math.sqrt(self.grad_sq)

    @property
    def update_ratio(self):
        r""":math:`\lVert\Delta\theta\rVert_2/\lVert\theta_{t-1}\rVert_2`.

        0 if nothing moved (and nothing was there); nan/inf show a diverged run.
        """
        if self.param_sq == 0.0:
            return 0.0 if self.update_sq == 0.0 else math.inf
        return math.sqrt(self.update_sq / self.param_sq)


def measure_step(optimizer, closure=None):
    """Run ``optimizer.step(closure)``; return ``(loss, StepStats)`` of that step.

    ``optimizer`` is a :class:`minigrad.optim.Optimizer`, or any object with
    ``step()`` and ``param_groups`` (a wrapper that clips gradients, say); the
    latter, and an ``Optimizer`` subclass with a ``step()`` of its own, is
    measured by copying its parameters before the step.

    Example
    -------
    >>> from minigrad.nn import Parameter
    >>> from minigrad.optim import SGD
    >>> w = Parameter(np.array([3.0, 4.0]))
    >>> w.grad = np.array([0.0, 2.0])
    >>> loss, stats = measure_step(SGD([w], lr=0.5))   # w becomes [3, 3]
    >>> stats.grad_norm, stats.update_ratio             # |g| = 2, |dw| / |w| = 1 / 5
    (2.0, 0.2)
    """
    sums = np.zeros(3)
    if isinstance(optimizer, Optimizer) and type(optimizer).step is Optimizer.step:
        optimizer._sums = sums
        try:
            loss = optimizer.step(closure)
        finally:
            optimizer._sums = None
    else:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        before = [np.array(p.data, copy=True).reshape(-1) for p in params]
        loss = optimizer.step() if closure is None else optimizer.step(closure)  # step() may take no closure
        for p, old in zip(params, before):
            if p.grad is not None:
                step_sums_kernel(np.ascontiguousarray(p.data).reshape(-1), old,
                                 np.ascontiguousarray(p.grad, dtype=p.data.dtype).reshape(-1), sums)
    return loss, StepStats(float(sums[0]), float(sums[1]), float(sums[2]))
