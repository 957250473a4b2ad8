r"""Learning-rate schedulers (``torch.optim.lr_scheduler``), with torch's names, defaults and numbers.

A scheduler writes ``group["lr"]`` (and, for the cyclical ones, the momentum or
Adam's ``betas[0]``) of an optimizer's parameter groups; call its ``step()``
after ``optimizer.step()``.

========================  =====================================================
module                    schedulers
========================  =====================================================
:mod:`.base`              ``LRScheduler`` (base class)
:mod:`.decay`             ``LambdaLR``, ``MultiplicativeLR``, ``StepLR``, ``MultiStepLR``,
                          ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``
:mod:`.cosine`            ``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts`` (SGDR)
:mod:`.cyclic`            ``CyclicLR``, ``OneCycleLR``
:mod:`.composition`       ``SequentialLR``, ``ChainedScheduler``
:mod:`.plateau`           ``ReduceLROnPlateau``
:mod:`.values`            ``lr_schedule_values`` (a schedule as arrays, for plots)
========================  =====================================================

Example
-------
>>> import numpy as np
>>> from minigrad.nn import Parameter
>>> from minigrad.optim import SGD
>>> from minigrad.optim.lr_scheduler import ExponentialLR
>>> opt = SGD([Parameter(np.zeros(2))], lr=1.0)
>>> sched = ExponentialLR(opt, gamma=0.5)
>>> for _ in range(2):
...     opt.step()
...     sched.step()
>>> sched.get_last_lr()
[0.25]
"""
from .base import LRScheduler
from .composition import ChainedScheduler, SequentialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .cyclic import CyclicLR, OneCycleLR
from .decay import ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR, PolynomialLR, \
    StepLR
from .plateau import ReduceLROnPlateau
from .values import lr_schedule_values

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
    "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "lr_schedule_values",
]
