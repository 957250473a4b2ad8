r"""``ReduceLROnPlateau``: lower the learning rate when a monitored metric stops improving.

Unlike the other schedulers it is driven by a measurement, not by the epoch:
``scheduler.step(val_loss)`` once per epoch, after validation.
"""
from __future__ import annotations

import math
import numbers

from .base import LRScheduler, _check_optimizer, _group_values, _is_real

__all__ = ["ReduceLROnPlateau"]


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer (a number of epochs), got {value!r}")


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    An epoch *improves* when the metric beats the best value so far by more than
    the threshold: in ``mode="min"``,

    .. math::
        \text{rel: } m < \text{best}\,(1 - \text{threshold}), \qquad
        \text{abs: } m < \text{best} - \text{threshold}

    (``mode="max"``: :math:`m > \text{best}(1 + \text{threshold})` or
    :math:`m > \text{best} + \text{threshold}`).  When more than ``patience``
    epochs in a row fail to improve, every group's rate becomes

    .. math:: \eta \leftarrow \max(\eta \cdot \text{factor},\ \text{min\_lr})

    (unless that changes it by less than ``eps``), and the next ``cooldown``
    epochs are not counted.  Models often benefit from dividing the rate by
    2-10 once learning stagnates.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}, default "min"
        Whether the metric should decrease (a loss) or increase (an accuracy).
    factor : float, default 0.1
        New rate = rate * factor; must be below 1.
    patience : int, default 10
        Epochs without improvement tolerated before reducing (0: reduce at the first bad epoch).
    threshold : float, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int, default 0
        Epochs to wait after a reduction before counting bad epochs again.
    min_lr : float or list of float, default 0
        Lower bound of the rate, for all groups or per group.
    eps : float, default 1e-8
        A reduction smaller than ``eps`` is skipped.

    Example
    -------
    >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)   # doctest: +SKIP
    >>> for epoch in range(epochs):                                          # doctest: +SKIP
    ...     train(...); val_loss = validate(...)
    ...     sched.step(val_loss)
    """

    _state_choices = {"mode": ("min", "max"), "threshold_mode": ("rel", "abs")}
    _state_optional = ("default_min_lr",)

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if not _is_real(factor):
            raise TypeError(f"factor must be a number, got {factor!r}")
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if factor < 0:
            raise ValueError(f"Factor should be >= 0.0, got {factor}.")
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
            default_min_lr, min_lrs = None, list(min_lr)
        else:
            default_min_lr, min_lrs = min_lr, [min_lr] * n
        if not all(_is_real(m) for m in min_lrs):
            raise TypeError(f"min_lr must be a number or a list of numbers (one per param group), got {min_lr!r}")
        _check_count(patience, "patience")
        _check_count(cooldown, "cooldown")
        if not _is_real(threshold) or not _is_real(eps):
            raise TypeError(f"threshold and eps must be numbers, got {threshold!r} and {eps!r}")
        self._check_modes(mode, threshold_mode)
        self.factor = factor
        self.optimizer = optimizer
        self.default_min_lr = default_min_lr
        self.min_lrs = min_lrs
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    @staticmethod
    def _check_modes(mode, threshold_mode):
        if mode not in {"min", "max"}:
            raise ValueError(f"mode {mode} is unknown! (expected 'min' or 'max')")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError(f"threshold mode {threshold_mode} is unknown! (expected 'rel' or 'abs')")

    def _reset(self):
        """Reset the best value, the bad-epoch counter and the cooldown counter."""
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics):
        """Record this epoch's metric (a number, 0-d array or one-element Tensor); reduce the rate if needed."""
        try:
            current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step expects the metric as a number (e.g. the validation loss), "
                            f"got {metrics!r}") from None
        epoch = self.last_epoch + 1
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0   # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self, epoch):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the `optimizer` ({len(groups)}) differs from "
                                   f"when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to "
                                   "a new param group being added to the optimizer. Please modify the `min_lrs` "
                                   "field to match the length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        """Whether the scheduler is waiting after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            rel_epsilon = 1.0 - self.threshold
            return a < best * rel_epsilon
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            rel_epsilon = self.threshold + 1.0
            return a > best * rel_epsilon
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        self._check_modes(mode, threshold_mode)
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _apply_state(self, state):
        super()._apply_state(state)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)
