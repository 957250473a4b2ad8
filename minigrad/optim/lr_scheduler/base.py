r"""``LRScheduler``: the base class of the learning-rate schedulers (``torch.optim.lr_scheduler``).

A scheduler changes ``group["lr"]`` of an optimizer's parameter groups between
optimizer steps; the optimizer itself knows nothing about schedules, it simply
reads ``group["lr"]`` on every ``step()``.  The loop is always

.. code-block:: python

    for batch in data:
        loss = ...; loss.backward()
        optimizer.step()
        scheduler.step()      # after the optimizer, as in torch >= 1.1

Most schedulers come in two forms, as in torch.  The *chainable* form
(:meth:`LRScheduler.get_lr`) multiplies the **current** ``group["lr"]`` by a
ratio, so several schedulers can act on the same optimizer one after the other
(:class:`ChainedScheduler`).  The *closed form* (``_get_closed_form_lr``)
computes the rate from ``base_lrs`` and the epoch alone; it is used when
:class:`SequentialLR` restarts a scheduler at one of its milestones.  The two
forms agree up to rounding; minigrad follows torch's order of floating-point
operations, so the sequences are the same numbers as torch's.

Construction remembers each group's starting rate in ``group["initial_lr"]``
(if not already present) and takes a first step to epoch 0.
"""
from __future__ import annotations

import copy
import numbers
import warnings
import weakref
from collections import Counter
from collections.abc import Mapping
from functools import wraps

from ..optimizer import Optimizer

__all__ = ["LRScheduler"]

_ORDER_URL = "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"


# ------------------------------------------------------------------ helpers
def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass a minigrad.optim optimizer, "
                        "e.g. SGD(model.parameters(), lr=0.1)")


def _check_last_epoch(last_epoch):
    if not isinstance(last_epoch, numbers.Integral) or isinstance(last_epoch, bool):
        raise TypeError(f"last_epoch must be an int, got {last_epoch!r}")
    if last_epoch < -1:
        raise ValueError(f"last_epoch must be -1 (start a new schedule) or the index of the last epoch "
                         f"(>= 0) when resuming, got {last_epoch}")


def _format_param(name, optimizer, param):
    """One value per param group: a list/tuple must match the groups, a scalar is repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(param)} values, param_groups has {len(optimizer.param_groups)}.")
        values = list(param)
    else:
        values = [param] * len(optimizer.param_groups)
    for v in values:
        if not _is_real(v):
            raise TypeError(f"{name} must be a number or a list of numbers (one per param group), got {param!r}")
    return values


def _group_values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


def _set_momentum(group, use_beta1, value):
    """Cycle SGD's ``momentum`` or Adam's ``beta1`` (``betas[0]``), as torch does."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _patch_track_step_called(opt):
    """Wrap ``opt.step`` (on the instance) so the scheduler can tell whether it was called."""
    step = getattr(opt, "step", None)
    if step is None or hasattr(step, "_wrapped_by_lr_sched"):
        return
    func = getattr(step, "__func__", None)
    if func is None:
        return
    opt_ref = weakref.ref(opt)

    @wraps(func)
    def wrapper(*args, **kwargs):
        o = opt_ref()
        o._opt_called = True
        return func.__get__(o, o.__class__)(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    opt.step = wrapper


def _warn_get_lr_called_within_step(scheduler):
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                      UserWarning, stacklevel=3)


class _Flag:
    """Context manager setting a boolean attribute of the scheduler for the duration of a block."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __enter__(self):
        setattr(self.obj, self.name, True)

    def __exit__(self, *exc):
        setattr(self.obj, self.name, False)


def _check_like(where, new, cur, free_length=False):
    """Raise ValueError unless ``new`` has the kind (and list length) of the current value ``cur``."""
    def bad(expected):
        raise ValueError(f"{where} is {new!r}, expected {expected}")

    if isinstance(cur, bool):
        if not isinstance(new, bool):
            bad("True or False")
    elif _is_real(cur):
        if not _is_real(new):
            bad("a number")
    elif isinstance(cur, str):
        if not isinstance(new, str):
            bad("a string")
    elif isinstance(cur, Counter):
        if not isinstance(new, Mapping) or not all(isinstance(k, numbers.Integral) and isinstance(v, numbers.Integral)
                                                    for k, v in new.items()):
            bad("a Counter of milestone epochs")
    elif isinstance(cur, Mapping):
        if not isinstance(new, Mapping) or set(new) != set(cur):
            bad(f"a dict with keys {sorted(cur)}")
        for k in cur:
            _check_like(f"{where}[{k!r}]", new[k], cur[k])
    elif isinstance(cur, (list, tuple)):
        if not isinstance(new, (list, tuple)):
            bad(f"a list of {len(cur)} values")
        if not free_length and len(new) != len(cur):
            bad(f"a list of {len(cur)} values (one per param group)")
        for i, v in enumerate(new):
            if cur:
                _check_like(f"{where}[{i}]", v, cur[min(i, len(cur) - 1)])
    elif cur is None:
        if new is not None:
            bad("None")
    elif type(new) is not type(cur):
        bad(f"a {type(cur).__name__}")


# --------------------------------------------------------------- base class
class LRScheduler:
    r"""Base class of the learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``group["lr"]`` values are scheduled.
    last_epoch : int
        Index of the last epoch; ``-1`` (default) starts a new schedule.  Only
        pass another value when resuming, and then every group must already
        hold its ``"initial_lr"``.

    A subclass defines :meth:`get_lr` (the chainable form, reading the current
    ``group["lr"]``) and, where one exists, ``_get_closed_form_lr`` (the rate
    as a function of ``base_lrs`` and ``last_epoch``).

    Construction overwrites ``group["lr"]``: when restoring a checkpoint, build
    the scheduler *before* calling ``optimizer.load_state_dict``.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> from minigrad.optim import SGD
    >>> from minigrad.optim.lr_scheduler import StepLR
    >>> opt = SGD([Parameter(np.zeros(2))], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     opt.step()
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    _get_lr_called_within_step = False
    _is_initial = False
    _state_excluded = ("optimizer",)     # attributes that are not part of state_dict()
    _state_special = ()                  # keys a subclass validates and loads itself
    _state_choices = {}                  # key -> allowed string values
    _state_free_length = ()              # list keys whose length may differ (not per group)
    _state_optional = ()                 # keys that may be None or a number

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_last_epoch(last_epoch)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with "
                        "last_epoch >= 0.\nThis typically happens when:\n1. You're trying to resume training from "
                        "a checkpoint but haven't properly loaded the optimizer state\n2. You're using "
                        "last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _patch_track_step_called(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the first step (to epoch ``last_epoch + 1``)."""
        self._step_count = 0
        with _Flag(self, "_is_initial"):
            self.step()

    # ------------------------------------------------------------- stepping
    def get_lr(self):
        """The next learning rate of every group (chainable form); called by :meth:`step`."""
        raise TypeError(f"{type(self).__name__} does not define get_lr(): it is the base class (or a scheduler "
                        "that is not driven by the epoch); use a scheduler such as StepLR, and get_last_lr() "
                        "to read the current rates")

    def get_last_lr(self):
        """The learning rates set by the last :meth:`step`, one per param group (a copy)."""
        return list(self._last_lr)

    def step(self):
        """Advance the schedule by one epoch (or batch) and write the new ``group["lr"]`` values.

        Call it after ``optimizer.step()``.  torch's deprecated ``step(epoch)``
        argument is not supported (``CosineAnnealingWarmRestarts`` keeps its own
        ``step(epoch)`` for fractional epochs, as in torch).
        """
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                              "initialization. Please, make sure to call `optimizer.step()` before "
                              f"`lr_scheduler.step()`. See more details at {_ORDER_URL}", UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                              "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                              "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will result "
                              "in PyTorch skipping the first value of the learning rate schedule. "
                              f"See more details at {_ORDER_URL}", UserWarning, stacklevel=2)
        saved = (self.last_epoch, self._step_count)
        self._step_count += 1
        try:
            self._update_lr()
        except BaseException:
            self.last_epoch, self._step_count = saved     # a refused step changes nothing
            raise

    def _update_lr(self, epoch=None):
        """Move to ``last_epoch + 1`` (chainable form), or to ``epoch`` (closed form where one exists)."""
        with _Flag(self, "_get_lr_called_within_step"):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")

    # ---------------------------------------------------------- state dicts
    def state_dict(self):
        """The scheduler's state: every attribute except the optimizer (deep copies), torch's keys."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._state_excluded}

    def load_state_dict(self, state_dict):
        """Restore a state made by :meth:`state_dict` (also one saved by torch's same scheduler).

        The state is validated first; a dict with missing or unknown keys or
        values of the wrong kind raises and leaves the scheduler unchanged.
        Load the optimizer's state too: chainable schedulers continue from its
        ``group["lr"]``.
        """
        self._apply_state(self._validated_state(state_dict))

    def _validated_state(self, state_dict):
        """Check ``state_dict`` against this scheduler; return what :meth:`_apply_state` needs."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}.load_state_dict expects a dict as returned by {name}.state_dict(), "
                            f"got {type(state_dict).__name__}")
        current = self.state_dict()
        missing, unexpected = sorted(set(current) - set(state_dict)), sorted(set(state_dict) - set(current))
        if missing or unexpected:
            raise ValueError(f"state dict does not fit this {name}: missing keys {missing}, unexpected keys "
                             f"{unexpected}; load a state dict saved from a {name} built with the same arguments")
        for key, cur in current.items():
            if key in self._state_special:
                continue
            new = state_dict[key]
            if key in self._state_optional and (new is None or cur is None):
                if not (new is None or _is_real(new)):
                    raise ValueError(f"state dict entry {key!r} is {new!r}, expected None or a number")
                continue
            _check_like(f"state dict entry {key!r}", new, cur, free_length=key in self._state_free_length)
            if key in self._state_choices and new not in self._state_choices[key]:
                raise ValueError(f"state dict entry {key!r} is {new!r}, expected one of "
                                 f"{sorted(self._state_choices[key])}")
        last = state_dict.get("last_epoch", 0)
        if isinstance(last, bool) or not isinstance(last, numbers.Integral) or last < -1:
            raise ValueError(f"state dict entry 'last_epoch' is {last!r}, expected an int >= -1")
        return {k: copy.deepcopy(state_dict[k]) for k in current if k not in self._state_special}

    def _apply_state(self, state):
        self.__dict__.update(state)
