r"""The learning-rate range test: :func:`lr_find`.

Train for a few dozen mini-batches while the learning rate grows exponentially
from ``start_lr`` to ``end_lr``,

.. math::  \eta_i = \eta_\text{start}\,\Bigl(\frac{\eta_\text{end}}{\eta_\text{start}}\Bigr)^{i/(N-1)},
           \qquad i = 0, \dots, N-1,

and watch the loss. At tiny rates nothing happens, then the loss starts to
fall, falls fastest, and finally explodes once the rate is too large. A good
learning rate lies in the steep part, well before the explosion. The raw
mini-batch losses are noisy, so they are smoothed with a debiased exponential
moving average (as fastai does),

.. math::  a_i = \beta a_{i-1} + (1-\beta)\ell_i, \qquad \bar\ell_i = \frac{a_i}{1-\beta^{i+1}},

and the sweep stops early once :math:`\bar\ell_i > 4 \min_{j\le i}\bar\ell_j` (divergence).

References: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks"
(2015, arXiv:1506.01186); the fastai ``lr_find`` (Howard & Gugger, 2020) for
the smoothing, the stopping rule and the suggestions.

The test changes the weights, so :func:`lr_find` saves the model, the optimizer
(state and learning rates), the gradients and the data loader's random state
first and restores them exactly afterwards: training afterwards is bit-for-bit
what it would have been without the test.
"""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from .tensor import Tensor

__all__ = ["lr_find", "LRFinderResult", "suggest_valley", "suggest_steep", "suggest_minimum"]


# ----------------------------------------------------------------------------- suggestions
def suggest_steep(lrs, losses):
    r"""The learning rate where the smoothed loss falls fastest: :math:`\arg\min_i \Delta\bar\ell_i/\Delta\log\eta_i`."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    i = int(np.argmin(slopes))
    return float(lrs[i]), float(losses[i])


def suggest_minimum(lrs, losses):
    """One tenth of the learning rate at the minimum of the smoothed loss (a classic rule of thumb)."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    i = int(np.argmin(losses))
    return float(lrs[i]) / 10, float(losses[i])


def suggest_valley(lrs, losses):
    """fastai's "valley": inside the longest stretch of decreasing loss, the point about 2/3 of the way down.

    The longest valley is the longest decreasing subsequence of the loss curve (found in
    :math:`O(n^2)`); the suggestion sits between its middle and its end, where the loss is
    still falling but the rate is not yet close to the explosion.
    """
    losses = list(map(float, losses))
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx]), losses[idx]


_SUGGESTERS = {"valley": suggest_valley, "steep": suggest_steep, "minimum": suggest_minimum}


class LRFinderResult:
    """The outcome of :func:`lr_find`.

    Attributes
    ----------
    lrs : numpy.ndarray
        Learning rate of each step of the sweep.
    losses : numpy.ndarray
        Smoothed loss of each step (what is plotted and used for the suggestions).
    raw_losses : numpy.ndarray
        The mini-batch losses themselves.
    suggestions : dict
        ``{'valley': lr, 'steep': lr, 'minimum': lr}`` (``'minimum'`` is the minimum's
        rate divided by 10); NaN when the curve is too short to judge.
    points : dict
        ``name -> (lr, loss)`` where each suggestion is marked on the curve.
    diverged : bool
        True if the sweep stopped early because the loss exploded.
    """

    def __init__(self, lrs, losses, raw_losses, suggestions, points, diverged):
        self.lrs = np.asarray(lrs, dtype=float)
        self.losses = np.asarray(losses, dtype=float)
        self.raw_losses = np.asarray(raw_losses, dtype=float)
        self.suggestions = dict(suggestions)
        self.points = dict(points)
        self.diverged = bool(diverged)

    @property
    def suggestion(self):
        """The default suggestion (``'valley'``)."""
        return self.suggestions["valley"]

    def __repr__(self):
        sugg = ", ".join(f"{k}={v:.3g}" for k, v in self.suggestions.items())
        return f"LRFinderResult(steps={len(self.lrs)}, diverged={self.diverged}, {sugg})"

    def plot(self, ax=None, skip_end=5, show_raw=True):
        """Smoothed loss against the learning rate (log axis) with the suggestions marked.

        Returns the matplotlib Figure. ``skip_end`` hides the last points, where the
        loss explodes and would squash the interesting part of the curve.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        end = len(self.lrs) - skip_end if 0 < skip_end < len(self.lrs) else len(self.lrs)
        if show_raw:
            ax.plot(self.lrs[:end], self.raw_losses[:end], color="C0", alpha=0.25, lw=0.8,
                    label="batch loss")
        ax.plot(self.lrs[:end], self.losses[:end], color="C0", label="smoothed loss")
        markers = {"valley": "o", "steep": "^", "minimum": "s"}
        for i, (name, (lr, loss)) in enumerate(self.points.items()):
            if math.isfinite(lr):
                ax.plot([lr], [loss], markers.get(name, "o"), color=f"C{i + 1}", ms=8,
                        label=f"{name}: {self.suggestions[name]:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("Learning-rate range test")
        finite = self.losses[:end][np.isfinite(self.losses[:end])]
        if finite.size:
            lo, hi = finite.min(), finite[0] if finite[0] > finite.min() else finite.max()
            pad = 0.1 * (hi - lo) if hi > lo else 1.0
            ax.set_ylim(lo - pad, hi + 2 * pad)
        ax.legend(fontsize="small")
        return fig


# ----------------------------------------------------------------------------- the sweep
def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"lr_find: {name} must be a positive finite number, got {value!r}")


def _suggest(lrs, losses, num_iter):
    """fastai's rule: ignore the first 10 % and last 5 points and everything from the first NaN."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    lo, hi = num_iter // 10, len(lrs) - 5
    if hi - lo < 3:                       # short (early-diverged) sweep: use all of it
        lo, hi = 0, len(lrs)
    lrs, losses = lrs[lo:hi], losses[lo:hi]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        lrs, losses = lrs[:bad[0]], losses[:bad[0]]
    suggestions, points = {}, {}
    for name, fn in _SUGGESTERS.items():
        if len(lrs) >= 2:
            value, point_loss = fn(lrs, losses)
            point_lr = value * 10 if name == "minimum" else value
        else:
            value = point_lr = point_loss = math.nan
        suggestions[name] = value
        points[name] = (point_lr, point_loss)
    return suggestions, points


def _batches(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: train_loader yielded no batch")


def lr_find(model, loss_fn, optimizer, train_loader, start_lr=1e-7, end_lr=10.0, num_iter=100,
            step_mode="exp", beta=0.98, diverge_th=4.0, stop_div=True, show_plot=False):
    r"""Run the learning-rate range test and restore ``model`` and ``optimizer`` exactly afterwards.

    Parameters
    ----------
    model, loss_fn, optimizer, train_loader
        As for :func:`minigrad.train.fit`. The loader is cycled if it has fewer than
        ``num_iter`` batches.
    start_lr, end_lr : float
        First and last learning rate of the sweep (every parameter group gets the same rate).
    num_iter : int
        Number of mini-batches (at most; the sweep stops early on divergence).
    step_mode : {'exp', 'linear'}
        Exponential (default, Smith's and fastai's choice) or linear spacing.
    beta : float
        Smoothing factor of the debiased moving average of the loss.
    diverge_th : float
        Stop when the smoothed loss exceeds ``diverge_th`` times its minimum so far.
    stop_div : bool
        Whether to stop on divergence (a non-finite loss always stops the sweep).
    show_plot : bool
        Draw :meth:`LRFinderResult.plot` (with ``matplotlib.pyplot.show``).

    Returns
    -------
    LRFinderResult
        ``.lrs``, ``.losses`` (smoothed), ``.raw_losses``, ``.suggestions``
        (``'valley'``, ``'steep'``, ``'minimum'``), ``.plot()``.

    Example
    -------
    >>> res = minigrad.lr_find(model, F.cross_entropy, Adam(model.parameters()), loader)  # doctest: +SKIP
    >>> res.suggestions["valley"]                                                        # doctest: +SKIP
    0.0019
    >>> res.plot()                                                                       # doctest: +SKIP
    """
    _check_positive("start_lr", start_lr)
    _check_positive("end_lr", end_lr)
    if not end_lr > start_lr:
        raise ValueError(f"lr_find: end_lr ({end_lr}) must be larger than start_lr ({start_lr})")
    if isinstance(num_iter, bool) or not isinstance(num_iter, numbers.Integral) or num_iter < 2:
        raise ValueError(f"lr_find: num_iter must be an int >= 2, got {num_iter!r}")
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"lr_find: step_mode must be 'exp' or 'linear', got {step_mode!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"lr_find: beta must be in [0, 1), got {beta!r}")
    _check_positive("diverge_th", diverge_th)
    if step_mode == "exp":
        lrs_plan = [start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)) for i in range(num_iter)]
    else:
        lrs_plan = [start_lr + (end_lr - start_lr) * i / (num_iter - 1) for i in range(num_iter)]

    # ---- save everything the sweep touches
    params = list(model.parameters())
    saved_model = model.state_dict()
    saved_grads = [None if p.grad is None else np.array(p.grad, copy=True) for p in params]
    saved_opt = copy.deepcopy(optimizer.state_dict())
    saved_loader = copy.deepcopy(train_loader.state_dict()) if hasattr(train_loader, "state_dict") else None
    was_training = getattr(model, "training", True)

    lrs, losses, raw = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    try:
        model.train()
        batches = _batches(train_loader)
        for i, lr in enumerate(lrs_plan):
            for group in optimizer.param_groups:
                group["lr"] = lr
            X, y = next(batches)
            loss = loss_fn(model(X if isinstance(X, Tensor) else Tensor(X)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            avg = beta * avg + (1 - beta) * value
            smooth = avg / (1 - beta ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            losses.append(smooth)
            if not math.isfinite(smooth):
                diverged = True
                break
            best = min(best, smooth)
            if stop_div and smooth > diverge_th * best:
                diverged = True
                break
    finally:
        model.load_state_dict(saved_model)
        for p, g in zip(params, saved_grads):
            if g is None:
                p.grad = None
            elif p.grad is not None and p.grad.shape == g.shape:
                p.grad[...] = g              # in place: a view into a flat buffer stays one
            else:
                p.grad = g
        optimizer.load_state_dict(saved_opt)
        if saved_loader is not None:
            train_loader.load_state_dict(saved_loader)
        model.train(was_training)

    suggestions, points = _suggest(lrs, losses, num_iter)
    result = LRFinderResult(lrs, losses, raw, suggestions, points, diverged)
    if show_plot:
        import matplotlib.pyplot as plt

        result.plot()
        plt.show()
    return result
