r"""Normalization layers: ``BatchNorm1d`` and ``LayerNorm`` (and their functional forms).

Both standardize activations, :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}`, then
rescale them, :math:`y = \gamma \hat x + \beta`. They differ in *which* values share a
mean and a variance: batch normalization uses one feature over the rows of the
mini-batch, layer normalization all the features of one row.

Each forward pass is **one graph node** whose backward is derived by hand. Per group
of :math:`m` values that share the statistics (a channel of the batch, or a row),

.. math::
   \mu = \frac1m \sum_i x_i, \quad \sigma^2 = \frac1m \sum_i (x_i - \mu)^2, \quad
   s = (\sigma^2 + \epsilon)^{-1/2}, \quad \hat x_i = (x_i - \mu)\, s, \quad
   y_i = \gamma \hat x_i + \beta .

With :math:`\partial\mu/\partial x_j = 1/m`, :math:`\partial\sigma^2/\partial x_j = 2(x_j-\mu)/m`
and :math:`\partial s/\partial\sigma^2 = -s^3/2`, the Jacobian of the normalization is

.. math::
   \frac{\partial \hat x_i}{\partial x_j}
   = s\Bigl(\delta_{ij} - \frac1m - \frac{\hat x_i \hat x_j}{m}\Bigr),

so with :math:`\hat g_i = \gamma\,\bar y_i` (the gradient arriving at :math:`\hat x_i`)

.. math::
   \bar x_j = \sum_i \hat g_i \frac{\partial \hat x_i}{\partial x_j}
   = s\Bigl(\hat g_j - \overline{\hat g} - \hat x_j\, \overline{\hat g \hat x}\Bigr),
   \qquad \bar\gamma = \sum_i \bar y_i \hat x_i, \qquad \bar\beta = \sum_i \bar y_i ,

where the bars over :math:`\hat g` and :math:`\hat g \hat x` are means over the group.
The gradient reaching :math:`x` has its mean and its component along :math:`\hat x`
removed (exactly the mean, and the :math:`\hat x` component up to the :math:`\epsilon`
term): shifting or rescaling a group of inputs does not change the output, so the
gradient cannot point that way. This is the well-known batch-norm backward formula
(Ioffe & Szegedy 2015, Sec. 3), one pass instead of a graph of a dozen nodes.

References: S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift", ICML 2015; J. L. Ba, J. R. Kiros and
G. E. Hinton, "Layer Normalization", arXiv:1607.06450, 2016.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor, make_result
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "LayerNorm", "batch_norm", "layer_norm"]


def _normalize(xd, axes, eps, mean=None, var=None):
    """``(x_hat, s)`` with statistics over ``axes`` (given ``mean``/``var`` if not None)."""
    if mean is None:
        mean = xd.mean(axis=axes, keepdims=True)
        var = ((xd - mean) ** 2).mean(axis=axes, keepdims=True)
    s = 1.0 / np.sqrt(var + eps)
    return (xd - mean) * s, s


def _normalization_node(x, xd, x_hat, s, axes, weight, bias, batch_stats, param_shape, op):
    """Wrap ``gamma * x_hat + beta`` as one graph node with the hand-derived backward."""
    out = x_hat if weight is None else x_hat * weight.data.reshape(param_shape)
    if bias is not None:
        out = out + bias.data.reshape(param_shape)
    params = tuple(p for p in (weight, bias) if p is not None)
    param_axes = tuple(a for a in range(xd.ndim) if param_shape[a] == 1)

    def backward(g):
        grads = []
        if x.requires_grad:
            g_hat = g if weight is None else g * weight.data.reshape(param_shape)
            if batch_stats:   # the statistics depend on x: remove the mean and the x_hat part
                g_hat = (g_hat - g_hat.mean(axis=axes, keepdims=True)
                         - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))
            grads.append(g_hat * s)
        else:
            grads.append(None)
        if weight is not None:
            grads.append((g * x_hat).sum(axis=param_axes).reshape(weight.shape))
        if bias is not None:
            grads.append(g.sum(axis=param_axes).reshape(bias.shape))
        return tuple(grads)

    return make_result(out, (x,) + params, backward, op)


def _verify_batch_size(shape):
    values = shape[0] * int(np.prod(shape[2:], dtype=np.int64))
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    r"""Batch normalization of ``input`` of shape ``(N, C)`` or ``(N, C, L)``, as ``torch.nn.functional.batch_norm``.

    With ``training=True`` each channel is normalized with the mean and *biased* variance
    of its :math:`m = N` (or :math:`N L`) values in the batch, and ``running_mean`` /
    ``running_var`` (numpy arrays, or None) are updated **in place**:
    :math:`r \leftarrow (1 - \text{momentum})\, r + \text{momentum}\cdot b`, with the
    *unbiased* variance :math:`\frac{m}{m-1}\sigma^2` for ``running_var``. With
    ``training=False`` the running statistics are used and the result is an affine map
    of ``input``, whose backward is :math:`\bar x = \gamma s\, \bar y`.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    xd = x.data
    if xd.ndim not in (2, 3):
        raise ValueError(f"expected 2D or 3D input (got {xd.ndim}D input)")
    C = xd.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        n = None if v is None else np.size(v.data if isinstance(v, Tensor) else v)
        if n is not None and n != C:
            raise RuntimeError(f"batch_norm: the input has {C} channels (dimension 1 of shape {xd.shape}) "
                               f"but {name} has {n} elements; they must be equal")
    if training:
        _verify_batch_size(xd.shape)
        if eps <= 0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif running_mean is None or running_var is None:
        raise ValueError("batch_norm: training=False needs running_mean and running_var")
    elif eps < 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    axes = (0,) if xd.ndim == 2 else (0, 2)
    param_shape = (1, C) if xd.ndim == 2 else (1, C, 1)
    if training:
        mean = xd.mean(axis=axes, keepdims=True)
        var = ((xd - mean) ** 2).mean(axis=axes, keepdims=True)
        x_hat, s = _normalize(xd, axes, eps, mean, var)
        if running_mean is not None and running_var is not None:
            m = xd.size // C
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(C)
            running_var *= 1 - momentum
            running_var += momentum * var.reshape(C) * (m / (m - 1))
    else:
        x_hat, s = _normalize(xd, axes, eps, np.asarray(running_mean).reshape(param_shape),
                              np.asarray(running_var).reshape(param_shape))
    return _normalization_node(x, xd, x_hat, s, axes, weight, bias, training, param_shape, "batch_norm")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Layer normalization over the last ``len(normalized_shape)`` dimensions, as ``torch.nn.functional.layer_norm``.

    Every row (every index of the leading dimensions) is standardized with its own mean
    and biased variance, in training and in evaluation alike; ``weight`` and ``bias`` have
    shape ``normalized_shape``.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    xd = x.data
    shape = tuple(normalized_shape)
    k = len(shape)
    if k == 0 or xd.ndim < k or xd.shape[xd.ndim - k:] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(xd.shape)}")
    axes = tuple(range(xd.ndim - k, xd.ndim))
    x_hat, s = _normalize(xd, axes, eps)
    param_shape = (1,) * (xd.ndim - k) + shape
    return _normalization_node(x, xd, x_hat, s, axes, weight, bias, True, param_shape, "layer_norm")


def _check_positive_int(who, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


class BatchNorm1d(Module):
    r"""Batch normalization over a 2-D input ``(N, C)`` or a 3-D input ``(N, C, L)`` (Ioffe & Szegedy, 2015).

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}\,\gamma + \beta

    In training mode the mean and the biased variance of each channel over the batch
    are used, and the buffers ``running_mean`` / ``running_var`` track them:
    :math:`\hat r \leftarrow (1 - \text{momentum})\,\hat r + \text{momentum}\cdot r_t`
    (the running variance uses the unbiased batch variance, as torch). With
    ``momentum=None`` the update is the cumulative average, factor
    :math:`1/\text{num\_batches\_tracked}`. In evaluation mode (``model.eval()``) the
    running statistics are used, so the output of a row no longer depends on the rest
    of the batch. ``track_running_stats=False`` keeps no buffers and uses batch
    statistics in both modes. :math:`\gamma` (``weight``) starts at 1, :math:`\beta`
    (``bias``) at 0. The forward pass is one graph node; the backward formula is
    derived in :mod:`minigrad.nn.normalization`.

    Unlike torch, an input that is rejected (wrong number of channels, one value per
    channel in training) leaves ``num_batches_tracked`` unchanged.

    Example
    -------
    >>> bn = BatchNorm1d(3)
    >>> y = bn(Tensor(np.random.default_rng(0).normal(5.0, 2.0, size=(8, 3))))
    >>> np.allclose(y.data.mean(axis=0), 0), int(bn.num_batches_tracked)
    (True, 1)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = _check_positive_int("BatchNorm1d", "num_features", num_features)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        C = self.num_features
        self.weight = Parameter(np.ones(C, dtype=dt)) if affine else None
        self.bias = Parameter(np.zeros(C, dtype=dt)) if affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype=dt))
            self.register_buffer("running_var", np.ones(C, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, ``num_batches_tracked`` 0 (in place)."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        """Reset the running statistics and set :math:`\\gamma = 1`, :math:`\\beta = 0`."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input):
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}: expected input with {self.num_features} features "
                               f"(dimension 1), but got input of shape {x.shape} with {x.shape[1]} "
                               f"features; num_features must match the size of dimension 1")
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:               # check before any state changes
            _verify_batch_size(x.shape)
            if self.eps <= 0:
                raise ValueError(f"batch_norm eps must be positive during training, but got {self.eps}")
        factor = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked[...] += 1
            if self.momentum is None:           # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        update = self.training and self.track_running_stats
        return batch_norm(x, self.running_mean if update or not self.training else None,
                          self.running_var if update or not self.training else None,
                          self.weight, self.bias, use_batch_stats, factor if factor is not None else 0.0,
                          self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class LayerNorm(Module):
    r"""Layer normalization over the last dimensions given by ``normalized_shape`` (Ba et al., 2016).

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}\,\gamma + \beta

    The mean and biased variance are taken over the last ``len(normalized_shape)``
    dimensions of each sample, so the output of a row never depends on the other rows
    and training and evaluation modes compute the same thing (no running statistics).
    :math:`\gamma` (``weight``) and :math:`\beta` (``bias``) have shape
    ``normalized_shape`` and start at 1 and 0.

    Example
    -------
    >>> ln = LayerNorm(4)
    >>> y = ln(Tensor([[1.0, 2.0, 3.0, 4.0]]))
    >>> np.allclose(y.data.mean(axis=-1), 0)
    True
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        shape = tuple(normalized_shape)
        self.normalized_shape = tuple(_check_positive_int("LayerNorm", "normalized_shape entries", n)
                                      for n in shape)
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must have at least one dimension, got ()")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if elementwise_affine and bias else None

    def reset_parameters(self):
        """Set :math:`\\gamma = 1` and :math:`\\beta = 0`."""
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
