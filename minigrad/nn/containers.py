"""Containers: ``Sequential`` and the multi-layer perceptron ``MLP``."""
from __future__ import annotations

from .layers import Linear, ReLU, Sigmoid, Tanh, as_generator
from .module import Module

__all__ = ["Sequential", "MLP"]

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class Sequential(Module):
    """Apply modules in order: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, expected a Module")
            setattr(self, str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class MLP(Sequential):
    """A multi-layer perceptron: ``Linear`` layers of the given ``sizes`` with an activation between them.

    ``MLP([64, 128, 10])`` is ``Linear(64, 128), ReLU(), Linear(128, 10)``: no activation
    after the last layer, whose outputs are logits for ``cross_entropy``.
    ``activation`` is a Module class (``nn.Tanh``) or one of ``'relu'``, ``'tanh'``, ``'sigmoid'``.
    One ``rng`` seeds every layer, so the same seed gives the same network.
    """

    def __init__(self, sizes, activation=ReLU, rng=None, dtype=None, bias=True):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; expected one of {sorted(_ACTIVATIONS)}")
            activation = _ACTIVATIONS[activation]
        gen = as_generator(rng)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias, rng=gen, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)
        self.sizes = sizes

    def extra_repr(self):
        return ""
