r"""Adadelta: a step size in the units of the parameters, from two running averages."""
from __future__ import annotations

import numpy as np

from .kernels.adadelta_kernel import adadelta_step
from .optimizer import Optimizer, check_eps, check_lr, check_no_differentiable, check_weight_decay

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (``torch.optim.Adadelta``): RMSprop whose learning rate is the RMS of past updates.

    Zeiler noticed that in RMSprop the update :math:`g/\sqrt{v}` has no units,
    while a parameter has units.  Multiplying by the root-mean-square of the
    previous *updates* gives the step the parameter's units, and (with
    ``lr=1``) removes the learning rate altogether.

    .. math::
        v_t &= \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        \Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1-\rho)\Delta_t^2, \qquad \theta_t = \theta_{t-1} - \gamma\Delta_t

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1.0
    rho : float, default 0.9
        Decay of both averages, in [0, 1].
    eps : float, default 1e-6
    weight_decay : float, default 0
    maximize : bool, default False
    foreach : accepted for torch compatibility, ignored.

    Reference: Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = Adadelta([w])
    >>> w.grad = np.array([1.0])
    >>> opt.step()
    >>> np.round(w.data, 5)      # the first steps are tiny: sqrt(eps) / sqrt(0.1)
    array([0.99684])
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating)) or not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (expected 0 <= rho <= 1)")
        check_eps(eps)
        check_weight_decay(weight_decay)
        check_no_differentiable(differentiable, None, foreach, capturable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0.0, "square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}

    def _update(self, group, param, grad, state):
        state["step"] += 1.0
        adadelta_step(param, grad, state["square_avg"], state["acc_delta"], lr=group["lr"], rho=group["rho"],
                      eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])
