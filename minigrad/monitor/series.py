"""Turn a :class:`~minigrad.train.History` into the numpy series the checks read."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["StepSeries", "Curve", "step_series", "epoch_table", "rolling_median", "loss_curve"]

_STEP_KEYS = ("step", "epoch", "loss", "lr", "grad_norm", "update_ratio")


def _float_array(values):
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _tables(history):
    """``(steps, epochs)`` dicts from a History, anything with those attributes, or a state dict."""
    if isinstance(history, dict) and "steps" in history and "epochs" in history:
        return history["steps"], history["epochs"]
    steps, epochs = getattr(history, "steps", None), getattr(history, "epochs", None)
    if not isinstance(steps, dict) or not isinstance(epochs, dict):
        raise TypeError("diagnose: expected a minigrad.train.History (an object with dict attributes "
                        f"'steps' and 'epochs') or its state_dict(), got {type(history).__name__}")
    return steps, epochs


@dataclass
class StepSeries:
    """Per-step columns as float arrays (missing columns are NaN)."""

    step: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    update_ratio: np.ndarray

    def __len__(self):
        return len(self.loss)

    def head(self, n):
        """The first ``n`` steps."""
        return StepSeries(*(getattr(self, k)[:n] for k in _STEP_KEYS))

    def where(self, i):
        """``(step, epoch)`` of step index ``i`` as ints (None when unknown)."""
        s, e = self.step[i], self.epoch[i]
        return (None if math.isnan(s) else int(s)), (None if math.isnan(e) else int(e))


def step_series(history):
    steps, _ = _tables(history)
    n = len(steps.get("loss", []))
    cols = {}
    for k in _STEP_KEYS:
        v = steps.get(k)
        cols[k] = _float_array(v) if v is not None and len(v) == n else np.full(n, math.nan)
    if n and np.all(np.isnan(cols["step"])):
        cols["step"] = np.arange(1.0, n + 1)
    return StepSeries(**cols)


def epoch_table(history):
    """Per-epoch columns as float arrays (``epoch``, ``train_loss``, ``val_loss`` at least)."""
    _, epochs = _tables(history)
    n = len(epochs.get("epoch", epochs.get("train_loss", [])))
    out = {}
    for k, v in epochs.items():
        try:
            out[k] = _float_array(v) if len(v) == n else None
        except (TypeError, ValueError):
            out[k] = None
    for k in ("epoch", "train_loss", "val_loss"):
        if out.get(k) is None:
            out[k] = np.arange(1.0, n + 1) if k == "epoch" else np.full(n, math.nan)
    return out


def rolling_median(x, window):
    """Trailing median: ``out[t] = median(x[max(0, t-window+1) : t+1])``."""
    x = np.asarray(x, dtype=np.float64)
    n, w = len(x), max(1, min(int(window), len(x)))
    out = np.empty(n)
    for t in range(min(w - 1, n)):
        out[t] = np.median(x[:t + 1])
    if n >= w:
        out[w - 1:] = np.median(np.lib.stride_tricks.sliding_window_view(x, w), axis=1)
    return out


@dataclass
class Curve:
    """The training loss averaged over consecutive groups of steps (one point per epoch when possible).

    ``se`` is the standard error of each mean (0 for a single step or for epoch-table
    values) and ``count`` the number of steps averaged; ``step_first``/``step_last`` the global
    steps a point covers and ``epoch`` the epoch it starts in (NaN when unknown); ``unit`` is
    ``'epoch'`` or ``'steps'``.
    """

    values: np.ndarray
    se: np.ndarray
    step_first: np.ndarray
    step_last: np.ndarray
    epoch: np.ndarray
    unit: str
    count: np.ndarray = None

    def __post_init__(self):
        if self.count is None:
            self.count = np.ones(len(self.values), dtype=np.int64)

    def __len__(self):
        return len(self.values)

    def where(self, i):
        """``(step, epoch)`` where point ``i`` starts, as ints or None."""
        s, e = self.step_first[i], self.epoch[i]
        return (None if math.isnan(s) else int(s)), (None if math.isnan(e) else int(e))

    def label(self, i):
        """Human label of point ``i``: ``'epoch 4'`` or ``'steps 31-40'``."""
        if self.unit == "epoch":
            return f"epoch {self.where(i)[1]}"
        return f"steps {int(self.step_first[i])}-{int(self.step_last[i])}"

    @property
    def units(self):
        """Plural noun for the points: ``'epochs'`` or ``'blocks of steps'``."""
        return "epochs" if self.unit == "epoch" else "blocks of steps"


def _groups(keys):
    """Boundaries of runs of equal consecutive values."""
    change = np.flatnonzero(np.diff(keys) != 0) + 1
    return np.r_[0, change], np.r_[change, len(keys)]


def loss_curve(steps, epochs=None, min_points=8):
    """Group the step losses into a :class:`Curve` (or use the epoch table if there are no steps).

    One point per epoch when there are at least ``min_points`` epochs or each epoch is a
    single step (full-batch training); otherwise equal blocks of steps giving about
    ``min_points`` points, so that a short run of long epochs can still be judged.
    """
    n = len(steps)
    if n == 0:
        if epochs is not None and len(epochs["train_loss"]):
            v = epochs["train_loss"]
            nan = np.full(len(v), math.nan)
            return Curve(v.copy(), np.zeros(len(v)), nan, nan, epochs["epoch"].copy(), "epoch")
        return Curve(*(np.empty(0),) * 5, unit="epoch")
    ep = steps.epoch if not np.any(np.isnan(steps.epoch)) else steps.step
    starts, stops = _groups(ep)
    unit = "epoch"
    if len(starts) < min_points and n >= 2 * min_points and np.any(stops - starts > 1):
        size = n // min_points
        starts = np.arange(0, n - size + 1, size)
        stops = np.r_[starts[1:], n]
        unit = "steps"
    vals, se = np.empty(len(starts)), np.zeros(len(starts))
    with np.errstate(over="ignore", invalid="ignore"):      # losses of a blown-up run may overflow
        for i, (a, b) in enumerate(zip(starts, stops)):
            seg = steps.loss[a:b]
            vals[i] = seg.mean()
            if b - a > 1:
                se[i] = seg.std(ddof=1) / math.sqrt(b - a)
    return Curve(vals, se, steps.step[starts], steps.step[stops - 1], steps.epoch[starts], unit,
                 (stops - starts).astype(np.int64))
