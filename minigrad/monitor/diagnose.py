r"""``diagnose``: read a training history and say what went wrong and what to try."""
from __future__ import annotations

import numpy as np

from .context import RunData
from .findings import KINDS, Findings, severity_rank
from .loss_checks import check_divergence, check_oscillation, check_plateau
from .other_checks import check_exploding_gradients, check_overfitting, check_vanishing_gradients
from .thresholds import make_thresholds

__all__ = ["diagnose", "CHECKS"]

#: kind -> check function ``f(run) -> Finding | None``
CHECKS = {
    "divergence": check_divergence,
    "oscillation": check_oscillation,
    "plateau": check_plateau,
    "exploding_gradients": check_exploding_gradients,
    "vanishing_gradients": check_vanishing_gradients,
    "overfitting": check_overfitting,
}


def diagnose(history, min_severity="warning", checks=None, **thresholds):
    r"""Look for the classic failure patterns of a training run; return a list of findings.

    Six checks run on the :class:`~minigrad.train.History` (``history.steps`` per optimizer
    step, ``history.epochs`` per epoch):

    ==========================  ===========================================================
    kind                        pattern (thresholds in :class:`Thresholds`)
    ==========================  ===========================================================
    ``divergence``              a NaN/inf loss, or a smoothed loss far above its best
    ``oscillation``             the loss curve rises and falls by more than noise
    ``plateau``                 little progress since the start (warning) or a flat loss
                                after good progress (info: converged)
    ``exploding_gradients``     gradient norm non-finite or far above its initial level
    ``vanishing_gradients``     gradient norm tiny while the loss is stuck
    ``overfitting``             validation loss rising while training loss falls (warning),
                                or validation loss far above training loss (info)
    ==========================  ===========================================================

    Each :class:`Finding` carries a plain-language diagnosis with the measured numbers and
    a suggested action. The loss is read through mini-batch noise: a trailing median over
    steps for divergence, means per epoch (with their standard errors) for the trends.
    Checks other than divergence and exploding gradients only read the steps before the
    first non-finite loss. With one global gradient norm the checks cannot tell *which*
    layer's gradients explode or vanish.

    Parameters
    ----------
    history : History, or its ``state_dict()``, or any object with ``steps`` / ``epochs`` dicts
    min_severity : {'info', 'warning', 'critical'}
        Findings below this level are dropped (default ``'warning'``: ``'info'`` findings —
        a converged plateau, a large but stable validation gap, ripples on a falling loss —
        describe healthy runs too).
    checks : iterable of str, optional
        Run only these kinds (default all of :data:`KINDS`).
    **thresholds
        Any field of :class:`Thresholds`, e.g. ``plateau_window=10``.

    Returns
    -------
    Findings
        A list of :class:`Finding`, most severe first, then in order of occurrence;
        ``print(findings)`` gives a readable report.

    Example
    -------
    >>> from minigrad.train import History
    >>> h = History()
    >>> for t, loss in enumerate([2.3, 1.9, 1.6, 4.0, 40.0, float("nan")], start=1):
    ...     h.record_step(t, 1, loss, 0.5, 1.0, 1e-3)
    >>> [f.kind for f in diagnose(h)]
    ['divergence']
    """
    rank = severity_rank(min_severity)
    th = make_thresholds(**thresholds)
    kinds = list(KINDS) if checks is None else [checks] if isinstance(checks, str) else list(checks)
    unknown = [k for k in kinds if k not in CHECKS]
    if unknown:
        raise ValueError(f"diagnose: unknown check(s) {unknown}; valid checks are {list(KINDS)}")
    with np.errstate(all="ignore"):                 # a blown-up run's numbers overflow; that is expected
        run = RunData(history, th)
        found = [f for f in (CHECKS[k](run) for k in kinds)
                 if f is not None and severity_rank(f.severity) >= rank]
    big = 1 << 62
    found.sort(key=lambda f: (-severity_rank(f.severity),
                              f.step if f.step is not None else big,
                              f.epoch if f.epoch is not None else big))
    return Findings(found)
