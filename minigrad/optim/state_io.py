"""``state_dict`` / ``load_state_dict`` of the optimizers, in torch's layout.

``{"state": {index: {name: value}}, "param_groups": [{option: value, ..., "params": [index, ...]}]}``:
parameters are numbered across the groups in order.  Loading validates
everything before anything changes, so a rejected dict leaves the optimizer
as it was (the ``Optimizer`` methods commit the result of :func:`parse_state_dict`).
"""
from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np

from .validation import is_number

__all__ = ["pack_state_dict", "parse_state_dict", "check_state", "as_python"]


def as_python(value):
    """Turn numpy scalars / 0-d arrays / small arrays (from numpy.load) back into Python values."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return as_python(value.item()) if value.ndim == 0 else [as_python(v) for v in value]
        if value.ndim == 0:
            return value.item()
        return tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def pack_state_dict(opt):
    """The optimizer's state in torch's layout (arrays are copies).

    ``{"state": {index: {name: value}}, "param_groups": [{option: value, ..., "params": [index, ...]}]}``;
    parameters are numbered in the order of the groups.  Unlike torch, the
    arrays are copies, so a saved state does not change when training goes on.
    """
    index_of, groups, start = {}, [], 0
    for group in opt.param_groups:
        packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
        packed["params"] = list(range(start, start + len(group["params"])))
        for i, p in enumerate(group["params"], start):
            index_of[id(p)] = i
        start += len(group["params"])
        groups.append(packed)
    state = {}
    for p, st in opt.state.items():
        if id(p) in index_of and st:
            state[index_of[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                                      for k, v in st.items()}
    return {"state": state, "param_groups": groups}


def parse_state_dict(opt, state_dict):
    """Validate ``state_dict`` against ``opt`` and build its new ``(param_groups, state)``; mutates nothing.

    Accepts what ``numpy.load`` gives back for values saved with ``numpy.savez``
    (0-d arrays for numbers, arrays for ``betas``, string keys).  Arrays are
    copied and cast to their parameter's dtype; ``step`` becomes a float.
    """
    if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
        raise ValueError("load_state_dict expects a dict with keys 'state' and 'param_groups' "
                         "(as returned by optimizer.state_dict())")
    saved_groups = list(state_dict["param_groups"])
    if len(saved_groups) != len(opt.param_groups):
        raise ValueError(f"loaded state dict has a different number of parameter groups "
                         f"({len(saved_groups)}) than the optimizer ({len(opt.param_groups)})")
    params = []
    for gi, (g, sg) in enumerate(zip(opt.param_groups, saved_groups)):
        if not isinstance(sg, dict) or "params" not in sg:
            raise ValueError(f"loaded state dict: parameter group {gi} must be a dict with a 'params' list")
        if len(g["params"]) != len(list(sg["params"])):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             f"optimizer's group (group {gi}: {len(list(sg['params']))} saved parameters, "
                             f"{len(g['params'])} in the optimizer)")
    id_map, new_groups = {}, []
    for g, sg in zip(opt.param_groups, saved_groups):
        for saved_index, p in zip(sg["params"], g["params"]):
            id_map[int(as_python(saved_index))] = (p, g)
            params.append(p)
    for g, sg in zip(opt.param_groups, saved_groups):
        ng = {k: v for k, v in g.items()}
        for k, v in sg.items():
            if k != "params":
                ng[k] = as_python(v)
        new_groups.append(ng)
    group_of = {id(g): ng for g, ng in zip(opt.param_groups, new_groups)}
    new_state = defaultdict(dict)
    for key, st in dict(state_dict["state"]).items():
        try:
            index = int(as_python(key))
        except (TypeError, ValueError):
            raise ValueError(f"loaded state dict: state key {key!r} is not a parameter index") from None
        if index not in id_map:
            raise ValueError(f"loaded state dict has state for parameter index {index}, but the optimizer's "
                             f"groups list indices {sorted(id_map)}")
        if not isinstance(st, dict):
            raise ValueError(f"loaded state dict: the state of parameter {index} must be a dict, "
                             f"got {type(st).__name__}")
        p, g = id_map[index]
        ng = group_of[id(g)]
        opt._check_state(index, p, ng, st)
        loaded = {}
        for k, v in st.items():
            if k == "step":
                loaded[k] = float(as_python(v))
            elif isinstance(v, np.ndarray) and (v.ndim > 0 or v.dtype.kind == "f"):
                # a 0-d array is a scalar state (e.g. a step), except for a 0-d parameter's arrays
                keep = v.ndim > 0 or p.data.ndim == 0
                loaded[k] = np.array(v, dtype=p.data.dtype, copy=True) if keep else float(v)
            else:
                loaded[k] = copy.deepcopy(as_python(v))
        new_state[p] = loaded
    for g, ng in zip(opt.param_groups, new_groups):
        ng["params"] = g["params"]
    return new_groups, new_state


def check_state(opt, index, param, group, state):
    """The default ``Optimizer._check_state``: the keys of ``_init_state``, arrays of the parameter's shape."""
    expected = opt._init_state(param.data, group)
    missing = [k for k in expected if k not in state]
    if missing:
        raise ValueError(f"loaded state dict: the state of parameter {index} lacks {missing} "
                         f"(a {type(opt).__name__} state has keys {sorted(expected)})")
    for key, value in state.items():
        ref = expected.get(key)
        if isinstance(ref, np.ndarray) or (isinstance(value, np.ndarray) and value.ndim > 0):
            arr = np.asarray(value)
            want = ref.shape if isinstance(ref, np.ndarray) else param.data.shape
            if arr.shape != want:
                raise ValueError(f"loaded state dict: state {key!r} of parameter {index} has shape {arr.shape}, "
                                 f"expected {want} (the parameter's shape)")
            if arr.dtype.kind not in "fiu":
                raise ValueError(f"loaded state dict: state {key!r} of parameter {index} has dtype {arr.dtype}, "
                                 "expected a floating array")
    if "step" in expected:
        step = as_python(state["step"])
        if not is_number(step) or step < 0:
            raise ValueError(f"loaded state dict: 'step' of parameter {index} is {state['step']!r}, "
                             "expected a non-negative number")

# ------------------------------------------------------------ state dicts
