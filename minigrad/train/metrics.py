r"""Evaluation metrics: plain functions ``metric(y_pred, y_true) -> float``.

``y_pred`` is the model output (a :class:`~minigrad.Tensor` or ``ndarray``; for
classification the *logits*), ``y_true`` the targets. :func:`~minigrad.train.fit`
evaluates each metric once per epoch on the concatenated outputs of the whole
epoch, so non-additive metrics are exact, not averages of per-batch values.
:func:`evaluate` computes the loss and metrics of a model over a data loader.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["accuracy", "top_k_accuracy", "mean_squared_error", "mean_absolute_error",
           "r2_score", "get_metric", "metric_name", "evaluate"]


def _np(x):
    return np.asarray(getattr(x, "data", x))


def accuracy(y_pred, y_true):
    r"""Fraction of correct predictions, :math:`\frac1N\sum_i [\hat y_i = y_i]`.

    Multi-class logits of shape ``(N, C)`` predict :math:`\hat y_i = \arg\max_c z_{ic}`;
    binary logits of shape ``(N,)`` or ``(N, 1)`` predict :math:`[z_i > 0]`
    (the sigmoid of a logit exceeds 1/2 exactly when the logit is positive).
    Targets are class indices (or one-hot rows, which are converted with argmax).

    Example
    -------
    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    """
    z, y = _np(y_pred), _np(y_true)
    if z.ndim == 2 and z.shape[1] > 1:
        pred = z.argmax(axis=1)
        if y.ndim == 2 and y.shape == z.shape:
            y = y.argmax(axis=1)
    elif z.ndim <= 2:
        pred = (z.reshape(len(z)) > 0).astype(np.int64)
    else:
        raise ValueError(f"accuracy: expected logits of shape (N,), (N, 1) or (N, C), got {z.shape}")
    y = y.reshape(-1)
    if y.shape[0] != pred.shape[0]:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions but {y.shape[0]} targets")
    return float(np.mean(pred == y)) if pred.size else float("nan")


def top_k_accuracy(k):
    r"""Metric factory: fraction of samples whose true class is among the ``k`` largest logits.

    Example
    -------
    >>> top2 = top_k_accuracy(2)
    >>> top2(np.array([[3.0, 2.0, 1.0]]), np.array([1]))
    1.0
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive int, got {k!r}")

    def metric(y_pred, y_true):
        z, y = _np(y_pred), _np(y_true).reshape(-1)
        if z.ndim != 2 or z.shape[1] < k:
            raise ValueError(f"top_{k}_accuracy: expected logits of shape (N, C>={k}), got {z.shape}")
        top = np.argpartition(-z, k - 1, axis=1)[:, :k]
        return float(np.mean((top == y[:, None]).any(axis=1)))

    metric.__name__ = f"top_{k}_accuracy"
    return metric


def mean_squared_error(y_pred, y_true):
    r"""Mean squared error :math:`\frac1N\sum_i (\hat y_i - y_i)^2` (over all elements)."""
    z, y = _np(y_pred), _np(y_true)
    return float(np.mean((z - y.reshape(z.shape)) ** 2))


def mean_absolute_error(y_pred, y_true):
    r"""Mean absolute error :math:`\frac1N\sum_i |\hat y_i - y_i|` (over all elements)."""
    z, y = _np(y_pred), _np(y_true)
    return float(np.mean(np.abs(z - y.reshape(z.shape))))


def r2_score(y_pred, y_true):
    r"""Coefficient of determination :math:`1 - \sum (y-\hat y)^2 / \sum (y-\bar y)^2`."""
    z, y = _np(y_pred), _np(y_true)
    y = y.reshape(z.shape)
    ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
    return 1.0 - float(np.sum((y - z) ** 2)) / ss_tot if ss_tot > 0 else float("nan")


_BY_NAME = {"accuracy": accuracy, "acc": accuracy, "mse": mean_squared_error,
            "mean_squared_error": mean_squared_error, "mae": mean_absolute_error,
            "mean_absolute_error": mean_absolute_error, "r2": r2_score, "r2_score": r2_score}


def get_metric(metric):
    """A metric callable from a callable or a name (``'accuracy'``, ``'mse'``, ``'mae'``, ``'r2'``)."""
    if callable(metric):
        return metric
    if isinstance(metric, str) and metric in _BY_NAME:
        return _BY_NAME[metric]
    raise ValueError(f"unknown metric {metric!r}: pass a callable (y_pred, y_true) -> float or one of "
                     f"{sorted(_BY_NAME)}")


def metric_name(metric):
    """The column name of a metric: a string as given, else the callable's ``__name__``."""
    if isinstance(metric, str):
        return {"acc": "accuracy"}.get(metric, metric)
    name = getattr(metric, "__name__", None) or type(metric).__name__
    return "metric" if name == "<lambda>" else name


# ----------------------------------------------------------------------------- evaluation
def as_input(x):
    """Wrap a numpy batch in a :class:`~minigrad.Tensor` (a Tensor passes through)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def batch_len(y):
    """Number of samples in a target batch."""
    return len(y.data if isinstance(y, Tensor) else y)


def target_array(y):
    """Targets as a numpy array (for the metrics)."""
    return np.asarray(y.data if isinstance(y, Tensor) else y)


def normalize_metrics(metrics):
    """A dict ``name -> callable`` from a list of metrics/names, a single one, a dict or None."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        items = [(str(k), get_metric(v)) for k, v in metrics.items()]
    else:
        if callable(metrics) or isinstance(metrics, str):
            metrics = [metrics]
        items = [(metric_name(m), get_metric(m)) for m in metrics]
    names = [n for n, _ in items]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"fit: duplicate metric name(s) {sorted(dup)}; pass metrics as a dict "
                         f"{{'name': callable}} to name them")
    return dict(items)


def compute_metrics(metrics, outputs, targets, prefix):
    """``{prefix + name: metric(all outputs, all targets)}`` on the concatenated batches (NaN if none)."""
    if not metrics or not outputs:
        return {f"{prefix}{n}": math.nan for n in metrics}
    z = np.concatenate(outputs, axis=0)
    y = np.concatenate(targets, axis=0)
    return {f"{prefix}{n}": float(fn(z, y)) for n, fn in metrics.items()}


def evaluate(model, loss_fn, loader, metrics=None):
    r"""Average loss and metrics of ``model`` over ``loader`` in eval mode, without a graph.

    The loss is averaged over samples (batch losses weighted by batch size);
    metrics are computed once on the concatenated outputs of all batches.

    Returns a dict ``{'loss': ..., '<metric>': ...}``.

    Example
    -------
    >>> evaluate(model, F.cross_entropy, test_loader, metrics=[accuracy])   # doctest: +SKIP
    {'loss': 0.11, 'accuracy': 0.97}
    """
    metrics = normalize_metrics(metrics)
    was_training = getattr(model, "training", False)
    model.eval()
    total, count, outs, ys = 0.0, 0, [], []
    try:
        with no_grad():
            for X, y in loader:
                out = model(as_input(X))
                n = batch_len(y)
                total += float(loss_fn(out, y).item()) * n
                count += n
                if metrics:
                    outs.append(np.asarray(out.data))
                    ys.append(target_array(y))
    finally:
        model.train(was_training)
    result = {"loss": total / count if count else math.nan}
    result.update(compute_metrics(metrics, outs, ys, ""))
    return result
