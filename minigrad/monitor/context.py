"""``RunData``: the series of one run, prepared once and shared by all checks."""
from __future__ import annotations

import math

import numpy as np

from .series import epoch_table, loss_curve, step_series

__all__ = ["RunData", "rel", "median_finite"]


def rel(delta, ref):
    """``delta / |ref|``, with 0/0 = 0 and x/0 = inf·sign(x)."""
    ref = abs(ref)
    if ref == 0:
        return 0.0 if delta == 0 else math.copysign(math.inf, delta)
    return delta / ref


def median_finite(x):
    """Median of the finite entries of ``x`` (NaN if none)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else math.nan


class RunData:
    """What the checks read: all steps, the steps before the first non-finite loss, the loss curve.

    Attributes
    ----------
    steps : StepSeries            every recorded step
    finite_steps : StepSeries     the steps before the first non-finite loss
    first_bad : int or None       index of the first non-finite loss
    curve : Curve                 the loss averaged per epoch / block, over ``finite_steps``
    epochs : dict of arrays       the epoch table
    initial_loss : float          median of the first (up to 5) finite losses
    progress : float              :math:`(L_0 - \\min L)/|L_0|` on the curve
    """

    def __init__(self, history, thresholds):
        self.th = thresholds
        self.steps = step_series(history)
        self.epochs = epoch_table(history)
        bad = np.flatnonzero(~np.isfinite(self.steps.loss))
        self.first_bad = int(bad[0]) if bad.size else None
        n_ok = len(self.steps) if self.first_bad is None else self.first_bad
        self.finite_steps = self.steps.head(n_ok)
        if len(self.steps) == 0:           # epoch table only: keep its finite prefix
            tl = self.epochs["train_loss"]
            badep = np.flatnonzero(~np.isfinite(tl))
            if badep.size:
                self.epochs = {k: (v[:badep[0]] if v is not None else None) for k, v in self.epochs.items()}
        self.curve = loss_curve(self.finite_steps, self.epochs, thresholds.min_points)
        if n_ok:
            self.initial_loss = float(np.median(self.finite_steps.loss[:5]))
        elif len(self.curve):
            self.initial_loss = float(self.curve.values[0])
        else:
            self.initial_loss = math.nan
        if len(self.curve):
            self.best_loss = float(np.min(self.curve.values))
            self.progress = rel(self.initial_loss - self.best_loss, self.initial_loss)
        else:
            self.best_loss, self.progress = math.nan, math.nan

    @property
    def diverged(self):
        """Whether :func:`check_divergence` finds anything (cached): checks whose advice would be
        misleading on a blown-up run (plateau, vanishing gradients, overfitting) stay silent then."""
        if not hasattr(self, "_diverged"):
            from .loss_checks import check_divergence
            self._diverged = check_divergence(self) is not None
        return self._diverged

    def curve_steps(self, first_point):
        """Index slice of ``finite_steps`` covered by the curve from point ``first_point`` on."""
        if len(self.finite_steps) == 0 or len(self.curve) == 0:
            return slice(0, 0)
        start_step = self.curve.step_first[first_point]
        i = int(np.searchsorted(self.finite_steps.step, start_step))
        return slice(i, len(self.finite_steps))

    def lr_at(self, i):
        """Learning rate at step index ``i`` (NaN if not recorded)."""
        return float(self.steps.lr[i]) if 0 <= i < len(self.steps) else math.nan
