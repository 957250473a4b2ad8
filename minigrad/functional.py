r"""Functions on tensors, imported as ``import minigrad.functional as F`` (like ``torch.nn.functional``).

Numerically stable forms are used throughout: ``logsumexp`` subtracts the maximum
before exponentiating, :math:`\log\sum_i e^{x_i} = m + \log\sum_i e^{x_i - m}` with
:math:`m = \max_i x_i`, so no :math:`e^{x}` can overflow, and the losses work on
logits directly instead of on probabilities.
"""
from __future__ import annotations

import numpy as np

from .ops.binary import _operand
from .ops.unary import relu, sigmoid, stable_sigmoid, tanh
from .tensor import Tensor, make_result, unbroadcast

__all__ = [
    "relu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax", "logsumexp", "linear",
    "concatenate", "stack", "where", "maximum", "mse_loss", "cross_entropy",
    "binary_cross_entropy_with_logits", "dropout",
]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def softplus(x):
    r""":math:`\log(1 + e^x)`, computed as :math:`\max(x,0) + \log(1 + e^{-|x|})`; derivative :math:`\sigma(x)`."""
    x = _t(x)
    xd = x.data
    out = np.maximum(xd, 0) + np.log1p(np.exp(-np.abs(xd)))
    return make_result(out, (x,), lambda g: (g * stable_sigmoid(xd),), "softplus")


def _log_softmax_data(xd, axis):
    shifted = xd - np.max(xd, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp(x, axis=-1, keepdims=False):
    r""":math:`\log \sum_i e^{x_i}` along ``axis``; its gradient is the softmax."""
    x = _t(x)
    xd = x.data
    m = np.max(xd, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    s = np.log(np.sum(np.exp(xd - m), axis=axis, keepdims=True)) + m
    out = s if keepdims else np.squeeze(s, axis=axis)

    def backward(g):
        gk = g if keepdims else np.expand_dims(g, axis)
        return (gk * np.exp(xd - s),)

    return make_result(out, (x,), backward, "logsumexp")


def log_softmax(x, axis=-1):
    r""":math:`x_i - \log\sum_j e^{x_j}`; backward :math:`\bar x = \bar y - p \sum_j \bar y_j` with :math:`p` the softmax."""
    x = _t(x)
    out = _log_softmax_data(x.data, axis)

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return make_result(out, (x,), backward, "log_softmax")


def softmax(x, axis=-1):
    r""":math:`p_i = e^{x_i}/\sum_j e^{x_j}`; backward :math:`\bar x = p \odot (\bar p - \sum_j \bar p_j p_j)`."""
    x = _t(x)
    p = np.exp(_log_softmax_data(x.data, axis))

    def backward(g):
        return (p * (g - np.sum(g * p, axis=axis, keepdims=True)),)

    return make_result(p, (x,), backward, "softmax")


def linear(x, weight, bias=None):
    r"""Affine map :math:`y = x W^\top + b` as one graph node (what ``nn.Linear`` calls).

    Backward: :math:`\bar x = \bar y W`, :math:`\bar W = \bar y^\top x`, :math:`\bar b = \sum_n \bar y_n`.
    """
    x = _t(x)
    xd, wd = x.data, weight.data
    if xd.shape[-1] != wd.shape[1]:
        raise ValueError(
            f"linear: input has {xd.shape[-1]} features (shape {xd.shape}) but the weight expects "
            f"{wd.shape[1]} (weight shape {wd.shape})"
        )
    out = xd @ wd.T
    if bias is not None:
        out += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1])
        x2 = xd.reshape(-1, xd.shape[-1])
        gx = (g @ wd) if x.requires_grad else None
        gw = g2.T @ x2
        return (gx, gw) if bias is None else (gx, gw, g2.sum(axis=0))

    return make_result(out, parents, backward, "linear")


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (``numpy.concatenate``)."""
    tensors = tuple(_t(t) for t in tensors)
    try:
        out = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError as err:
        raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} do not match outside axis {axis}") from err
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return make_result(out, tensors, lambda g: tuple(np.split(g, bounds, axis=axis)), "concatenate")


def stack(tensors, axis=0):
    """Join equally shaped tensors along a new axis (``numpy.stack``)."""
    tensors = tuple(_t(t) for t in tensors)
    try:
        out = np.stack([t.data for t in tensors], axis=axis)
    except ValueError as err:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in tensors]}") from err
    n = len(tensors)
    return make_result(out, tensors, lambda g: tuple(np.squeeze(p, axis) for p in np.split(g, n, axis=axis)), "stack")


def _broadcast_error(name, **shapes):
    named = ", ".join(f"{k} {v}" for k, v in shapes.items())
    return ValueError(
        f"{name}: shapes cannot be broadcast together: {named} (NumPy rules: trailing dimensions must be equal or 1)"
    )


def where(condition, a, b):
    """Elementwise choice: ``a`` where ``condition`` holds, else ``b``; gradients follow the choice."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    (a, ad), (b, bd) = _operand(a), _operand(b)  # Python scalars stay scalars: float32 stays float32
    try:
        out = np.where(cond, ad, bd)
    except ValueError as err:
        raise _broadcast_error("where", condition=cond.shape, a=a.shape, b=b.shape) from err
    sa, sb = a.shape, b.shape

    def backward(g):
        return unbroadcast(np.where(cond, g, 0), sa), unbroadcast(np.where(cond, 0, g), sb)

    return make_result(out, (a, b), backward, "where")


def maximum(a, b):
    """Elementwise maximum; at ties each side gets half the gradient (as in PyTorch)."""
    (a, ad), (b, bd) = _operand(a), _operand(b)  # Python scalars stay scalars: float32 stays float32
    try:
        out = np.maximum(ad, bd)
    except ValueError as err:
        raise _broadcast_error("maximum", a=a.shape, b=b.shape) from err

    def backward(g):
        share = np.where(ad == bd, 0.5, np.where(ad > bd, 1.0, 0.0))
        return unbroadcast(g * share, a.shape), unbroadcast(g * (1 - share), b.shape)

    return make_result(out, (a, b), backward, "maximum")


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mse_loss(input, target, reduction="mean"):
    r"""Mean squared error :math:`\frac1N\sum_n (x_n - y_n)^2`."""
    input = _t(input)
    tshape = np.shape(target.data if isinstance(target, Tensor) else target)
    if tshape != input.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {tshape} differ")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def _check_labels(labels, n, classes, name):
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers (class indices), got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{name}: expected {n} labels (one per row of logits), got labels of shape {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"{name}: label {bad} is out of range for {classes} classes (expected 0 <= label < {classes})")
    return labels


def cross_entropy(logits, labels, reduction="mean"):
    r"""Softmax cross-entropy of ``(N, C)`` logits against ``N`` integer labels.

    :math:`\ell_n = -\log p_{n, y_n} = \log\sum_c e^{z_{nc}} - z_{n y_n}`, one graph node
    whose backward is the famous :math:`\bar z_{nc} = p_{nc} - [c = y_n]` (divided by
    :math:`N` for the mean).
    """
    logits = _t(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    n, c = logits.shape
    labels = _check_labels(labels, n, c, "cross_entropy")
    logp = _log_softmax_data(logits.data, 1)
    rows = np.arange(n)
    per_row = -logp[rows, labels]
    out = per_row if reduction == "none" else (per_row.sum() if reduction == "sum" else per_row.mean())

    def backward(g):
        grad = np.exp(logp)
        grad[rows, labels] -= 1
        if reduction == "none":
            return (grad * g[:, None],)
        return (grad * (g / n if reduction == "mean" else g),)

    return make_result(np.asarray(out), (logits,), backward, "cross_entropy")


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    r"""Logistic loss on logits :math:`z` with targets :math:`y \in [0,1]`.

    :math:`\ell = \max(z,0) - z y + \log(1 + e^{-|z|})`, stable for any :math:`z`;
    its derivative is :math:`\sigma(z) - y`.
    """
    logits = _t(logits)
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.shape != logits.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: logits shape {logits.shape} and targets shape {y.shape} differ")
    z = logits.data
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    elem = make_result(loss, (logits,), lambda g: (g * (stable_sigmoid(z) - y),), "bce_with_logits")
    return _reduce(elem, reduction, "binary_cross_entropy_with_logits")


def dropout(x, p=0.5, training=True, rng=None):
    r"""Zero each element with probability ``p`` and scale survivors by :math:`1/(1-p)` (inverted dropout).

    The expected value of every element is unchanged, so nothing needs rescaling
    at evaluation time, when ``training=False`` returns ``x`` itself.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = _t(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    mask = (gen.random(x.shape) >= p).astype(x.dtype) / (1 - p)
    return x * mask
