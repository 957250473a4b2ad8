r"""Small real data sets that ship with scikit-learn (no download, work offline).

Each loader returns ``(X, y)`` with ``X`` a float64 array of shape
``(n_samples, n_features)``. scikit-learn is imported only when a loader is
called, so ``minigrad`` itself depends on numpy and numba alone.

=====================  =========  ==========  ==========================================
loader                 samples    features    target
=====================  =========  ==========  ==========================================
``load_digits``        1797       64          digit 0-9 (int64), 8x8 images, values 0-16
``load_breast_cancer`` 569        30          malignant 0 / benign 1 (int64)
``load_wine``          178        13          cultivar 0, 1, 2 (int64)
``load_diabetes``      442        10          disease progression after a year (float64)
=====================  =========  ==========  ==========================================
"""
from __future__ import annotations

import numpy as np

__all__ = ["load_digits", "load_breast_cancer", "load_wine", "load_diabetes"]


def _sklearn_datasets(loader):
    try:
        from sklearn import datasets
    except ImportError as exc:          # pragma: no cover - depends on the environment
        raise ImportError(f"minigrad.data.{loader}() reads the data set bundled with scikit-learn, "
                          "which is not installed. Install it with:  pip install scikit-learn") from exc
    return datasets


def _load(name, **kwargs):
    X, y = getattr(_sklearn_datasets(name), name)(return_X_y=True, **kwargs)
    X = np.ascontiguousarray(X, dtype=np.float64)
    integer = np.issubdtype(np.asarray(y).dtype, np.integer)
    y = np.ascontiguousarray(y, dtype=np.int64 if integer else np.float64)
    return X, y


def load_digits():
    """Handwritten digits: 1797 images of 8x8 pixels (values 0-16), labels 0-9.

    Example: ``X, y = load_digits()`` gives ``X.shape == (1797, 64)``, ``y.dtype == int64``.
    Reference: UCI "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak, 1998).
    """
    return _load("load_digits")


def load_breast_cancer():
    """Wisconsin diagnostic breast cancer: 569 tumours, 30 features, 0 = malignant, 1 = benign.

    The features have very different scales (areas in the hundreds, smoothness near 0.1):
    a good data set to see why standardization helps gradient descent.
    Reference: Street, Wolberg & Mangasarian (1993).
    """
    return _load("load_breast_cancer")


def load_wine():
    """Wine recognition: 178 wines, 13 chemical measurements, 3 cultivars (0, 1, 2).

    Reference: UCI "Wine" data set (Forina et al., 1988).
    """
    return _load("load_wine")


def load_diabetes(scaled=False):
    """Diabetes progression: 442 patients, 10 baseline variables, a float regression target.

    ``scaled=False`` (the default here, unlike scikit-learn) returns the raw measurements
    (age in years, BMI, blood pressure...). scikit-learn's ``scaled=True`` version was
    centred and scaled using all 442 rows, test rows included; fit a
    :class:`~minigrad.data.StandardScaler` on your training rows instead.
    Reference: Efron, Hastie, Johnstone & Tibshirani (2004), "Least Angle Regression".
    """
    return _load("load_diabetes", scaled=bool(scaled))
