r"""Training diagnostics (``minigrad.monitor``): is this run healthy, and if not, what to do?

:func:`diagnose` reads a :class:`~minigrad.train.History` and returns
:class:`Finding` objects for divergence, oscillation, plateau (or slow progress),
exploding and vanishing gradients and overfitting, each with a plain-language
diagnosis and a suggested action. :class:`DiagnosticsCallback` runs the same checks
live inside :func:`~minigrad.train.fit`.

>>> from minigrad.monitor import diagnose                     # doctest: +SKIP
>>> print(diagnose(history))                                  # doctest: +SKIP
[WARNING] plateau from epoch 1 (step 1)
  Diagnosis: After 20 epochs the training loss has fallen only 2.1% from its start ...
  Action:    The learning rate is too low: raise it 10-100x ...

The rules of thumb behind the checks: Karpathy, "A Recipe for Training Neural
Networks" (2019) and the CS231n notes on babysitting the learning process
(update/weight ratio about 1e-3); Goodfellow, Bengio & Courville, *Deep Learning*
(2016), ch. 8 and 11; Pascanu, Mikolov & Bengio (2013) on exploding and vanishing
gradients; Prechelt (1998) on early stopping.
"""
from .callback import DiagnosticsCallback
from .diagnose import CHECKS, diagnose
from .findings import KINDS, SEVERITIES, Finding, Findings
from .thresholds import Thresholds

__all__ = ["diagnose", "DiagnosticsCallback", "Finding", "Findings", "Thresholds", "KINDS", "SEVERITIES",
           "CHECKS"]
