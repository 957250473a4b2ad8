r"""Adam: adaptive moment estimation."""
from __future__ import annotations

import numpy as np

from .kernels.adam_kernel import adam_step
from .optimizer import (Optimizer, check_betas, check_eps, check_lr, check_no_differentiable,
                        check_weight_decay)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam (``torch.optim.Adam``): momentum plus a per-coordinate step size.

    Adam keeps two running averages per parameter: of the gradient (the
    direction, like momentum) and of the squared gradient (how large the
    gradient usually is).  Dividing one by the square root of the other gives
    every coordinate a step of roughly ``lr``, whatever the scale of its
    gradient; the bias corrections undo the averages' start at zero.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` for ``weight_decay``
    :math:`\lambda` (an L2 penalty; see :class:`AdamW` for the decoupled form),
    and :math:`\max(v^{\max}_{t-1}, v_t)` in place of :math:`v_t` with ``amsgrad``.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the two averages, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator (after the bias correction), as torch.
    weight_decay : float, default 0
    amsgrad : bool, default False
        Use the running maximum of :math:`v_t` (Reddi et al., 2018).
    maximize : bool, default False
        Ascend the objective instead.
    foreach, fused : accepted for torch compatibility, ignored (one fused numba kernel is always used).
    decoupled_weight_decay : bool, default False
        True gives :class:`AdamW`.

    Reference: Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = np.array([0.5, -3.0])
    >>> opt.step()
    >>> w.data      # the first step moves every coordinate by about lr
    array([ 0.9, -1.9])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        check_no_differentiable(differentiable, fused, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        amsgrad = group["amsgrad"]
        if amsgrad and "max_exp_avg_sq" not in state:  # amsgrad switched on after the first step
            state["max_exp_avg_sq"] = np.zeros_like(param)
        beta1, beta2 = group["betas"]
        adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
                  lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], step=step, amsgrad=amsgrad,
                  maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"],
                  sums=self._sums)

    def _fuses_sums(self, group, state):
        # the fused kernel with statistics has no amsgrad branch; a subclass's own _update is not fused
        return not group["amsgrad"] and type(self)._update is Adam._update
