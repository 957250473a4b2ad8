"""Data utilities (``minigrad.data``): mini-batches, splits, scalers, data sets.

* :class:`DataLoader` — shuffled mini-batches of numpy arrays, resumable.
* :func:`train_test_split` — random (optionally stratified) hold-out split.
* :class:`StandardScaler`, :class:`MinMaxScaler` — fit on the training rows only.
* :func:`load_digits`, :func:`load_breast_cancer`, :func:`load_wine`, :func:`load_diabetes` —
  real data bundled with scikit-learn (imported lazily, offline).
* :func:`make_linear_regression`, :func:`make_spirals`, :func:`make_sparse_features` —
  synthetic data with a known structure.

Only numpy is needed at runtime; scikit-learn only for the four ``load_*`` functions.
"""
from .datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from .loader import DataLoader
from .scalers import MinMaxScaler, NotFittedError, StandardScaler
from .split import train_test_split
from .synthetic import make_linear_regression, make_sparse_features, make_spirals

__all__ = [
    "DataLoader", "train_test_split", "StandardScaler", "MinMaxScaler", "NotFittedError",
    "load_digits", "load_breast_cancer", "load_wine", "load_diabetes",
    "make_linear_regression", "make_spirals", "make_sparse_features",
]
