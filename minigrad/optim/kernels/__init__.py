"""Numba kernels of the optimizers, each beside a plain-numpy reference implementation.

Nothing is compiled at import: a kernel is compiled on its first call (or loaded
from the on-disk cache in ``__pycache__``).
"""
__all__ = []
