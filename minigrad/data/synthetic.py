r"""Synthetic data with a known answer: conditioning, curved class boundaries, rare features.

Every generator takes ``rng`` (a ``numpy.random.Generator``, an int seed or None)
and returns float64 inputs; the same seed always gives the same data.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..nn.layers import as_generator

__all__ = ["make_linear_regression", "make_spirals", "make_sparse_features"]


def _check_int(name, v, low, who):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {v!r}")
    return int(v)


def _check_noise(noise, who):
    if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{who}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _orthonormal(gen, n, d):
    """``(n, d)`` matrix with orthonormal columns, Haar-distributed (QR with sign fix, Mezzadri 2007)."""
    q, r = np.linalg.qr(gen.standard_normal((n, d)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def make_linear_regression(n_samples=200, n_features=10, condition_number=10.0, noise=0.0,
                           rng=None, return_coef=False):
    r"""Linear regression data whose :math:`X^\top X` has exactly the requested condition number.

    Generative model. With :math:`n` samples, :math:`d` features and
    :math:`\kappa` = ``condition_number``:

    .. math::
        X = \sqrt{n}\; U \,\mathrm{diag}(\sqrt{\lambda_1},\dots,\sqrt{\lambda_d})\, V^\top,
        \qquad \lambda_i = \kappa^{-(i-1)/(d-1)},
        \qquad y = X w^\star + \sigma\,\varepsilon,

    where :math:`U` (:math:`n\times d`) has orthonormal columns orthogonal to the all-ones
    vector (so every column of :math:`X` has mean 0), :math:`V` is a random rotation,
    :math:`w^\star \sim \mathcal N(0, I_d)`, :math:`\varepsilon \sim \mathcal N(0, I_n)` and
    :math:`\sigma` = ``noise``. Hence :math:`X^\top X / n = V \Lambda V^\top` has eigenvalues
    geometrically spaced from 1 down to :math:`1/\kappa` and
    :math:`\operatorname{cond}(X^\top X) = \kappa` (up to rounding). Because the columns are
    centred, adding an intercept does not change the conditioning; standardizing the
    columns does (the columns have unequal variances).

    What this buys a learner: the mean squared error
    :math:`L(w) = \frac1n\lVert Xw - y\rVert^2` has Hessian :math:`\frac2n X^\top X` with
    eigenvalues in :math:`[2/\kappa,\, 2]`, so gradient descent converges for a learning rate
    :math:`\eta < 1`, the best constant rate is :math:`\eta = 2/(L+\mu) = \kappa/(\kappa+1)`, and
    the error along the flattest direction shrinks by :math:`(1-2\eta/\kappa)` per step.

    Parameters
    ----------
    n_samples : int, greater than ``n_features``
    n_features : int >= 1 (with one feature ``condition_number`` must be 1)
    condition_number : float >= 1
    noise : float >= 0, standard deviation of the Gaussian noise on ``y``
    rng : numpy.random.Generator, int or None
    return_coef : bool
        Also return :math:`w^\star`.

    Returns
    -------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,) [, coef : ndarray (n_features,)]

    Example
    -------
    >>> import numpy as np
    >>> X, y = make_linear_regression(100, 5, condition_number=1e3, rng=0)
    >>> round(float(np.linalg.cond(X.T @ X)), 6)
    1000.0
    """
    who = "make_linear_regression"
    d = _check_int("n_features", n_features, 1, who)
    n = _check_int("n_samples", n_samples, 2, who)
    if n <= d:
        raise ValueError(f"{who}: n_samples must exceed n_features for X^T X to be invertible "
                         f"with centred columns, got n_samples={n}, n_features={d}")
    if not isinstance(condition_number, numbers.Real) or not np.isfinite(condition_number) \
            or condition_number < 1:
        raise ValueError(f"{who}: condition_number must be a finite number >= 1, got {condition_number!r}")
    if d == 1 and condition_number != 1:
        raise ValueError(f"{who}: with a single feature X^T X is 1x1 and its condition number is 1, "
                         f"got condition_number={condition_number!r}")
    noise = _check_noise(noise, who)
    gen = as_generator(rng)
    G = gen.standard_normal((n, d))
    G -= G.mean(axis=0)                               # columns orthogonal to the ones vector
    U, _ = np.linalg.qr(G)
    V = _orthonormal(gen, d, d)
    expo = np.arange(d) / (d - 1) if d > 1 else np.zeros(1)
    lam = float(condition_number) ** (-expo)          # 1 ... 1/kappa
    X = np.sqrt(n) * (U * np.sqrt(lam)) @ V.T
    coef = gen.standard_normal(d)
    y = X @ coef + noise * gen.standard_normal(n)
    return (X, y, coef) if return_coef else (X, y)


def make_spirals(n_samples=200, noise=0.0, rng=None, turns=1.5, shuffle=True):
    r"""Two interleaved spirals in the plane, labels 0 and 1: no straight line separates them.

    Generative model. Class :math:`k\in\{0,1\}` has :math:`n_k` points
    (:math:`n_0 = \lfloor n/2\rfloor`) at evenly spaced :math:`t \in [0, 1]`:

    .. math::
        r = 0.1 + 0.9\,t,\qquad \theta = 2\pi\,\text{turns}\;t + k\pi,\qquad
        x = (r\cos\theta,\; r\sin\theta) + \sigma\,\varepsilon,\quad \varepsilon\sim\mathcal N(0, I_2),

    so the second spiral is the first one rotated by half a turn, and :math:`\sigma` = ``noise``.
    The radius grows from 0.1 to 1; a noise of 0.05-0.1 already blurs neighbouring arms.

    Returns ``X`` (float64, shape ``(n_samples, 2)``) and ``y`` (int64 in {0, 1}), in random
    order when ``shuffle`` (default) and otherwise class 0 first.

    Example
    -------
    >>> X, y = make_spirals(100, noise=0.05, rng=0)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
    who = "make_spirals"
    n = _check_int("n_samples", n_samples, 2, who)
    noise = _check_noise(noise, who)
    if not isinstance(turns, numbers.Real) or not turns > 0:
        raise ValueError(f"{who}: turns must be a positive number, got {turns!r}")
    gen = as_generator(rng)
    Xs, ys = [], []
    for k, nk in enumerate((n // 2, n - n // 2)):
        t = np.linspace(0.0, 1.0, nk)
        r = 0.1 + 0.9 * t
        theta = 2 * np.pi * float(turns) * t + k * np.pi
        Xs.append(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
        ys.append(np.full(nk, k, dtype=np.int64))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    if noise:
        X = X + noise * gen.standard_normal(X.shape)
    if shuffle:
        perm = gen.permutation(n)
        X, y = X[perm], y[perm]
    return X, y


def make_sparse_features(n_samples=1000, n_features=20, n_informative=5, density=0.05, noise=0.1,
                         rng=None, return_coef=False):
    r"""Regression data where the only informative features are *rare* (mostly zero).

    Generative model. Pick a random set :math:`J` of ``n_informative`` columns. Then

    .. math::
        X_{ij} = \begin{cases} m_{ij}\, z_{ij}, & j \in J \quad(\text{rare: } m_{ij}\sim\mathrm{Bernoulli}(\rho))\\
                                z_{ij}, & j \notin J \quad(\text{common, dense})\end{cases}
        \qquad z_{ij}\sim\mathcal N(0,1),

    .. math::
        y = X w^\star + \sigma\varepsilon,\qquad
        w^\star_j = s_j a_j \text{ for } j\in J \; (s_j=\pm1,\ a_j\sim U(1,2)),\quad
        w^\star_j = 0 \text{ for } j\notin J,

    with :math:`\rho` = ``density`` and :math:`\sigma` = ``noise``. Every rare column is
    guaranteed at least one nonzero entry (if the draw gave none, one random row is switched on).

    Why it matters for optimizers: an informative column is nonzero in only a fraction
    :math:`\rho` of the rows, so its weight gets a nonzero gradient in few mini-batches and
    the MSE Hessian's diagonal entry for it is about :math:`2\rho` against about 2 for a
    dense column. Plain SGD, whose single learning rate must suit the dense columns,
    therefore learns the rare, informative weights about :math:`1/\rho` times more slowly;
    per-coordinate step sizes (AdaGrad, Duchi, Hazan & Singer 2011; RMSProp; Adam) rescale
    each weight by its own gradient history and remove most of that gap.

    Returns ``X`` (n_samples, n_features), ``y`` (n_samples,) and, if ``return_coef``,
    :math:`w^\star` (zero outside :math:`J`; the informative columns are
    ``np.flatnonzero(coef)``).

    Example
    -------
    >>> import numpy as np
    >>> X, y, w = make_sparse_features(2000, 10, 3, density=0.02, rng=0, return_coef=True)
    >>> np.flatnonzero(w).size, bool((X[:, w != 0] != 0).mean() < 0.05)
    (3, True)
    """
    who = "make_sparse_features"
    n = _check_int("n_samples", n_samples, 1, who)
    d = _check_int("n_features", n_features, 1, who)
    k = _check_int("n_informative", n_informative, 1, who)
    if k > d:
        raise ValueError(f"{who}: n_informative={k} cannot exceed n_features={d}")
    if not isinstance(density, numbers.Real) or not 0 < density <= 1:
        raise ValueError(f"{who}: density must be in (0, 1], got {density!r}")
    noise = _check_noise(noise, who)
    gen = as_generator(rng)
    informative = np.sort(gen.choice(d, size=k, replace=False))
    X = gen.standard_normal((n, d))
    mask = gen.random((n, k)) < density
    for c in np.flatnonzero(~mask.any(axis=0)):
        mask[gen.integers(n), c] = True
    X[:, informative] *= mask
    coef = np.zeros(d)
    coef[informative] = gen.choice([-1.0, 1.0], size=k) * gen.uniform(1.0, 2.0, size=k)
    y = X @ coef + noise * gen.standard_normal(n)
    return (X, y, coef) if return_coef else (X, y)
