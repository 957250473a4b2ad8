"""The table of core operations shared by the gradcheck and the torch-parity tests.

Each :class:`Case` draws its inputs with hypothesis (shapes, axes, indices) and
numpy (values), and knows how to compute the same thing in minigrad and in torch.
``draw(data)`` returns ``(arrays, params)``: ``arrays`` are the float64 inputs that
get gradients, ``params`` are fixed keyword arguments (axes, labels, masks ...).
Not a test module itself (no ``test_`` prefix); imported by test_gradcheck.py and
test_torch_parity_core.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import hypothesis.strategies as st
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, settings
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad.functional as F

# Modest, deterministic hypothesis settings for every shape-varying test of the core.
CORE_SETTINGS = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Case:
    name: str
    draw: Callable  # data -> (list of float64 arrays, dict of params)
    mg: Callable  # (*Tensors, **params) -> minigrad Tensor
    th: Optional[Callable]  # (*torch tensors, **params) -> torch tensor; None: no torch counterpart

    def __repr__(self):
        return self.name


# ----------------------------------------------------------------- values
def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def values(rng, shape, domain="real"):
    """Random float64 values of ``shape`` in a domain where the op is smooth."""
    if domain == "real":
        return rng.normal(size=shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)
    if domain == "prob":
        return rng.uniform(0.0, 1.0, size=shape)
    raise ValueError(domain)


def away_from(x, points, gap=0.05):
    """Move values closer than ``gap`` to a kink (``points``) by ``2 gap``: finite differences stay valid."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        close = np.abs(x - p) < gap
        x[close] += 2 * gap
    return x


def _bshapes(data, n=2, min_dims=0, max_dims=3):
    strat = mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)
    return data.draw(strat, label="shapes").input_shapes


def _shape(data, min_dims=0, max_dims=3, max_side=4):
    return data.draw(array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side), label="shape")


def _axis(data, ndim, allow_none=True, allow_tuple=True):
    """None, an int (possibly negative) or a tuple of distinct axes."""
    options = [st.integers(-ndim, ndim - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return data.draw(st.one_of(*options), label="axis")


def _th_dim(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _t(a):
    """A constant numpy array as a torch tensor (labels, masks, targets)."""
    return torch.from_numpy(np.asarray(a))


# ------------------------------------------------------------- draw helpers
def unary(domain="real", kinks=()):
    def draw(data):
        rng = _rng(data)
        x = values(rng, _shape(data), domain)
        return [away_from(x, kinks) if kinks else x], {}

    return draw


def binary(dom_a="real", dom_b="real"):
    def draw(data):
        rng = _rng(data)
        sa, sb = _bshapes(data)
        return [values(rng, sa, dom_a), values(rng, sb, dom_b)], {}

    return draw


def draw_scalar_mix(data):
    """x (op) s or s (op) x with s a Python float, a NumPy scalar or a broadcasting ndarray."""
    rng = _rng(data)
    op = data.draw(st.sampled_from(["+", "-", "*", "/", "**"]), label="op")
    side = data.draw(st.sampled_from(["left", "right"]), label="side")
    kind = data.draw(st.sampled_from(["python", "numpy_scalar", "ndarray"]), label="kind")
    sx, ss = _bshapes(data)
    s = float(rng.uniform(0.5, 2.0))
    if kind == "numpy_scalar":
        s = np.float64(s)
    elif kind == "ndarray":
        s = rng.uniform(0.5, 2.0, size=ss)
    return [values(rng, sx, "pos")], {"op": op, "side": side, "s": s}


_PY_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a**b,
}


def mg_scalar_mix(x, op, side, s):
    f = _PY_OPS[op]
    return f(x, s) if side == "right" else f(s, x)


def th_scalar_mix(x, op, side, s):
    f = _PY_OPS[op]
    s = _t(s) if isinstance(s, np.ndarray) else float(s)
    return f(x, s) if side == "right" else f(s, x)


def draw_pow_scalar(data):
    rng = _rng(data)
    p = data.draw(st.sampled_from([0, 1, 2, 3, -1, 0.5, -1.5, 2.5]), label="exponent")
    return [values(rng, _shape(data), "pos")], {"p": p}


def draw_matmul(data):
    """Shapes for numpy.matmul: 1-D on either side, 2-D, and batched n-D with broadcast batch dims."""
    rng = _rng(data)
    n, k, m = (data.draw(st.integers(1, 4), label=lbl) for lbl in "nkm")
    a_vec = data.draw(st.booleans(), label="a is 1-D")
    b_vec = data.draw(st.booleans(), label="b is 1-D")
    ba, bb = data.draw(
        mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3), label="batch"
    ).input_shapes
    sa = (k,) if a_vec else tuple(ba) + (n, k)
    sb = (k,) if b_vec else tuple(bb) + (k, m)
    return [values(rng, sa), values(rng, sb)], {}


def draw_reduce(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    axis = _axis(data, len(shape))
    keepdims = data.draw(st.booleans(), label="keepdims")
    return [values(rng, shape)], {"axis": axis, "keepdims": keepdims}


def th_reduce(fn):
    def th(x, axis, keepdims):
        if axis is None and not keepdims:
            return fn(x, dim=tuple(range(x.ndim)))
        return fn(x, dim=_th_dim(axis, x.ndim), keepdim=keepdims)

    return th


def draw_clip(data):
    rng = _rng(data)
    lo, hi = data.draw(st.sampled_from([(-0.5, 0.5), (None, 0.3), (-0.2, None), (0.0, 1.0)]), label="bounds")
    points = [b for b in (lo, hi) if b is not None]
    return [away_from(values(rng, _shape(data)), points)], {"lo": lo, "hi": hi}


def draw_reshape(data):
    rng = _rng(data)
    shape = _shape(data)
    size = int(np.prod(shape))
    target = data.draw(
        st.sampled_from(
            [(size,), (-1,), tuple(reversed(shape)), (1,) + tuple(shape) + (1,), (size, 1), (1, -1)]
        ),
        label="target",
    )
    return [values(rng, shape)], {"shape": target}


def draw_transpose(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    ndim = len(shape)
    perm = data.draw(st.permutations(range(ndim)), label="perm")
    negate = data.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim), label="negative axes")
    axes = tuple(a - ndim if neg else a for a, neg in zip(perm, negate))
    return [values(rng, shape)], {"axes": axes}


def draw_getitem_basic(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    index = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "all"]), label="kind")
        if kind == "int":
            index.append(data.draw(st.integers(-n, n - 1), label="i"))
        elif kind == "slice":
            start = data.draw(st.one_of(st.none(), st.integers(-n, n - 1)), label="start")
            stop = data.draw(st.one_of(st.none(), st.integers(-n, n)), label="stop")
            step = data.draw(st.sampled_from([None, 1, 2]), label="step")
            index.append(slice(start, stop, step))
        else:
            index.append(slice(None))
    return [values(rng, shape)], {"index": tuple(index)}


def draw_getitem_array(data):
    """Integer-array indexing with repeated (and negative) indices, on one or two axes."""
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    length = data.draw(st.integers(1, 6), label="len")
    idx0 = rng.integers(-shape[0], shape[0], size=length)
    form = data.draw(st.sampled_from(["first", "second", "both"] if len(shape) >= 2 else ["first"]), label="form")
    if form == "first":
        index = idx0
    elif form == "second":
        index = (slice(None), rng.integers(-shape[1], shape[1], size=length))
    else:
        index = (idx0, rng.integers(-shape[1], shape[1], size=length))
    return [values(rng, shape)], {"index": index}


def draw_getitem_mask(data):
    rng = _rng(data)
    shape = _shape(data, min_dims=1)
    return [values(rng, shape)], {"index": rng.random(shape) < 0.5}


def th_getitem(x, index):
    if isinstance(index, tuple):
        return x[tuple(_t(i) if isinstance(i, np.ndarray) else i for i in index)]
    return x[_t(index) if isinstance(index, np.ndarray) else index]


def draw_axis_op(keepdims=False):
    def draw(data):
        rng = _rng(data)
        shape = _shape(data, min_dims=1)
        params = {"axis": data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")}
        if keepdims:
            params["keepdims"] = data.draw(st.booleans(), label="keepdims")
        return [3 * values(rng, shape)], params

    return draw


def draw_concatenate(data):
    rng = _rng(data)
    shape = list(_shape(data, min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    count = data.draw(st.integers(1, 3), label="count")
    arrays = []
    for _ in range(count):
        shape[axis] = data.draw(st.integers(1, 3), label="size along axis")
        arrays.append(values(rng, tuple(shape)))
    return arrays, {"axis": axis}


def draw_stack(data):
    rng = _rng(data)
    shape = _shape(data)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    count = data.draw(st.integers(1, 3), label="count")
    return [values(rng, shape) for _ in range(count)], {"axis": axis}


def draw_where(data):
    rng = _rng(data)
    sc, sa, sb = _bshapes(data, n=3)
    return [values(rng, sa), values(rng, sb)], {"cond": rng.random(sc) < 0.5}


def draw_scalar_other(data):
    rng = _rng(data)
    shape = _shape(data)
    s = data.draw(st.sampled_from([0.0, 0.3, -0.5]), label="scalar")
    return [away_from(values(rng, shape), [s])], {"s": s, "mask": rng.random(shape) < 0.5}


def draw_mse(data):
    rng = _rng(data)
    shape = _shape(data)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return [values(rng, shape), values(rng, shape)], {"reduction": reduction}


def draw_cross_entropy(data):
    rng = _rng(data)
    n, c = data.draw(st.integers(1, 5), label="N"), data.draw(st.integers(1, 5), label="C")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return [2 * values(rng, (n, c))], {"labels": rng.integers(0, c, size=n), "reduction": reduction}


def draw_bce(data):
    rng = _rng(data)
    shape = _shape(data)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return [3 * values(rng, shape)], {"targets": values(rng, shape, "prob"), "reduction": reduction}


def draw_linear(data):
    rng = _rng(data)
    n_in, n_out = data.draw(st.integers(1, 4), label="in"), data.draw(st.integers(1, 4), label="out")
    lead = data.draw(st.sampled_from([(), (3,), (2, 3)]), label="leading dims")
    arrays = [values(rng, lead + (n_in,)), values(rng, (n_out, n_in))]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(values(rng, (n_out,)))
    return arrays, {}


def draw_dropout(data):
    rng = _rng(data)
    p = data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.9]), label="p")
    return [values(rng, _shape(data))], {"p": p, "seed": data.draw(st.integers(0, 100), label="mask seed")}


def draw_mlp(data):
    """Parameters of a 2-layer MLP; the data and labels are fixed params."""
    rng = _rng(data)
    n, d, h, c = (data.draw(st.integers(1, 4), label=lbl) for lbl in ("N", "D", "H", "C"))
    arrays = [values(rng, (h, d)), values(rng, (h,)), values(rng, (c, h)), values(rng, (c,))]
    return arrays, {"x": values(rng, (n, d)), "labels": rng.integers(0, c, size=n)}


def mg_mlp(w1, b1, w2, b2, x, labels):
    hidden = F.tanh(F.linear(x, w1, b1))
    logits = (hidden @ w2.T + b2).relu() - hidden.mean() * 0.5
    return F.cross_entropy(logits, labels)


def th_mlp(w1, b1, w2, b2, x, labels):
    hidden = torch.tanh(TF.linear(_t(x), w1, b1))
    logits = torch.relu(hidden @ w2.T + b2) - hidden.mean() * 0.5
    return TF.cross_entropy(logits, _t(labels))


def draw_attention(data):
    rng = _rng(data)
    n, m, d = (data.draw(st.integers(1, 4), label=lbl) for lbl in "nmd")
    return [values(rng, (n, d)), values(rng, (m, d)), values(rng, (m, d))], {}


def draw_chain(data):
    rng = _rng(data)
    return [values(rng, _shape(data))], {"depth": data.draw(st.integers(1, 40), label="depth")}


def mg_chain(x, depth):
    for i in range(depth):
        x = [lambda t: (t * 1.1 + 0.1).tanh(), lambda t: t.sigmoid() * 2 - 0.5, lambda t: (t * t + 1).sqrt() - 1][i % 3](x)
    return x


def th_chain(x, depth):
    for i in range(depth):
        x = [lambda t: (t * 1.1 + 0.1).tanh(), lambda t: t.sigmoid() * 2 - 0.5, lambda t: (t * t + 1).sqrt() - 1][i % 3](x)
    return x


# ----------------------------------------------------------------- the table
CASES = [
    # binary operators with broadcasting, and Python/NumPy scalars or arrays on either side
    Case("add", binary(), lambda a, b: a + b, lambda a, b: a + b),
    Case("sub", binary(), lambda a, b: a - b, lambda a, b: a - b),
    Case("mul", binary(), lambda a, b: a * b, lambda a, b: a * b),
    Case("div", binary("real", "nonzero"), lambda a, b: a / b, lambda a, b: a / b),
    Case("pow", binary("pos", "real"), lambda a, b: a**b, lambda a, b: a**b),
    Case("pow_scalar_exponent", draw_pow_scalar, lambda x, p: x**p, lambda x, p: x**p),
    Case("scalar_and_array_operands", draw_scalar_mix, mg_scalar_mix, th_scalar_mix),
    Case("same_tensor_twice", unary("pos"), lambda x: x * x + x / x - x**x, lambda x: x * x + x / x - x**x),
    Case("neg", unary(), lambda x: -x, lambda x: -x),
    Case("matmul", draw_matmul, lambda a, b: a @ b, lambda a, b: a @ b),
    # elementwise
    Case("exp", unary(), lambda x: x.exp(), torch.exp),
    Case("log", unary("pos"), lambda x: x.log(), torch.log),
    Case("sqrt", unary("pos"), lambda x: x.sqrt(), torch.sqrt),
    Case("abs", unary("nonzero"), lambda x: x.abs(), torch.abs),
    Case("tanh", unary(), lambda x: x.tanh(), torch.tanh),
    Case("sigmoid", unary(), lambda x: x.sigmoid(), torch.sigmoid),
    Case("relu", unary("nonzero"), lambda x: x.relu(), torch.relu),
    Case("clip", draw_clip, lambda x, lo, hi: x.clip(lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi)),
    # reductions
    Case("sum", draw_reduce, lambda x, axis, keepdims: x.sum(axis, keepdims), th_reduce(torch.sum)),
    Case("mean", draw_reduce, lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims), th_reduce(torch.mean)),
    Case("max", draw_reduce, lambda x, axis, keepdims: x.max(axis, keepdims=keepdims), th_reduce(torch.amax)),
    Case("min", draw_reduce, lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims), th_reduce(torch.amin)),
    # shape
    Case("reshape", draw_reshape, lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape)),
    Case("reshape_varargs", draw_reshape, lambda x, shape: x.reshape(*shape), lambda x, shape: x.reshape(*shape)),
    Case("transpose", draw_transpose, lambda x, axes: x.transpose(*axes), lambda x, axes: x.permute(*axes)),
    Case("T", unary(), lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim))) if x.ndim else x * 1),
    Case("getitem_basic", draw_getitem_basic, lambda x, index: x[index], th_getitem),
    Case("getitem_int_array", draw_getitem_array, lambda x, index: x[index], th_getitem),
    Case("getitem_bool_mask", draw_getitem_mask, lambda x, index: x[index], th_getitem),
    # minigrad.functional
    Case("F.relu", unary("nonzero"), F.relu, torch.relu),
    Case("F.tanh", unary(), F.tanh, torch.tanh),
    Case("F.sigmoid", unary(), F.sigmoid, torch.sigmoid),
    Case("F.softplus", unary(), F.softplus, TF.softplus),
    Case("F.softmax", draw_axis_op(), lambda x, axis: F.softmax(x, axis=axis), lambda x, axis: torch.softmax(x, axis)),
    Case("F.log_softmax", draw_axis_op(), lambda x, axis: F.log_softmax(x, axis=axis),
         lambda x, axis: torch.log_softmax(x, axis)),
    Case("F.logsumexp", draw_axis_op(keepdims=True), lambda x, axis, keepdims: F.logsumexp(x, axis=axis, keepdims=keepdims),
         lambda x, axis, keepdims: torch.logsumexp(x, axis, keepdim=keepdims)),
    Case("F.concatenate", draw_concatenate, lambda *xs, axis: F.concatenate(xs, axis=axis),
         lambda *xs, axis: torch.cat(xs, dim=axis)),
    Case("F.stack", draw_stack, lambda *xs, axis: F.stack(xs, axis=axis), lambda *xs, axis: torch.stack(xs, dim=axis)),
    Case("F.where", draw_where, lambda a, b, cond: F.where(cond, a, b), lambda a, b, cond: torch.where(_t(cond), a, b)),
    Case("F.where_scalar", draw_scalar_other, lambda x, s, mask: F.where(mask, x, s) + F.where(mask, s, x),
         lambda x, s, mask: torch.where(_t(mask), x, s) + torch.where(_t(mask), s, x)),
    Case("F.maximum", binary(), F.maximum, torch.maximum),
    Case("F.maximum_scalar", draw_scalar_other, lambda x, s, mask: F.maximum(x, s) + F.maximum(s, x) * 2,
         lambda x, s, mask: torch.maximum(x, _t(s)) + torch.maximum(_t(s), x) * 2),
    Case("F.mse_loss", draw_mse, lambda a, b, reduction: F.mse_loss(a, b, reduction=reduction),
         lambda a, b, reduction: TF.mse_loss(a, b, reduction=reduction)),
    Case("F.cross_entropy", draw_cross_entropy,
         lambda z, labels, reduction: F.cross_entropy(z, labels, reduction=reduction),
         lambda z, labels, reduction: TF.cross_entropy(z, _t(labels), reduction=reduction)),
    Case("F.binary_cross_entropy_with_logits", draw_bce,
         lambda z, targets, reduction: F.binary_cross_entropy_with_logits(z, targets, reduction=reduction),
         lambda z, targets, reduction: TF.binary_cross_entropy_with_logits(z, _t(targets), reduction=reduction)),
    Case("F.linear", draw_linear, F.linear, TF.linear),
    Case("F.dropout", draw_dropout, lambda x, p, seed: F.dropout(x, p, training=True, rng=seed), None),
    # composite functions
    Case("mlp_loss", draw_mlp, mg_mlp, th_mlp),
    Case("attention", draw_attention, lambda q, k, v: F.softmax(q @ k.T / 2.0, axis=-1) @ v,
         lambda q, k, v: torch.softmax(q @ k.T / 2.0, dim=-1) @ v),
    Case("deep_chain", draw_chain, mg_chain, th_chain),
]
