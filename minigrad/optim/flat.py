r"""Flat buffers: many small parameters updated by ONE kernel call.

A model made of 200 tensors of 1,000 numbers costs 200 optimizer kernel calls
per step, and in Python each call has a fixed price (a few microseconds) that
dwarfs the work on 1,000 numbers.  :func:`flatten_parameters` copies all the
parameters (and their gradients) into one contiguous array and makes every
``param.data`` (and ``param.grad``) a *view* into it.  The model does not notice:
a view reads and writes the shared memory.  The optimizer notices: when the
parameters of a group are consecutive views of one flat buffer, it packs their
state the same way and updates the whole group with a single kernel call over
the flat arrays -- bit-for-bit the same numbers as one call per tensor, because
the update is element-wise.

The fast path is taken only when it is exact: every parameter of the group has
a gradient and all share the same step count.  Otherwise (a gradient is
``None``, a parameter was skipped once) the optimizer silently falls back to
one call per tensor, which still updates the views in place.

Gradients: ``backward`` adds into an existing ``.grad`` in place, so a gradient
that is a view stays a view.  After ``zero_grad()`` (``set_to_none=True``, the
default) backward assigns fresh arrays; the optimizer copies them into the flat
gradient before the kernel call and makes ``.grad`` a view again.  For the last
bit of speed use ``optimizer.zero_grad(set_to_none=False)``: no copies at all.

Example
-------
>>> import numpy as np
>>> from minigrad import nn, optim
>>> model = nn.MLP([4, 8, 1], rng=0)
>>> flat = optim.flatten_parameters(model)
>>> opt = optim.Adam(model.parameters(), lr=1e-3)   # detects the flat buffer
>>> flat.data.size == sum(p.size for p in model.parameters())
True
"""
from __future__ import annotations

import weakref

import numpy as np

__all__ = ["FlatParameters", "flatten_parameters"]

# id(parameter) -> (weakref to the parameter, FlatParameters, position).  Keyed by id, not by the
# tensor: Tensor.__eq__ compares elements, which a WeakKeyDictionary lookup would call.
_REGISTRY = {}


def _lookup(param):
    entry = _REGISTRY.get(id(param))
    if entry is None or entry[0]() is not param:
        return None
    return entry[1], entry[2]


def _register(param, flat, index):
    key = id(param)
    _REGISTRY[key] = (weakref.ref(param, lambda _ref, key=key: _forget(key, _ref)), flat, index)


def _forget(key, ref):
    entry = _REGISTRY.get(key)
    if entry is not None and entry[0] is ref:
        del _REGISTRY[key]


class FlatParameters:
    """Parameters packed into one contiguous buffer; made by :func:`flatten_parameters`.

    Attributes
    ----------
    data, grad : numpy.ndarray
        The 1-D flat parameter and gradient buffers.
    params : list of Tensor
        The packed parameters, in buffer order.
    offsets : numpy.ndarray
        ``int64`` boundaries: parameter ``i`` is ``data[offsets[i]:offsets[i+1]]``.
    """

    def __init__(self, params):
        from ..tensor import Tensor

        unique, seen = [], set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"flatten_parameters: expected Tensors (or a Module), got {type(p).__name__}")
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        if not unique:
            raise ValueError("flatten_parameters: got an empty parameter list")
        dtypes = {p.data.dtype for p in unique}
        if len(dtypes) != 1:
            raise TypeError(f"flatten_parameters: all parameters must share one dtype to live in one buffer, "
                            f"got {sorted(str(d) for d in dtypes)}; flatten each dtype separately")
        dtype = dtypes.pop()
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"flatten_parameters: expected float32 or float64 parameters, got {dtype}")
        sizes = [p.data.size for p in unique]
        self.offsets = np.zeros(len(unique) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.offsets[1:])
        total = int(self.offsets[-1])
        # weak references: the registry maps each parameter to this object, which must not keep it alive
        self._refs = [weakref.ref(p) for p in unique]
        self.data = np.empty(total, dtype=dtype)
        self.grad = np.zeros(total, dtype=dtype)
        self.data_views, self.grad_views = [], []
        for i, p in enumerate(unique):
            a, b = int(self.offsets[i]), int(self.offsets[i + 1])
            dv = self.data[a:b].reshape(p.data.shape)
            gv = self.grad[a:b].reshape(p.data.shape)
            dv[...] = p.data
            p.data = dv
            if p.grad is not None:
                gv[...] = p.grad
                p.grad = gv
            self.data_views.append(dv)
            self.grad_views.append(gv)
            _register(p, self, i)

    @property
    def params(self):
        """The packed parameters, in buffer order (None for a parameter that no longer exists)."""
        return [r() for r in self._refs]

    def __len__(self):
        return len(self._refs)

    def __repr__(self):
        return f"FlatParameters({len(self)} tensors, {self.data.size} elements, dtype={self.data.dtype})"


def flatten_parameters(params):
    """Pack parameters into one contiguous buffer so that one kernel call updates them all.

    Parameters
    ----------
    params : Module or iterable of Tensor
        A model (its ``parameters()`` are used) or the tensors themselves, all of one dtype.

    Returns
    -------
    FlatParameters
        The flat ``data`` and ``grad`` buffers; each ``param.data`` (and any
        existing ``param.grad``) is now a view into them.  Call it before
        training; any optimizer (made before or after) picks the buffer up.
    """
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    return FlatParameters(list(params))


class _Plan:
    """How one parameter group maps onto a flat buffer (cached by the optimizer)."""

    __slots__ = ("flat", "params", "n", "ok", "state_obj", "data", "grad", "offsets", "data_views",
                 "grad_views", "bounds", "shapes", "synced", "fstate", "states", "views")

    def __init__(self, flat, params, state_obj):
        self.flat, self.params, self.n, self.state_obj = flat, params, len(params), state_obj
        self.ok, self.synced, self.fstate, self.states, self.views = False, False, None, None, {}


def _build_plan(opt, group, entry):
    params = group["params"]
    flat, i0 = entry
    plan = _Plan(flat, params, opt.state)
    n = len(params)
    if i0 + n > len(flat):
        return plan
    for k, p in enumerate(params):
        if flat._refs[i0 + k]() is not p or p.data is not flat.data_views[i0 + k]:
            return plan
    start, stop = int(flat.offsets[i0]), int(flat.offsets[i0 + n])
    plan.data, plan.grad = flat.data[start:stop], flat.grad[start:stop]
    plan.offsets = flat.offsets[i0:i0 + n + 1] - start
    plan.data_views = flat.data_views[i0:i0 + n]
    plan.grad_views = flat.grad_views[i0:i0 + n]
    plan.bounds = [(int(plan.offsets[k]), int(plan.offsets[k + 1])) for k in range(n)]
    plan.shapes = [p.data.shape for p in params]
    plan.ok = True
    return plan


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    return type(a) is type(b) and a == b


def _distribute(plan, key, flat_array):
    views = [flat_array[a:b].reshape(s) for (a, b), s in zip(plan.bounds, plan.shapes)]
    for st, v in zip(plan.states, views):
        st[key] = v
    plan.views[key] = views


def _sync(opt, plan, group):
    """Pack the per-parameter states of a flat group into flat arrays; False if they differ."""
    state = opt.state
    states = []
    for p in plan.params:
        st = state[p]
        if not st:
            st.update(opt._init_state(p.data, group))
        states.append(st)
    first = states[0]
    keys = list(first)
    dtype = plan.data.dtype
    for st, shape in zip(states, plan.shapes):
        if st.keys() != first.keys():
            return False
        for k in keys:
            v, v0 = st[k], first[k]
            if isinstance(v, np.ndarray) or isinstance(v0, np.ndarray):
                if not (isinstance(v, np.ndarray) and isinstance(v0, np.ndarray)):
                    return False
                if v.shape != shape or v.dtype != dtype:
                    return False
            elif not _same(v, v0):
                return False
    plan.states = states
    fstate = {}
    for k in keys:
        if isinstance(first[k], np.ndarray):
            old = plan.fstate.get(k) if plan.fstate else None
            views = plan.views.get(k)
            if old is not None and views is not None and all(st[k] is v for st, v in zip(states, views)):
                fstate[k] = old  # still packed
                continue
            buf = np.empty(plan.data.size, dtype=dtype)
            for st, (a, b) in zip(states, plan.bounds):
                buf[a:b] = st[k].reshape(-1)
            _distribute(plan, k, buf)
            fstate[k] = buf
        else:
            fstate[k] = first[k]
    plan.fstate = fstate
    plan.synced = True
    return True


def zero_grad_flat(opt, index, group):
    """Zero the gradients of a flat group with one ``fill`` if they are all views of its buffer."""
    plan = opt._flat_plans.get(index)
    if plan is None or not plan.ok or plan.params is not group["params"] or plan.n != len(group["params"]):
        return False
    for p, gv in zip(group["params"], plan.grad_views):
        if p.grad is not gv:
            return False
    plan.grad.fill(0)
    return True


def step_flat(opt, index, group):
    """Update ``group`` with one ``_update_flat`` call if it is a flat, synced group; else return False."""
    params = group["params"]
    if not params:
        return False
    entry = _lookup(params[0])
    if entry is None:
        return False
    plan = opt._flat_plans.get(index)
    if (plan is None or plan.flat is not entry[0] or plan.params is not params or plan.n != len(params)
            or plan.state_obj is not opt.state):
        plan = _build_plan(opt, group, entry)
        opt._flat_plans[index] = plan
    if not plan.ok:
        return False
    grads, fresh = [], 0
    for p, dv, gv in zip(params, plan.data_views, plan.grad_views):
        if p.data is not dv:  # the parameter was re-assigned: it no longer lives in the buffer
            plan.ok = False
            return False
        g = p.grad
        if g is not gv:
            if g is None:
                return False
            if g.shape != dv.shape:
                raise RuntimeError(f"the gradient of a parameter has shape {g.shape} but the parameter has shape "
                                   f"{dv.shape}; a gradient must have its parameter's shape")
            fresh += 1
        grads.append(g)
    if fresh:  # new gradient arrays (after zero_grad()): copy them into the flat gradient, keep views
        if fresh == len(grads):
            np.concatenate(grads, axis=None, out=plan.grad)  # one C loop instead of one copy per tensor
        else:
            for g, gv in zip(grads, plan.grad_views):
                if g is not gv:
                    gv[...] = g
        for p, gv in zip(params, plan.grad_views):
            p.grad = gv
    if not plan.synced and not _sync(opt, plan, group):
        return False
    fstate = plan.fstate
    before = {k: v for k, v in fstate.items() if isinstance(v, np.ndarray)}
    opt._measured_update(group, plan.data, plan.grad, fstate, plan.offsets)
    for k, v in fstate.items():
        if isinstance(v, np.ndarray):
            if before.get(k) is not v:  # the update made a new state array (e.g. SGD's first momentum)
                _distribute(plan, k, v)
        else:  # scalars such as "step": every parameter's state shows the group's value
            for st in plan.states:
                st[k] = v
    return True
