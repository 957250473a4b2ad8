r"""``lr_schedule_values``: the sequence a scheduler produces, for plots and tables."""
from __future__ import annotations

import numpy as np

__all__ = ["lr_schedule_values"]


def lr_schedule_values(scheduler_factory, steps, *, lr=0.1, momentum=0.9, metrics=None):
    r"""Run a scheduler for ``steps`` steps on a throw-away optimizer and record what it sets.

    A one-parameter :class:`~minigrad.optim.SGD` with learning rate ``lr`` and
    ``momentum`` is built, ``scheduler_factory(optimizer)`` makes the scheduler,
    and the loop ``optimizer.step(); scheduler.step()`` runs ``steps`` times.
    Entry :math:`t` of the result is the value the optimizer uses at its step
    :math:`t` (:math:`t = 0, \dots, \text{steps}-1`).

    Parameters
    ----------
    scheduler_factory : callable
        ``optimizer -> scheduler``, e.g. ``lambda opt: StepLR(opt, step_size=30)``.
    steps : int
        Number of steps to record.
    lr, momentum : float
        The optimizer's starting learning rate and momentum.
    metrics : sequence of float, optional
        Values passed to ``scheduler.step(metric)``, one per step; required for
        :class:`ReduceLROnPlateau`.

    Returns
    -------
    dict
        ``{"lr": ndarray of shape (steps,), "momentum": ndarray of shape (steps,)}``.

    Example
    -------
    >>> from minigrad.optim.lr_scheduler import StepLR, lr_schedule_values
    >>> lr_schedule_values(lambda opt: StepLR(opt, step_size=2, gamma=0.5), 5, lr=1.0)["lr"]
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """
    from ...nn.module import Parameter
    from ..sgd import SGD

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if metrics is not None:
        metrics = list(metrics)
        if len(metrics) < steps:
            raise ValueError(f"metrics has {len(metrics)} values, but {steps} steps need one value each")
    optimizer = SGD([Parameter(np.zeros(1))], lr=lr, momentum=momentum)
    scheduler = scheduler_factory(optimizer)
    group = optimizer.param_groups
    out = {"lr": np.empty(steps), "momentum": np.empty(steps)}
    for t in range(steps):
        out["lr"][t] = group[0]["lr"]
        out["momentum"][t] = group[0]["momentum"]
        optimizer.step()
        if metrics is not None:
            scheduler.step(metrics[t])
        else:
            scheduler.step()
    return out
