r"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from .kernels.adamax_kernel import adamax_step
from .optimizer import Optimizer, check_betas, check_eps, check_lr, check_no_differentiable, check_weight_decay

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (``torch.optim.Adamax``): Adam with an exponentially weighted infinity norm.

    Instead of the root of an average of squared gradients, Adamax divides by
    the largest recent gradient magnitude (each older one discounted by
    :math:`\beta_2`), which needs no bias correction.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t}

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    maximize : bool, default False
    foreach : accepted for torch compatibility, ignored.

    Reference: Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015, section 7.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = Adamax([w], lr=0.1)
    >>> w.grad = np.array([5.0])
    >>> opt.step()
    >>> np.round(w.data, 6)       # first step: lr * sign(g)
    array([0.9])
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        check_no_differentiable(differentiable, None, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        beta1, beta2 = group["betas"]
        adamax_step(param, grad, state["exp_avg"], state["exp_inf"], lr=group["lr"], beta1=beta1, beta2=beta2,
                    eps=group["eps"], weight_decay=group["weight_decay"], step=step, maximize=group["maximize"])
