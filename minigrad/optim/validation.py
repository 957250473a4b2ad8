"""Validation of optimizer hyper-parameters, with torch's messages (plus what was expected).

torch raises ``ValueError("Invalid learning rate: -0.1")``; minigrad raises the
same text followed by the rule, ``(expected lr >= 0)``, so the message says
both what went wrong and how to fix it.  Every optimizer's ``__init__`` calls
these before touching anything.
"""
from __future__ import annotations

import numbers

__all__ = ["check_lr", "check_eps", "check_betas", "check_beta", "check_weight_decay", "check_momentum",
           "check_nonnegative", "check_no_differentiable", "is_number"]


def is_number(x):
    """A real number that is not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_nonnegative(value, what, name):
    """Raise ``ValueError(f"Invalid {what}: {value}")`` unless ``0 <= value`` (torch's wording)."""
    if not is_number(value):
        raise TypeError(f"Invalid {what}: {value!r} (expected a real number for {name})")
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value} (expected {name} >= 0)")


def check_lr(lr):
    """torch: ``Invalid learning rate: -0.1``."""
    check_nonnegative(lr, "learning rate", "lr")


def check_eps(eps):
    """torch: ``Invalid epsilon value: -1e-08``."""
    check_nonnegative(eps, "epsilon value", "eps")


def check_weight_decay(weight_decay):
    """torch: ``Invalid weight_decay value: -0.1``."""
    check_nonnegative(weight_decay, "weight_decay value", "weight_decay")


def check_momentum(momentum):
    """torch: ``Invalid momentum value: -0.9``."""
    check_nonnegative(momentum, "momentum value", "momentum")


def check_beta(beta, index, name="betas"):
    """torch: ``Invalid beta parameter at index 1: 1.0``; a beta must lie in [0, 1)."""
    if not is_number(beta):
        raise TypeError(f"Invalid beta parameter at index {index}: {beta!r} (expected a real number)")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"Invalid beta parameter at index {index}: {beta} (expected 0 <= {name}[{index}] < 1)")


def check_betas(betas):
    """Validate a pair ``(beta1, beta2)``; returns it as a tuple of floats."""
    try:
        b = tuple(betas)
    except TypeError:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    if len(b) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {len(b)} values: {betas!r}")
    for i, beta in enumerate(b):
        check_beta(beta, i)
    return tuple(float(x) for x in b)


def check_no_differentiable(differentiable=False, fused=None, foreach=None, capturable=False):
    """Accept torch's implementation switches; only the ones that change semantics are refused.

    ``foreach``/``fused`` choose torch's CPU/GPU code path and are accepted and
    ignored (minigrad always runs its fused numba kernel).  ``differentiable``
    (backprop through the update) and ``capturable`` (CUDA graphs) do not exist here.
    """
    if differentiable:
        raise RuntimeError("differentiable=True is not supported: minigrad updates parameters in place "
                           "with numba kernels, outside the autograd graph")
    if capturable:
        raise RuntimeError("capturable=True is a CUDA-graph option of torch; minigrad runs on the CPU only")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
