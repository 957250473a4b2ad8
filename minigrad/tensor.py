r"""``Tensor``: a numpy array that remembers how it was computed.

A tensor wraps ``.data`` (a ``numpy.ndarray``) and, when it requires a gradient,
the parents it was computed from and a backward function (see
:mod:`minigrad.autograd`).  The operations themselves live in
:mod:`minigrad.ops`, one file per family (binary, unary, reductions, shape);
the methods below are one-line doors into them.
"""
from __future__ import annotations

import numpy as np

from . import autograd
from .dtypes import as_array

__all__ = ["Tensor", "make_result", "unbroadcast"]


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : array_like or Tensor
        NumPy arrays keep their dtype (and are wrapped without a copy); Python
        scalars and lists become the default dtype (float64, see
        :func:`minigrad.set_default_dtype`).
    requires_grad : bool
        Record operations on this tensor so that ``backward`` can compute
        ``.grad``.  Only floating-point tensors may require gradients.

    Example
    -------
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data)
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = ""
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- basics
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (only floating-point tensors may require grad)."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                f"convert first, e.g. Tensor(x.astype(np.float64), requires_grad=True)"
            )
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors created by the user rather than computed by an operation."""
        return self._backward is None

    def __len__(self):
        return len(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The underlying array (no copy), like ``torch.Tensor.numpy``."""
        return self.data

    def detach(self):
        """A tensor sharing the same data but cut from the graph (never requires grad)."""
        return Tensor(self.data)

    def retain_grad(self):
        """Keep ``.grad`` on this intermediate result after ``backward`` (for inspection)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad, so it will never have one")
        self._retains_grad = True
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def astype(self, dtype):
        """A copy converted to ``dtype``; differentiable for floating dtypes."""
        return unary.astype(self, dtype)

    def backward(self, grad=None, retain_graph=False):
        r"""Compute the gradient of this tensor with respect to every leaf that requires grad.

        A scalar seeds :math:`\partial L/\partial L = 1`; a non-scalar needs ``grad``,
        the gradient of some scalar with respect to this tensor (same shape).
        Gradients *accumulate* into ``.grad`` like PyTorch: call ``zero_grad`` between steps.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no graph; create the leaves "
                "with requires_grad=True (and do not compute it under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {self.shape}; reduce it first (e.g. loss.sum()) or pass "
                    f"grad=<array of shape {self.shape}>"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape} but the tensor has shape {self.shape}")
        autograd.run_backward(self, grad, retain_graph=retain_graph)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float64:
            extra = f", dtype={self.data.dtype}" + extra
        return f"Tensor({body}{extra})"

    __hash__ = object.__hash__  # comparisons are overloaded, identity stays the hash

    # -------------------------------------------------------------- operators
    def __add__(self, other): return binary.add(self, other)
    def __radd__(self, other): return binary.add(other, self)
    def __sub__(self, other): return binary.sub(self, other)
    def __rsub__(self, other): return binary.sub(other, self)
    def __mul__(self, other): return binary.mul(self, other)
    def __rmul__(self, other): return binary.mul(other, self)
    def __truediv__(self, other): return binary.div(self, other)
    def __rtruediv__(self, other): return binary.div(other, self)
    def __pow__(self, other): return binary.pow(self, other)
    def __rpow__(self, other): return binary.pow(other, self)
    def __matmul__(self, other): return binary.matmul(self, other)
    def __rmatmul__(self, other): return binary.matmul(other, self)
    def __neg__(self): return unary.neg(self)
    def __pos__(self): return self

    def __lt__(self, other): return _compare(np.less, self, other)
    def __le__(self, other): return _compare(np.less_equal, self, other)
    def __gt__(self, other): return _compare(np.greater, self, other)
    def __ge__(self, other): return _compare(np.greater_equal, self, other)
    def __eq__(self, other): return _compare(np.equal, self, other)
    def __ne__(self, other): return _compare(np.not_equal, self, other)

    # ------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims=False): return reduce.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return reduce.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return reduce.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return reduce.min(self, axis, keepdims)

    # ------------------------------------------------------- elementwise math
    def exp(self): return unary.exp(self)
    def log(self): return unary.log(self)
    def sqrt(self): return unary.sqrt(self)
    def abs(self): return unary.abs(self)
    def tanh(self): return unary.tanh(self)
    def sigmoid(self): return unary.sigmoid(self)
    def relu(self): return unary.relu(self)
    def clip(self, min=None, max=None): return unary.clip(self, min, max)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape): return shape_ops.reshape(self, *shape)
    def transpose(self, *axes): return shape_ops.transpose(self, *axes)
    @property
    def T(self): return shape_ops.transpose(self)
    def __getitem__(self, index): return shape_ops.getitem(self, index)


def make_result(data, parents, backward, op):
    """Wrap ``data`` computed from ``parents`` as a new tensor.

    The graph edge (``parents`` and the ``backward`` function) is recorded only
    when gradient mode is on and some parent requires grad; otherwise the result
    is a plain constant and ``backward`` is never kept alive.
    """
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out._op = op
    out._retains_grad = False
    if autograd._mode.enabled and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
    else:
        out.requires_grad = False
        out._parents = ()
        out._backward = None
    return out


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``.

    If :math:`y = x + b` broadcasts ``b`` of shape ``(3,)`` against ``x`` of shape
    ``(4, 3)``, each ``b[j]`` influenced four outputs, so its gradient is the sum
    of their four gradients.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _compare(ufunc, a, b):
    bd = b.data if isinstance(b, Tensor) else b
    return Tensor(ufunc(a.data, bd))


from .ops import binary, reduce, shape_ops, unary  # noqa: E402  (the ops need Tensor defined)
