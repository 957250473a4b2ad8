r"""RMSprop: divide the gradient by a running average of its magnitude."""
from __future__ import annotations

import numpy as np

from .kernels.rmsprop_kernel import rmsprop_step
from .optimizer import (Optimizer, check_eps, check_lr, check_momentum, check_no_differentiable,
                        check_nonnegative, check_weight_decay)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (``torch.optim.RMSprop``): Adagrad with a forgetting average.

    The squared gradients are averaged with decay :math:`\alpha`, so the step
    size adapts to the *recent* gradient scale instead of shrinking for ever.
    ``centered`` subtracts the squared mean gradient (an estimate of the
    variance instead of the second moment); ``momentum`` adds a velocity.

    .. math::
        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t \ \text{(centered)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)} \ \text{ or } \ \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t/d_t,\ \theta_t = \theta_{t-1} - \gamma b_t \ (\mu>0);
        \quad\text{else}\ \theta_t = \theta_{t-1} - \gamma\, g_t / d_t

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-2
    alpha : float, default 0.99
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    maximize : bool, default False
    foreach : accepted for torch compatibility, ignored.

    Reference: Hinton, *Neural Networks for Machine Learning*, lecture 6e (2012);
    centered form: Graves, *Generating Sequences With Recurrent Neural Networks*, 2013.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = RMSprop([w], lr=0.01)
    >>> w.grad = np.array([2.0])
    >>> opt.step()
    >>> np.round(w.data, 4)      # first step: lr * g / sqrt(0.01 g^2) = 10 * lr
    array([0.9])
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        check_eps(eps)
        check_momentum(momentum)
        check_weight_decay(weight_decay)
        check_nonnegative(alpha, "alpha value", "alpha")
        check_no_differentiable(differentiable, None, foreach, capturable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {"step": 0.0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(self, group, param, grad, state):
        state["step"] += 1.0
        momentum, centered = group["momentum"], group["centered"]
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param)
        rmsprop_step(param, grad, state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer"),
                     lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                     momentum=momentum, centered=centered, maximize=group["maximize"])
