r"""Cyclical schedules: ``CyclicLR`` (Smith 2017) and ``OneCycleLR`` (Smith & Topin 2018).

Both are *batch* schedules (call ``step()`` after every batch) and both can
cycle the momentum inversely to the learning rate: SGD's ``group["momentum"]``,
or ``betas[0]`` of Adam-like optimizers (whose ``defaults`` hold ``"betas"``).
A large learning rate is paired with a small momentum, so the effective step
size :math:`\eta/(1-\beta)` does not explode at the peak.
"""
from __future__ import annotations

import math
import numbers
import types
from collections.abc import Mapping
from functools import partial

from .base import LRScheduler, _check_last_epoch, _check_optimizer, _format_param, _is_real, _set_momentum, \
    _warn_get_lr_called_within_step

__all__ = ["CyclicLR", "OneCycleLR"]


def _momentum_kind(optimizer):
    """``True`` to cycle ``betas[0]``, ``False`` for ``momentum``; torch's error if neither exists."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in optimizer.defaults


class CyclicLR(LRScheduler):
    r"""Cycle the learning rate between ``base_lr`` and ``max_lr`` along a triangle (cyclical learning rates).

    With :math:`s = \text{step\_size\_up} + \text{step\_size\_down}` and :math:`r = \text{step\_size\_up} / s`,
    at batch :math:`t`

    .. math::
        c = \lfloor 1 + t/s \rfloor,\quad x = 1 + t/s - c,\quad
        h = \begin{cases} x / r & x \le r \\ (x-1)/(r-1) & x > r\end{cases},\qquad
        \eta_t = \eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\, h\, f,

    where the amplitude scale :math:`f` is ``1`` (``"triangular"``),
    :math:`2^{-(c-1)}` (``"triangular2"``: halved every cycle), :math:`\gamma^{t}`
    (``"exp_range"``), or ``scale_fn`` of the cycle :math:`c` or of :math:`t`
    (``scale_mode``).  With ``cycle_momentum`` the momentum moves the other way:
    :math:`m_t = m_{\max} - (m_{\max} - m_{\text{base}})\, h\, f`.

    Reference: L. N. Smith, *Cyclical Learning Rates for Training Neural
    Networks*, WACV 2017, https://arxiv.org/abs/1506.01186.

    Construction sets ``group["lr"]`` to ``base_lr`` (and the momentum to ``max_momentum``).

    Example
    -------
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)              # doctest: +SKIP
    >>> sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)  # doctest: +SKIP
    """

    _state_excluded = ("optimizer", "_scale_fn_ref", "_scale_fn_custom")
    _state_special = ("_scale_fn_custom",)
    _state_choices = {"scale_mode": ("cycle", "iterations")}

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_last_epoch(last_epoch)
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if not _is_real(step_size_up) or step_size_up <= 0:
            raise ValueError(f"Expected positive step_size_up, but got {step_size_up!r}")
        if step_size_down is not None and (not _is_real(step_size_down) or step_size_down < 0):
            raise ValueError(f"Expected non-negative step_size_down, but got {step_size_down!r}")
        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"scale_fn must be a function of one argument, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        if cycle_momentum:
            use_beta1 = _momentum_kind(optimizer)
            base_momentums = _format_param("base_momentum", optimizer, base_momentum)
            max_momentums = _format_param("max_momentum", optimizer, max_momentum)
        # validated: from here on the optimizer's groups are changed
        self.optimizer = optimizer
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = max_lrs
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            self.base_momentums = base_momentums
            self.max_momentums = max_momentums
            if last_epoch == -1:
                for m_momentum, b_momentum, group in zip(max_momentums, base_momentums, optimizer.param_groups,
                                                         strict=True):
                    _set_momentum(group, use_beta1, m_momentum)
                    group["max_momentum"] = m_momentum
                    group["base_momentum"] = b_momentum
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x):
        """The amplitude scale :math:`f` at ``x`` (the cycle number or the iteration, see ``scale_mode``)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x):
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x):
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma, x):
        return gamma ** x

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = []
        for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True):
            base_height = (max_lr - base_lr) * scale_factor
            lrs.append(base_lr + base_height * self.scale_fn(at))
        if self.cycle_momentum:
            momentums = []
            for base_momentum, max_momentum in zip(self.base_momentums, self.max_momentums, strict=True):
                base_height = (max_momentum - base_momentum) * scale_factor
                momentums.append(max_momentum - base_height * self.scale_fn(at))
            for group, momentum in zip(self.optimizer.param_groups, momentums, strict=True):
                _set_momentum(group, self.use_beta1, momentum)
        return lrs

    def state_dict(self):
        """The state; a custom ``scale_fn`` is saved only if it is a callable object (as its ``__dict__``)."""
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = (dict(fn.__dict__) if fn is not None and not isinstance(fn, types.FunctionType)
                                     else None)
        return state

    def _validated_state(self, state_dict):
        state = super()._validated_state(state_dict)
        fn = state_dict["_scale_fn_custom"]
        if fn is not None and not isinstance(fn, Mapping):
            raise ValueError(f"state dict entry '_scale_fn_custom' is {fn!r}, expected None or a dict")
        if fn is not None and self._scale_fn_custom is None:
            raise ValueError("state dict holds the state of a custom scale_fn, but this CyclicLR has none")
        if self._scale_fn_custom is None and state["mode"] not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"state dict entry 'mode' is {state['mode']!r}, expected 'triangular', "
                             "'triangular2' or 'exp_range'")
        return state, (None if fn is None else dict(fn))

    def _apply_state(self, state):
        own, fn = state
        super()._apply_state(own)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: warm up to ``max_lr``, then anneal far below the initial rate, in one cycle.

    With :math:`\eta_{\text{init}} = \eta_{\max}/\text{div\_factor}` and
    :math:`\eta_{\min} = \eta_{\text{init}}/\text{final\_div\_factor}`, the rate
    is annealed from :math:`\eta_{\text{init}}` to :math:`\eta_{\max}` during the
    first ``pct_start`` of ``total_steps`` and from :math:`\eta_{\max}` to
    :math:`\eta_{\min}` afterwards (``three_phase=True``: back to
    :math:`\eta_{\text{init}}` symmetrically, then down to :math:`\eta_{\min}`).
    Within a phase going from :math:`a` to :math:`b`, at fraction :math:`p` of it,

    .. math::
        \text{cos:}\ \ b + \frac{a-b}{2}\,(1 + \cos \pi p), \qquad \text{linear:}\ \ (b-a)\,p + a,

    and the momentum (or Adam's :math:`\beta_1`) follows the same curve inversely,
    between ``max_momentum`` and ``base_momentum``.  The default two-phase form
    follows fastai; the original has three phases.

    Reference: L. N. Smith and N. Topin, *Super-Convergence: Very Fast Training of
    Neural Networks Using Large Learning Rates*, 2018, https://arxiv.org/abs/1708.07120.

    Give either ``total_steps`` or both ``epochs`` and ``steps_per_epoch``.
    Stepping more than ``total_steps`` times raises ``ValueError``.

    Example
    -------
    >>> sched = OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))   # doctest: +SKIP
    """

    _state_choices = {"_anneal_func_type": ("cos", "linear")}
    _state_free_length = ("_schedule_phases",)

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_last_epoch(last_epoch)

        def positive_int(x):
            return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x > 0

        if total_steps is not None:
            if not positive_int(total_steps):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            if not positive_int(epochs):
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not positive_int(steps_per_epoch):
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or pct_start < 0 or pct_start > 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if cycle_momentum:
            use_beta1 = _momentum_kind(optimizer)
            max_momentums = _format_param("max_momentum", optimizer, max_momentum)
            base_momentums = _format_param("base_momentum", optimizer, base_momentum)
        # validated: from here on the optimizer's groups are changed
        self.optimizer = optimizer
        self.total_steps = total_steps
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                {"end_step": up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        self._anneal_func_type = anneal_strategy
        if last_epoch == -1:
            for idx, group in enumerate(optimizer.param_groups):
                group["initial_lr"] = max_lrs[idx] / div_factor
                group["max_lr"] = max_lrs[idx]
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            if last_epoch == -1:
                for m_momentum, b_momentum, group in zip(max_momentums, base_momentums, optimizer.param_groups,
                                                         strict=True):
                    _set_momentum(group, use_beta1, m_momentum)
                    group["max_momentum"] = m_momentum
                    group["base_momentum"] = b_momentum
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    @staticmethod
    def _annealing_cos(start, end, pct):
        """Cosine anneal from ``start`` to ``end`` as ``pct`` goes from 0.0 to 1.0."""
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start, end, pct):
        """Linear anneal from ``start`` to ``end`` as ``pct`` goes from 0.0 to 1.0."""
        return (end - start) * pct + start

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total steps is "
                             f"{self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    computed_lr = self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        computed_momentum = self._anneal_func(group[phase["start_momentum"]],
                                                              group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(computed_lr)
            if self.cycle_momentum:
                _set_momentum(group, self.use_beta1, computed_momentum)
        return lrs
