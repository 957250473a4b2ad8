r"""Feature scaling: ``StandardScaler`` and ``MinMaxScaler`` (scikit-learn's API, numpy only).

Gradient descent converges fastest when the features have similar scales: the
condition number of the loss's Hessian (for linear least squares,
:math:`X^\top X`) shrinks when every column is brought to the same range. The
statistics must be learned on the **training rows only** (``fit(X_train)``) and
then applied unchanged to validation and test rows (``transform``), otherwise
information from the test set leaks into training.
"""
from __future__ import annotations

import numpy as np

__all__ = ["StandardScaler", "MinMaxScaler", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """Raised when ``transform`` or ``inverse_transform`` is called before ``fit``."""


def _as_2d(X, who, what="X"):
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{who}: {what} must contain numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        hint = (" Reshape your data with X.reshape(-1, 1) for a single feature or "
                "X.reshape(1, -1) for a single sample.") if X.ndim == 1 else ""
        raise ValueError(f"{who}: expected a 2-D array (n_samples, n_features), got shape {X.shape}.{hint}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{who}: {what} contains NaN or infinity; clean or impute the data first")
    return X


class _Scaler:
    """Shared checks: 2-D finite input, fitted state, number of features."""

    _fitted_attr = None

    def _check_fitted(self, method):
        if getattr(self, self._fitted_attr, None) is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(X_train) first "
                                 f"(before {method})")

    def _check_X(self, X, method):
        name = type(self).__name__
        self._check_fitted(method)
        X = _as_2d(X, f"{name}.{method}")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {name} was fitted with "
                             f"{self.n_features_in_} features")
        return X

    def _fit_input(self, X):
        X = _as_2d(X, f"{type(self).__name__}.fit")
        if X.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.fit: X has 0 samples; at least 1 is required")
        return X

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``; ``y`` is ignored (sklearn compatibility)."""
        return self.fit(X).transform(X)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class StandardScaler(_Scaler):
    r"""Standardize features: :math:`z = (x - \mu) / \sigma`, column by column.

    :math:`\mu` (``mean_``) and :math:`\sigma` (``scale_``) are the mean and the
    *population* standard deviation (``ddof=0``, as in scikit-learn) of each column
    of the training data. A constant column has :math:`\sigma = 0`; like scikit-learn
    its ``scale_`` is set to 1 (detected with the error bound of the two-pass
    variance algorithm, Chan, Golub & LeVeque 1983), so it maps to 0 instead of NaN.

    Parameters
    ----------
    with_mean, with_std : bool
        Subtract the mean / divide by the standard deviation (default both).

    Attributes
    ----------
    mean_, var_, scale_ : ndarray of shape (n_features,)
        ``None`` for ``mean_`` / ``var_``, ``scale_`` when switched off.
    n_features_in_, n_samples_seen_ : int

    Example
    -------
    >>> import numpy as np
    >>> sc = StandardScaler().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> sc.mean_, sc.scale_
    (array([1., 5.]), array([1., 1.]))
    >>> sc.transform(np.array([[4.0, 7.0]]))
    array([[3., 2.]])
    """

    _fitted_attr = "n_features_in_"

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)
        self.n_features_in_ = None
        self.n_samples_seen_ = None
        self.mean_ = self.var_ = self.scale_ = None

    def _params(self):
        return {"with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X, y=None):
        """Learn the per-column mean and standard deviation of ``X`` (the training rows)."""
        X = self._fit_input(X)
        n = X.shape[0]
        mean = X.mean(axis=0, dtype=np.float64)
        var = ((X - mean) ** 2).mean(axis=0, dtype=np.float64)     # two-pass, ddof=0
        if self.with_std:
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2  # sklearn's _is_constant_feature
            scale = np.sqrt(var)
            scale[constant] = 1.0
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        self.scale_ = scale if self.with_std else None
        self.n_samples_seen_ = n
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """Return :math:`(X - \\mu)/\\sigma` (a new array; ``X`` is not changed)."""
        X = self._check_X(X, "transform")
        out = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        if self.with_mean:
            out -= self.mean_.astype(out.dtype)
        if self.with_std:
            out /= self.scale_.astype(out.dtype)
        return out

    def inverse_transform(self, X):
        """Undo :meth:`transform`: :math:`z\\sigma + \\mu`."""
        X = self._check_X(X, "inverse_transform")
        out = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        if self.with_std:
            out *= self.scale_.astype(out.dtype)
        if self.with_mean:
            out += self.mean_.astype(out.dtype)
        return out


class MinMaxScaler(_Scaler):
    r"""Rescale every column linearly to ``feature_range`` (default :math:`[0, 1]`).

    With the training minimum :math:`m` (``data_min_``) and maximum :math:`M`
    (``data_max_``) of a column and ``feature_range = (a, b)``:

    .. math:: x' = x \cdot s + o, \qquad s = \frac{b - a}{M - m}, \quad o = a - m\,s,

    stored as ``scale_`` (:math:`s`) and ``min_`` (:math:`o`). A constant column
    (:math:`M = m`) gets :math:`s = b - a`, as in scikit-learn. Rows outside the
    training range map outside ``feature_range`` unless ``clip=True``.

    Example
    -------
    >>> import numpy as np
    >>> sc = MinMaxScaler().fit(np.array([[1.0], [3.0]]))
    >>> sc.transform(np.array([[2.0], [5.0]]))
    array([[0.5],
           [2. ]])
    """

    _fitted_attr = "n_features_in_"

    def __init__(self, feature_range=(0, 1), clip=False):
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"MinMaxScaler: feature_range must be a pair (min, max), "
                             f"got {feature_range!r}") from exc
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: minimum of the desired feature range must be smaller "
                             f"than maximum, got feature_range={feature_range!r}")
        self.feature_range = tuple(feature_range)
        self.clip = bool(clip)
        self.n_features_in_ = self.n_samples_seen_ = None
        self.data_min_ = self.data_max_ = self.data_range_ = self.scale_ = self.min_ = None

    def _params(self):
        return {"feature_range": self.feature_range, "clip": self.clip}

    def fit(self, X, y=None):
        """Learn the per-column minimum and maximum of ``X`` (the training rows)."""
        X = self._fit_input(X)
        lo, hi = (float(v) for v in self.feature_range)
        dmin = X.min(axis=0).astype(np.float64)
        dmax = X.max(axis=0).astype(np.float64)
        drange = dmax - dmin
        safe = np.where(drange < 10 * np.finfo(np.float64).eps, 1.0, drange)
        self.scale_ = (hi - lo) / safe
        self.min_ = lo - dmin * self.scale_
        self.data_min_, self.data_max_, self.data_range_ = dmin, dmax, drange
        self.n_samples_seen_ = X.shape[0]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """Return ``X * scale_ + min_`` (clipped to ``feature_range`` if ``clip``)."""
        X = self._check_X(X, "transform")
        out = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        out *= self.scale_.astype(out.dtype)
        out += self.min_.astype(out.dtype)
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return out

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``(X - min_) / scale_``."""
        X = self._check_X(X, "inverse_transform")
        out = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        out -= self.min_.astype(out.dtype)
        out /= self.scale_.astype(out.dtype)
        return out
