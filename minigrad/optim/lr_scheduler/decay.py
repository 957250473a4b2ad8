r"""Decay schedules: the learning rate as a simple function of the epoch.

Every class has torch's chainable ``get_lr`` (a ratio applied to the current
``group["lr"]``, so it composes with other schedulers) and, except for the two
lambda schedulers, torch's closed form (used by :class:`SequentialLR`).
Below, :math:`\eta_0` is a group's ``initial_lr`` and :math:`t` is ``last_epoch``.
"""
from __future__ import annotations

import numbers
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping

from .base import LRScheduler, _check_last_epoch, _check_optimizer, _group_values, _is_real, \
    _warn_get_lr_called_within_step

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR"]


class _LambdaBase(LRScheduler):
    """Shared by LambdaLR and MultiplicativeLR: one function per group, saved only if it is an object."""

    _state_excluded = ("optimizer", "lr_lambdas")
    _state_special = ("lr_lambdas",)

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_last_epoch(last_epoch)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        self.optimizer = optimizer
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """The state; a lambda or plain function is saved as ``None``, a callable object as its ``__dict__``."""
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def _validated_state(self, state_dict):
        state = super()._validated_state(state_dict)
        saved = state_dict["lr_lambdas"]
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self.lr_lambdas) \
                or not all(s is None or isinstance(s, Mapping) for s in saved):
            raise ValueError(f"state dict entry 'lr_lambdas' is {saved!r}, expected a list of "
                             f"{len(self.lr_lambdas)} entries, each None or a dict")
        return state, [None if s is None else dict(s) for s in saved]

    def _apply_state(self, state):
        own, lambdas = state
        super()._apply_state(own)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaBase):
    r"""Set the learning rate to the initial one times a function of the epoch.

    .. math:: \eta_t = \eta_0 \, \lambda(t)

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        ``lr_lambda(epoch) -> factor``; one function for all groups or one per group.
    last_epoch : int, default -1

    Example
    -------
    Linear warm-up over 10 steps, then constant:

    >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 10))   # doctest: +SKIP
    """

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaBase):
    r"""Multiply the learning rate by a function of the epoch at every step.

    .. math:: \eta_t = \eta_{t-1} \, \lambda(t), \qquad \eta_0 \text{ unchanged}

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        ``lr_lambda(epoch) -> factor``; one function for all groups or one per group.
    last_epoch : int, default -1

    Example
    -------
    >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95)   # doctest: +SKIP
    """

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if not self._is_initial:
            return [group["lr"] * lmbda(self.last_epoch)
                    for lmbda, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)]
        return _group_values(self.optimizer, "lr")


class StepLR(LRScheduler):
    r"""Decay the learning rate by ``gamma`` every ``step_size`` epochs (a staircase).

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    Example
    -------
    ``lr = 0.05`` for epochs 0-29, ``0.005`` for 30-59, ``0.0005`` for 60-89, ...

    >>> sched = StepLR(opt, step_size=30, gamma=0.1)   # doctest: +SKIP
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size <= 0:
            raise ValueError(f"Expected positive integer step_size, but got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if (self.last_epoch == 0) or (self.last_epoch % self.step_size != 0):
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Decay the learning rate by ``gamma`` at each milestone epoch.

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    A milestone listed twice decays twice.

    Example
    -------
    ``lr = 0.05`` until epoch 29, ``0.005`` from 30 to 79, ``0.0005`` from 80 on:

    >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)   # doctest: +SKIP
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        if not all(isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in milestones):
            raise TypeError(f"milestones must be a list of integer epochs, got {milestones!r}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""Multiply the learning rate by a constant ``factor`` for the first ``total_iters`` epochs.

    .. math:: \eta_t = \eta_0 \cdot \begin{cases} \text{factor} & t < \text{total\_iters} \\
              1 & t \ge \text{total\_iters} \end{cases}

    A crude warm-up: a small constant rate while the statistics of a fresh model settle.

    Example
    -------
    >>> sched = ConstantLR(opt, factor=0.5, total_iters=4)   # doctest: +SKIP
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Change the learning-rate factor linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs.

    .. math:: \eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`T` = ``total_iters``.
    The usual linear warm-up (Goyal et al. 2017, *Accurate, Large Minibatch SGD*).

    Example
    -------
    >>> sched = LinearLR(opt, start_factor=0.1, total_iters=10)   # doctest: +SKIP
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 + (self.end_factor - self.start_factor)
                               / (self.total_iters * self.start_factor
                                  + (self.last_epoch - 1) * (self.end_factor - self.start_factor)))
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch.

    .. math:: \eta_t = \eta_0 \, \gamma^{t}

    Example
    -------
    >>> sched = ExponentialLR(opt, gamma=0.95)   # doctest: +SKIP
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        if not _is_real(gamma):
            raise TypeError(f"gamma must be a number, got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        # when resuming (last_epoch >= 0), the first step must not move the rate one epoch ahead
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay the learning rate to zero along a polynomial over ``total_iters`` epochs.

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    with :math:`T` = ``total_iters`` and :math:`p` = ``power`` (``power=1`` is a linear decay to 0).

    Example
    -------
    >>> sched = PolynomialLR(opt, total_iters=100, power=2.0)   # doctest: +SKIP
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        decay_factor = ((1.0 - self.last_epoch / self.total_iters)
                        / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [group["lr"] * decay_factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]
