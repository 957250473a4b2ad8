r"""SGD: stochastic gradient descent, with momentum and Nesterov momentum."""
from __future__ import annotations

import numpy as np

from .kernels.sgd_kernel import sgd_step
from .optimizer import Optimizer, check_lr, check_momentum, check_no_differentiable, check_weight_decay

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (``torch.optim.SGD``), optionally with momentum.

    Plain SGD steps against the gradient.  Momentum keeps a running sum of past
    gradients, a *velocity*, so directions that agree from step to step build
    up speed while oscillating ones cancel.  Nesterov momentum evaluates the
    velocity one step ahead.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1}, \qquad
        b_t = \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1) \\
        \theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu b_t) \ \text{(nesterov)}, \quad\text{or}\quad
        \theta_t = \theta_{t-1} - \gamma\, b_t

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
        Scales the new gradient in the velocity by :math:`1-\tau` (not on the first step).
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Requires ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
    foreach, fused : accepted for torch compatibility, ignored.

    References: Polyak (1964) for momentum; Sutskever et al., *On the importance of
    initialization and momentum in deep learning*, ICML 2013, for this Nesterov form.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0])
    ...     opt.step()
    >>> w.data        # 1 - 0.1 * 1 - 0.1 * (0.9 * 1 + 1)
    array([0.71])
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_lr(lr)
        check_momentum(momentum)
        check_weight_decay(weight_decay)
        check_no_differentiable(differentiable, fused, foreach)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum}, "
                             f"dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        # torch keeps no state without momentum, and creates the buffer from the first gradient
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update(self, group, param, grad, state):
        buf, first = None, False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.empty_like(param)
                first = True
        sgd_step(param, grad, buf, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                 weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
                 first=first)
