r"""Composing schedulers: one after another (``SequentialLR``) or all at once (``ChainedScheduler``).

``SequentialLR`` hands control from one scheduler to the next at milestone
epochs -- the usual "linear warm-up, then cosine decay".  ``ChainedScheduler``
steps every scheduler at every step; since chainable schedulers multiply the
current rate, their factors multiply: :math:`\eta_t = \eta_0 \prod_k f_k(t)`.
"""
from __future__ import annotations

import numbers
from bisect import bisect_right

from .base import LRScheduler, _check_last_epoch, _check_optimizer, _group_values
from .plateau import ReduceLROnPlateau

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_schedulers(owner, optimizer, schedulers, what):
    name = type(owner).__name__
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler{what}, but got no scheduler.")
    for idx, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name} at index {idx} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                             "kwargs to be specified when calling `step`, but got one at index "
                             f"{idx} in the given schedulers sequence.")
        if optimizer is not scheduler.optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but got scheduler "
                             f"{type(scheduler).__name__} at index {idx} has {scheduler.optimizer}, which is "
                             f"different from {type(optimizer).__name__}.")


class _Composite(LRScheduler):
    """State handling shared by the two composites: their own keys plus one state dict per child."""

    _state_excluded = ("optimizer", "_schedulers")
    _state_special = ("_schedulers",)

    def state_dict(self):
        """The state, with ``"_schedulers"`` holding the state dict of every wrapped scheduler."""
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _validated_state(self, state_dict):
        own = super()._validated_state(state_dict)
        saved = state_dict["_schedulers"]
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self._schedulers):
            raise ValueError(f"state dict entry '_schedulers' must be a list of {len(self._schedulers)} scheduler "
                             f"state dicts, got {saved!r}")
        children = []
        for idx, (s, sd) in enumerate(zip(self._schedulers, saved)):
            try:
                children.append(s._validated_state(sd))
            except (TypeError, ValueError) as e:
                raise type(e)(f"scheduler {idx} ({type(s).__name__}): {e}") from None
        return own, children

    def _apply_state(self, state):
        own, children = state
        super()._apply_state(own)
        for s, child in zip(self._schedulers, children):
            s._apply_state(child)


class SequentialLR(_Composite):
    r"""Run schedulers one after another, switching at the given milestone epochs.

    Scheduler :math:`k` drives the rate for :math:`m_{k-1} \le t < m_k`; at a
    milestone the next scheduler restarts from epoch 0 (its closed form), from
    the groups' ``initial_lr``.

    Parameters
    ----------
    optimizer : Optimizer
    schedulers : list of LRScheduler
        Built on ``optimizer``; their construction steps are undone here.
    milestones : list of int
        ``len(schedulers) - 1`` increasing epochs.
    last_epoch : int, default -1

    Example
    -------
    Five epochs of linear warm-up, then cosine decay:

    >>> warm = LinearLR(opt, start_factor=0.1, total_iters=5)          # doctest: +SKIP
    >>> cos = CosineAnnealingLR(opt, T_max=95)                         # doctest: +SKIP
    >>> sched = SequentialLR(opt, [warm, cos], milestones=[5])         # doctest: +SKIP
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_last_epoch(last_epoch)
        schedulers = list(schedulers)
        _check_schedulers(self, optimizer, schedulers, "")
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        if not all(isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in milestones) \
                or milestones != sorted(milestones):
            raise ValueError(f"milestones must be increasing integer epochs, got {milestones}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # reset the rates, undo the construction step of every scheduler, start the first one
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Undo the construction step of every (nested) scheduler: ``last_epoch -= 1``."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        """Advance one epoch; at a milestone, start the next scheduler from epoch 0."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        try:
            if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
                scheduler._update_lr(0)
            else:
                scheduler.step()
        except BaseException:
            self.last_epoch -= 1        # a refused step (e.g. OneCycleLR past its end) changes nothing
            raise
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    r"""Step several schedulers together: their effects on the learning rate multiply.

    .. math:: \eta_t = \eta_0 \prod_k f_k(t)

    Parameters
    ----------
    schedulers : sequence of LRScheduler
        Chainable schedulers of the same optimizer, stepped in this order.
    optimizer : Optimizer, optional
        Defaults to the optimizer of the first scheduler.

    Example
    -------
    A constant warm-up factor on top of an exponential decay:

    >>> sched = ChainedScheduler([ConstantLR(opt, factor=0.1, total_iters=2),
    ...                           ExponentialLR(opt, gamma=0.9)])      # doctest: +SKIP
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if optimizer is not None:
            _check_optimizer(optimizer)
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be chained, but got no "
                             "scheduler.")
        if optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        _check_schedulers(self, optimizer, schedulers, " to be chained")
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")

    def step(self):
        """Step every scheduler once, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")
