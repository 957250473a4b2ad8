r"""Cosine annealing, without and with warm restarts (SGDR).

Reference: I. Loshchilov and F. Hutter, *SGDR: Stochastic Gradient Descent with
Warm Restarts*, ICLR 2017, https://arxiv.org/abs/1608.03983.

The cosine spends more time near the large and the small learning rate than a
straight line does: it explores first, then settles slowly into a minimum.
"""
from __future__ import annotations

import math
import numbers

from .base import LRScheduler, _Flag, _group_values, _is_real, _warn_get_lr_called_within_step

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts"]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate from its initial value to ``eta_min`` along half a cosine over ``T_max`` epochs.

    The closed form (Loshchilov & Hutter 2017, without the restarts) is

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
        \left(1 + \cos\frac{\pi\, t}{T_{\max}}\right),

    and, as in torch, ``step()`` applies it recursively to the current rate,

    .. math::
        \eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})\,
        \frac{1 + \cos(\pi t / T_{\max})}{1 + \cos(\pi (t-1) / T_{\max})},

    so it composes with other schedulers.  After ``T_max`` epochs the rate
    climbs back along the cosine (period :math:`2T_{\max}`); it does not restart.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Number of epochs of the descent.
    eta_min : float, default 0.0
        The lowest learning rate.
    last_epoch : int, default -1

    Example
    -------
    >>> sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-4)   # doctest: +SKIP
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not _is_real(T_max) or T_max <= 0:
            raise ValueError(f"Expected positive T_max, but got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min
                    + (base_lr - self.eta_min) * (1 + math.cos((self.last_epoch) * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
        \left(1 + \cos\frac{\pi\, T_{cur}}{T_i}\right)

    :math:`T_{cur}` counts the epochs since the last restart; when it reaches
    :math:`T_i` the rate jumps back to :math:`\eta_0` and the next cycle lasts
    :math:`T_{i+1} = T_{\text{mult}}\, T_i` epochs (:math:`T_0` = ``T_0``).  The
    restart "warms" the model out of a sharp minimum; each cycle ends in one.

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Length of the first cycle.
    T_mult : int, default 1
        Growth factor of the cycle length after each restart.
    eta_min : float, default 0.0
    last_epoch : int, default -1

    ``step(epoch)`` also accepts a fractional epoch, to anneal within an epoch
    (``scheduler.step(epoch + i / iters)`` after batch ``i``), as in torch.

    Example
    -------
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)   # doctest: +SKIP
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, numbers.Integral) or isinstance(T_0, bool) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, numbers.Integral) or isinstance(T_mult, bool) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not _is_real(eta_min):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (may be fractional: ``epoch + batch / batches``)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if not _is_real(epoch):
                raise TypeError(f"epoch must be a number, got {epoch!r}")
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        with _Flag(self, "_get_lr_called_within_step"):
            values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")
