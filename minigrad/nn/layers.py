r"""Layers: ``Linear``, the activation modules and ``Dropout``."""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..dtypes import get_default_dtype
from .module import Module, Parameter

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "as_generator"]


def as_generator(rng):
    """A ``numpy.random.Generator`` from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


class Linear(Module):
    r"""Affine layer :math:`y = x W^\top + b` with ``W`` of shape ``(out_features, in_features)``.

    Initialised like PyTorch: every entry of ``W`` and ``b`` is drawn from
    :math:`U(-1/\sqrt{n_{in}},\, 1/\sqrt{n_{in}})` (``kaiming_uniform_`` with
    :math:`a=\sqrt5`, whose bound :math:`\sqrt{6/((1+a^2) n_{in})}` is exactly that).

    Example: ``Linear(64, 10, rng=0)`` maps a batch of shape ``(N, 64)`` to ``(N, 10)``.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {v!r}")
        gen = as_generator(rng)
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        bound = 1 / math.sqrt(in_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(gen.uniform(-bound, bound, (out_features, in_features)).astype(dt))
        self.bias = Parameter(gen.uniform(-bound, bound, out_features).astype(dt)) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    r""":math:`\max(x, 0)` as a module."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    r""":math:`\tanh x` as a module."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    r""":math:`1/(1+e^{-x})` as a module."""

    def forward(self, x):
        return F.sigmoid(x)


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.rng = as_generator(rng)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"
