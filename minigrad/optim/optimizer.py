r"""``Optimizer``: the base class of every optimizer in :mod:`minigrad.optim`.

An optimizer owns *parameter groups* (lists of parameters that share
hyper-parameters such as the learning rate) and a *state* per parameter (the
running averages of Adam, the momentum buffer of SGD, ...).  ``step()`` turns
each parameter's ``.grad`` into an update, exactly as ``torch.optim`` does.

The base class does all the bookkeeping; a subclass only says what its state
looks like and how one parameter is updated.

Subclassing contract (stable; NAdam, RAdam, ... are written against it)
-----------------------------------------------------------------------
``__init__``
    Validate the hyper-parameters with the ``check_*`` helpers (torch's
    messages; defined in :mod:`minigrad.optim.validation`, importable from
    here), build the ``defaults`` dict with torch's keyword names and call
    ``super().__init__(params, defaults)``.
``_init_state(self, param, group) -> dict``
    The state of one parameter before its first update; ``param`` is the
    parameter's ``numpy`` array.  Called lazily, on the first ``step()`` in
    which the parameter has a gradient (as torch).  The default returns
    ``{"step": 0.0}`` plus ``np.zeros_like(param)`` for every name in the class
    attribute ``_state_names``.  Keep ``"step"`` a Python float: torch keeps it
    in a float tensor and computes bias corrections with ``beta ** step`` in
    double precision, so a float gives bit-identical corrections.
``_update(self, group, param, grad, state)``
    One update of one parameter, in place.  ``param`` (written in place) and
    ``grad`` (read only, never modify it) are C-contiguous arrays of the same
    shape and dtype (float32 or float64); ``state`` is the dict made by
    ``_init_state`` (arrays of ``param``'s shape), updated in place; increment
    ``state["step"]`` here.  Typically: compute the scalar coefficients in
    Python, cast them to ``param.dtype``, and call one numba kernel on
    ``a.reshape(-1)`` views of every array.
``_supports_flat`` (class attribute, default ``True``)
    ``True`` if ``_update`` is *element-wise* given the scalars in ``state``.
    Then, for parameters packed by :func:`minigrad.optim.flatten_parameters`,
    the base class calls ``_update`` ONCE per group with 1-D views of the whole
    flat parameter, gradient and state buffers (``state`` is then a dict of
    flat arrays plus the shared ``"step"``).  Set it to ``False`` when the
    update needs per-tensor reductions (norms, factored shapes) -- or override
    ``_update_flat(group, param, grad, state, offsets)``, where ``offsets``
    (int64 array) delimits the tensors inside the flat arrays.
``_fuses_sums(self, group, state) -> bool`` (optional, default ``False``)
    Step statistics (:func:`minigrad.optim.measure_step`): while they are
    measured, ``self._sums`` is a float64 array of 3 (else ``None``).  Return
    ``True`` if ``_update`` (and ``_update_flat``) will add the step's sums
    :math:`\sum g^2, \sum (\Delta\theta)^2, \sum \theta_{t-1}^2` to it
    itself, from inside its kernel (Adam: :mod:`.kernels.step_sums`).
    Otherwise the base class keeps a copy of the parameter, calls ``_update``
    and computes the sums from the copy -- the same bits, one extra pass.
``_check_state(self, index, param, group, state)`` (optional)
    Validation of a loaded state entry; the default requires the keys of
    ``_init_state`` and arrays shaped like the parameter.

Everything else -- param groups, lazy state, skipping parameters without a
gradient, ``closure``, ``zero_grad``, ``state_dict``/``load_state_dict`` in
torch's layout (:mod:`minigrad.optim.state_io`), ``state_bytes`` and the
flat-buffer fast path (:mod:`minigrad.optim.flat`) -- lives here.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor
from . import flat as _flat
from .kernels.step_sums import step_sums_kernel
from .state_io import as_python, check_state, pack_state_dict, parse_state_dict
from .validation import (check_beta, check_betas, check_eps, check_lr, check_momentum, check_no_differentiable,
                         check_nonnegative, check_weight_decay, is_number)

# names the first version of this module defined here; subclasses import them from here
_is_number, _as_python = is_number, as_python

# the check_* helpers live in .validation and are re-exported here for subclasses
__all__ = [
    "Optimizer", "required", "check_lr", "check_eps", "check_betas", "check_beta",
    "check_weight_decay", "check_momentum", "check_nonnegative", "check_no_differentiable",
]


class _RequiredParameter:
    """Singleton marking a hyper-parameter that has no default (torch's ``optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64))


class Optimizer:
    r"""Base class for all optimizers (``torch.optim.Optimizer``).

    Parameters
    ----------
    params : iterable of Tensor, or of dict
        The parameters to optimize, or dicts ``{"params": [...], "lr": ..., ...}``
        defining parameter groups with their own options.
    defaults : dict
        Default values of the options, used by groups that do not set them.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> from minigrad.optim import SGD
    >>> w, b = Parameter(np.ones(3)), Parameter(np.zeros(1))
    >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    """

    _state_names: tuple = ()
    _supports_flat: bool = True
    _sums = None  # a float64 array of 3 while measure_step() measures a step (see the module docstring)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}; pass [tensor] or model.parameters()")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        if isinstance(params, dict):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a dict; wrap a single group in a list: [{'params': ..., 'lr': ...}]")
        self.state = defaultdict(dict)
        self.param_groups = []
        self._flat_plans = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a parameter group (a dict with ``"params"`` and optional options), as torch.

        Useful when fine-tuning: unfreeze a layer and give it its own learning rate.
        Nothing is changed if the group is invalid.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (a list of Tensors)")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            params = [p[1] for p in params]
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params (index {i}) is "
                                f"{type(p).__name__}")
            if p.data.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating-point Tensors, but parameter {i} has dtype "
                                f"{p.data.dtype}; convert it, e.g. Parameter(x.astype(np.float64))")
            if p.data.dtype not in _SUPPORTED:
                raise TypeError(f"minigrad optimizers support float32 and float64 parameters, but parameter {i} "
                                f"has dtype {p.data.dtype}")
            if not p.is_leaf and not getattr(p, "_retains_grad", False):
                raise ValueError("can't optimize a non-leaf Tensor (an intermediate result of a computation); "
                                 "optimize the leaf tensors it was computed from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters; "
                             "list each parameter once")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        group["params"] = params
        self.param_groups.append(group)

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: ``None`` (default), or zeros in place with ``set_to_none=False``.

        With ``set_to_none=True`` a parameter that gets no gradient in the next
        ``backward`` is skipped by ``step`` (torch's semantics).  With flat
        buffers (:func:`flatten_parameters`) ``set_to_none=False`` keeps the
        gradients as views of the flat gradient, the fastest combination.
        """
        for index, group in enumerate(self.param_groups):
            if not set_to_none and _flat.zero_grad_flat(self, index, group):
                continue
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad[...] = 0

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            if not (self._supports_flat and _flat.step_flat(self, index, group)):
                self._step_params(index, group)
        return loss

    def _step_params(self, index, group):
        """The general path: one ``_update`` call per parameter that has a gradient."""
        plan = self._flat_plans.get(index)
        if plan is not None:
            plan.synced = False
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            data = p.data
            if grad.shape != data.shape:
                raise RuntimeError(f"the gradient of a parameter has shape {grad.shape} but the parameter has shape "
                                   f"{data.shape}; a gradient must have its parameter's shape")
            if grad.dtype != data.dtype or not grad.flags.c_contiguous:
                grad = np.ascontiguousarray(grad, dtype=data.dtype)
            st = state[p]
            if not st:
                st.update(self._init_state(data, group))
            if data.flags.c_contiguous and data.flags.writeable:
                self._measured_update(group, data, grad, st)
            else:  # e.g. a transposed view: update a contiguous copy and write it back
                work = np.ascontiguousarray(data)
                self._measured_update(group, work, grad, st)
                data[...] = work

    def _measured_update(self, group, param, grad, state, offsets=None):
        """``_update`` (``_update_flat`` with ``offsets``), adding the step's sums when they are measured."""
        sums = self._sums
        unfused = sums is not None and not self._fuses_sums(group, state)
        if unfused:  # keep a copy; the update itself must not add the sums
            before = param.copy()
            self._sums = None
        try:
            if offsets is None:
                self._update(group, param, grad, state)
            else:
                self._update_flat(group, param, grad, state, offsets)
        finally:
            self._sums = sums
        if unfused:
            step_sums_kernel(param.reshape(-1), before.reshape(-1), grad.reshape(-1), sums)

    # ----------------------------------------------------- subclass interface
    def _init_state(self, param, group):
        """The state of one parameter before its first update (see the module docstring)."""
        st = {"step": 0.0}
        for name in self._state_names:
            st[name] = np.zeros_like(param)
        return st

    def _update(self, group, param, grad, state):
        """Update one parameter in place (see the module docstring); subclasses define it."""
        raise TypeError(f"{type(self).__name__} is the base Optimizer (or a subclass without an _update method) "
                        "and cannot take a step; use an algorithm such as minigrad.optim.SGD or Adam")

    def _update_flat(self, group, param, grad, state, offsets):
        """Update a whole flat buffer; ``offsets`` delimits the tensors in it. Element-wise by default."""
        self._update(group, param, grad, state)

    def _fuses_sums(self, group, state):
        """True if ``_update`` adds the step's sums to ``self._sums`` itself (see the module docstring)."""
        return False

    def _check_state(self, index, param, group, state):
        """Validate the loaded state of parameter ``index`` (raise ValueError, mutate nothing)."""
        check_state(self, index, param, group, state)

    # ------------------------------------------------------------ state dicts
    def state_dict(self):
        """The optimizer's state in torch's layout (arrays are copies).

        ``{"state": {index: {name: value}}, "param_groups": [{option: value, ..., "params": [index, ...]}]}``;
        parameters are numbered in the order of the groups.  Unlike torch, the
        arrays are copies, so a saved state does not change when training goes on.
        """
        return pack_state_dict(self)

    def load_state_dict(self, state_dict):
        """Load a state made by :meth:`state_dict` (also after ``numpy.savez``/``load`` of its values).

        Everything is validated first: a different number of groups or
        parameters, or mis-shaped state, raises ``ValueError`` and leaves the
        optimizer unchanged.  Arrays are copied and cast to their parameter's dtype.
        """
        groups, state = parse_state_dict(self, state_dict)
        self.param_groups[:] = groups
        self.state = state
        self._flat_plans.clear()

    # ------------------------------------------------------------------ other
    def state_bytes(self):
        """Bytes held by the optimizer's state arrays (0 for plain SGD, 2x the parameters for Adam)."""
        total = 0
        for st in self.state.values():
            for v in st.values():
                if isinstance(v, np.ndarray):
                    total += v.nbytes
        return total

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._flat_plans = {}

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
