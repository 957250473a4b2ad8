"""The tunable thresholds of :func:`~minigrad.monitor.diagnose`, with their defaults and meaning."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

__all__ = ["Thresholds", "make_thresholds"]


@dataclass(frozen=True)
class Thresholds:
    r"""Every number the checks compare against; pass any of them to ``diagnose`` as a keyword.

    "Points" are the training loss averaged per epoch (or, for runs with fewer than
    ``min_points`` epochs of several steps, per equal block of steps).

    Divergence
        ``smooth_window`` (10): steps in the trailing median that smooths mini-batch noise.
        ``divergence_factor`` (3): the smoothed loss must exceed this multiple of its best value...
        ``divergence_giveback`` (0.25): ...and give back at least this fraction of the progress
        made since the start (so that noise around a converged, tiny loss is not flagged).
        ``divergence_z`` (2): the factor is multiplied by :math:`e^{\sigma_m(2\sqrt{2\ln n}+z)}`,
        with :math:`\sigma_m` the standard error of a median of ``smooth_window`` log-losses
        (estimated from the run) and :math:`n` the number of windows, so that a very noisy run
        needs a larger excursion.
        A non-finite loss is always a divergence.
    Oscillation
        ``oscillation_window`` (10): changes between consecutive points per scanned window.
        ``oscillation_rise`` (0.05): a rise (or fall) between consecutive points counts when it is
        larger than this fraction of the loss...
        ``oscillation_z`` (3): ...and larger than this many standard errors of the mini-batch noise.
        ``oscillation_min_rises`` (2): rises, and falls, needed in a window to call it oscillation.
        ``oscillation_net_progress`` (0.5): if the loss still fell by more than this fraction over
        the window, the ripples are only reported as ``'info'``.
    Plateau / slow progress
        ``plateau_window`` (5): points over which the recent improvement is measured.
        ``plateau_tol`` (0.01): recent relative improvement below this is a plateau.
        ``min_progress`` (0.1): a run whose loss fell by less than this fraction of its initial
        value (and is not improving faster now) is stuck or too slow: a warning. A plateau after
        more progress than that is a converged run: ``'info'``.
        ``small_update_ratio`` (1e-4) / ``large_update_ratio`` (1e-2): the median
        :math:`\lVert\Delta\theta\rVert/\lVert\theta\rVert` below which a stuck run's learning rate
        is called too low, and above which (if the loss also swings) too high (about
        :math:`10^{-3}` is healthy).
    Gradients
        ``grad_ref_steps`` (10): the median gradient norm of the first steps is the reference.
        ``explode_factor`` (100): a gradient norm above this multiple of the reference explodes.
        ``vanish_grad_norm`` (1e-6) and ``vanish_factor`` (1e4): a recent median gradient norm below
        the absolute value, or below reference / factor, vanishes — reported only when the loss
        has made less than ``min_progress`` (a converged run has small gradients too).
    Overfitting
        ``overfit_patience`` (3): the last epochs that must all have a validation loss...
        ``overfit_rise`` (0.1): ...more than this fraction above its best, while the training
        loss has fallen by more than this fraction since the best epoch.
        ``gap_ratio`` (1.0): a final validation loss above the training loss by more than this
        fraction of it is reported as an ``'info'`` gap.
    General
        ``min_points`` (8): minimum number of points of the loss curve, see above.
    """

    smooth_window: int = 10
    divergence_factor: float = 3.0
    divergence_giveback: float = 0.25
    divergence_z: float = 2.0
    oscillation_window: int = 10
    oscillation_rise: float = 0.05
    oscillation_z: float = 3.0
    oscillation_min_rises: int = 2
    oscillation_net_progress: float = 0.5
    plateau_window: int = 5
    plateau_tol: float = 0.01
    min_progress: float = 0.1
    small_update_ratio: float = 1e-4
    large_update_ratio: float = 1e-2
    grad_ref_steps: int = 10
    explode_factor: float = 100.0
    vanish_grad_norm: float = 1e-6
    vanish_factor: float = 1e4
    overfit_patience: int = 3
    overfit_rise: float = 0.1
    gap_ratio: float = 1.0
    min_points: int = 8

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "int":
                if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                    raise ValueError(f"diagnose: threshold {f.name} must be a positive int, got {v!r}")
            elif isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0:
                raise ValueError(f"diagnose: threshold {f.name} must be a number >= 0, got {v!r}")
        if self.divergence_factor <= 1 or self.explode_factor <= 1 or self.vanish_factor <= 1:
            raise ValueError("diagnose: divergence_factor, explode_factor and vanish_factor must be > 1")


def make_thresholds(**kwargs):
    """A :class:`Thresholds` from keyword arguments; an unknown name is a ``TypeError`` listing all."""
    names = [f.name for f in fields(Thresholds)]
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise TypeError(f"diagnose: unknown threshold(s) {unknown}; valid thresholds are {names}")
    return Thresholds(**kwargs)
