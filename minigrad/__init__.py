"""minigrad: a small reverse-mode autograd library with Numba-fused optimizers.

>>> import minigrad
>>> x = minigrad.Tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4.])

Importing minigrad compiles nothing: optimizer kernels are compiled on first use
and cached on disk.
"""
from . import functional, nn
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .dtypes import get_default_dtype, set_default_dtype
from .gradcheck import GradcheckError, gradcheck
from .nn.module import Parameter
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Parameter", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "gradcheck", "GradcheckError", "set_default_dtype", "get_default_dtype", "functional", "nn",
    "optim", "data", "train", "monitor", "lr_find",
]

_LAZY = {"optim": "minigrad.optim", "data": "minigrad.data", "train": "minigrad.train", "monitor": "minigrad.monitor"}


def __getattr__(name):
    """Import the heavier subpackages (optim pulls in numba) on first use."""
    import importlib

    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name == "lr_find":
        return importlib.import_module("minigrad.lr_finder").lr_find
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
