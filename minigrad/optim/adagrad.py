r"""Adagrad: per-coordinate step sizes from the sum of all squared gradients."""
from __future__ import annotations

import numpy as np

from .kernels.adagrad_kernel import adagrad_step
from .optimizer import Optimizer, check_eps, check_lr, check_no_differentiable, check_nonnegative, check_weight_decay

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (``torch.optim.Adagrad``): divide each coordinate's step by its gradient history.

    Coordinates that have seen large gradients get small steps, rarely
    updated ones keep large steps -- useful for sparse features.  Because the
    sum only grows, the steps shrink for ever (RMSprop and Adam fix that with
    a running average instead of a sum).

    .. math::
        \tilde\gamma_t = \frac{\gamma}{1 + (t-1)\eta}, \qquad s_t = s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \tilde\gamma_t\,\frac{g_t}{\sqrt{s_t} + \epsilon}

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-2
    lr_decay : float, default 0
        :math:`\eta` above.
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
        Starting value of :math:`s`.
    eps : float, default 1e-10
    maximize : bool, default False
    foreach, fused : accepted for torch compatibility, ignored.

    As in torch, the state (``step`` and ``sum``) is created when the optimizer is.

    Reference: Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization*, JMLR 2011.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0, 1.0]))
    >>> opt = Adagrad([w], lr=0.5)
    >>> w.grad = np.array([4.0, 0.01])
    >>> opt.step()
    >>> np.round(w.data, 6)      # both coordinates move by about lr
    array([0.5, 0.5])
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonnegative(lr_decay, "lr_decay value", "lr_decay")
        check_weight_decay(weight_decay)
        check_nonnegative(initial_accumulator_value, "initial_accumulator_value value", "initial_accumulator_value")
        check_eps(eps)
        check_no_differentiable(differentiable, fused, foreach)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # torch creates Adagrad's state eagerly
            for p in group["params"]:
                self.state[p].update(self._init_state(p.data, group))

    def _init_state(self, param, group):
        return {"step": 0.0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        adagrad_step(param, grad, state["sum"], lr=group["lr"], lr_decay=group["lr_decay"],
                     weight_decay=group["weight_decay"], eps=group["eps"], step=step, maximize=group["maximize"])
