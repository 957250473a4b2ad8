r"""``train_test_split``: hold out a random part of the data for testing.

A model is judged on data it was not trained on. The split must be made
*before* anything is fitted to the data (scalers included), otherwise
information from the test rows leaks into training.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..nn.layers import as_generator

__all__ = ["train_test_split"]


def _n_test(test_size, n):
    if isinstance(test_size, bool):
        raise TypeError(f"train_test_split: test_size must be a float in (0, 1) or an int, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"train_test_split: test_size={n_test} must be between 1 and "
                             f"n_samples - 1 = {n - 1}")
        return n_test
    if isinstance(test_size, numbers.Real):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a float test_size must be in (0, 1), got {test_size!r}")
        n_test = math.ceil(test_size * n)        # sklearn's rounding: ceil for test, floor for train
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"train_test_split: test_size={test_size} with {n} samples gives "
                             f"{n_test} test and {n - n_test} training samples; both must be >= 1")
        return n_test
    raise TypeError(f"train_test_split: test_size must be a float in (0, 1) or an int, "
                    f"got {type(test_size).__name__}")


def _stratified_test_counts(counts, n_test, gen):
    """Test samples per class: proportional, rounded by largest remainder (ties at random)."""
    exact = counts * (n_test / counts.sum())
    base = np.floor(exact).astype(np.int64)
    short = n_test - int(base.sum())
    if short:
        frac = exact - base
        # largest fractional part first; random tie-break so no class is favoured by its label
        order = np.lexsort((gen.random(len(counts)), -frac))
        base[order[:short]] += 1
    return base


def train_test_split(X, y, test_size=0.2, rng=None, stratify=None, shuffle=True):
    r"""Split ``X, y`` into random train and test parts: ``X_train, X_test, y_train, y_test``.

    Like ``sklearn.model_selection.train_test_split`` for two arrays, with ``rng``
    (a ``numpy.random.Generator`` or int seed) in place of ``random_state``.
    A float ``test_size`` is a fraction: the test part has
    :math:`\lceil \text{test\_size}\cdot N\rceil` rows; an int is a row count.

    With ``stratify=labels`` every class keeps its share: class :math:`k` with
    :math:`N_k` rows gets :math:`N_k\,n_\text{test}/N` test rows rounded by the
    largest-remainder rule, so each class's count is within one row of its exact
    proportional share in both parts.

    Parameters
    ----------
    X, y : array_like with the same first dimension
    test_size : float in (0, 1) or int, default 0.2
    rng : numpy.random.Generator, int or None
    stratify : array_like or None
        Class labels (usually ``y``) whose proportions both parts keep.
    shuffle : bool, default True
        If False, the first rows are the training part and the last rows the test part
        (no randomness; ``stratify`` must then be None).

    Example
    -------
    >>> import numpy as np
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, rng=0, stratify=y)
    >>> X_tr.shape, X_te.shape, sorted(y_te.tolist())
    ((8, 2), (2, 2), [0, 1])
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"train_test_split: X and y must have one row per sample, got shapes "
                         f"{X.shape} and {y.shape}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X and y must have the same number of samples, "
                         f"got len(X)={n} and len(y)={len(y)}")
    if n < 2:
        raise ValueError(f"train_test_split: need at least 2 samples to split, got {n}")
    n_test = _n_test(test_size, n)
    n_train = n - n_test
    if not shuffle:
        if stratify is not None:
            raise ValueError("train_test_split: stratified splitting needs shuffle=True")
        return X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    gen = as_generator(rng)
    if stratify is None:
        perm = gen.permutation(n)
        train_idx, test_idx = perm[:n_train], perm[n_train:]
    else:
        labels = np.asarray(stratify)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"train_test_split: stratify must be a 1-D array of {n} labels, "
                             f"got shape {labels.shape}")
        classes, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            rare = classes[counts < 2].tolist()
            raise ValueError(f"train_test_split: stratify classes {rare} have a single member; "
                             "every class needs at least 2 samples to appear in both parts")
        if n_test < len(classes) or n_train < len(classes):
            raise ValueError(f"train_test_split: with {len(classes)} classes both parts need at least "
                             f"{len(classes)} samples, got {n_train} train and {n_test} test")
        k_test = _stratified_test_counts(counts, n_test, gen)
        test_parts, train_parts = [], []
        for k in range(len(classes)):
            members = gen.permutation(np.flatnonzero(codes == k))
            test_parts.append(members[:k_test[k]])
            train_parts.append(members[k_test[k]:])
        train_idx = gen.permutation(np.concatenate(train_parts))
        test_idx = gen.permutation(np.concatenate(test_parts))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
