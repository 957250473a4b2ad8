r"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

import numpy as np

from .kernels.nadam_kernel import nadam_momentum, nadam_step
from .optimizer import (Optimizer, _as_python, _is_number, check_betas, check_eps, check_lr,
                        check_no_differentiable, check_nonnegative, check_weight_decay)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (``torch.optim.NAdam``): Adam that looks one momentum step ahead.

    Nesterov's trick is to take the gradient step from where momentum is about
    to carry you, not from where you are.  Dozat folds it into Adam by using,
    in the update, the *next* momentum :math:`\mu_{t+1} m_t` plus the share
    :math:`(1-\mu_t) g_t` of the current gradient.  The momentum coefficient
    :math:`\mu_t` itself warms up slowly from :math:`\beta_1/2` to
    :math:`\beta_1` (``momentum_decay`` :math:`\psi` sets how slowly).

    .. math::
        \begin{aligned}
        &\textbf{for } t = 1, 2, \ldots: \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \quad (\text{or } -\nabla_\theta f_t
            \text{ if maximize}) \\
        &\quad \textbf{if } \lambda \ne 0:\ \textbf{if } \textit{decoupled\_weight\_decay}:\
            \theta_{t-1} \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1}
            \ \textbf{else}\ g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        &\quad \mu_t \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \qquad
               \mu_{t+1} \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{(t+1)\psi}\big) \\
        &\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
               v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        &\quad \widehat{m}_t \leftarrow \frac{\mu_{t+1} m_t}{1-\prod_{i=1}^{t+1}\mu_i}
               + \frac{(1-\mu_t)\, g_t}{1-\prod_{i=1}^{t}\mu_i}, \qquad
               \widehat{v}_t \leftarrow \frac{v_t}{1-\beta_2^t} \\
        &\quad \theta_t \leftarrow \theta_{t-1} - \gamma\,\frac{\widehat{m}_t}{\sqrt{\widehat{v}_t}+\epsilon}
        \end{aligned}

    As torch, the product :math:`\prod_{i\le t}\mu_i` is kept per parameter in
    ``state["mu_product"]`` (a Python float here; torch keeps it in a tensor of
    its default dtype, float32 unless ``torch.set_default_dtype(torch.float64)``).

    On a toy problem ``lr=0.02`` works: a parabola reaches 1e-8 and Rosenbrock
    (from :math:`(-1.5, 2)`) a loss below 1e-3 in 2000 steps.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
        Added to :math:`\sqrt{\widehat v_t}`.
    weight_decay : float, default 0
    momentum_decay : float, default 4e-3
        :math:`\psi` in the momentum schedule.
    decoupled_weight_decay : bool, default False
        Shrink the weights directly as AdamW does ("NAdamW") instead of adding
        :math:`\lambda\theta` to the gradient.
    maximize : bool, default False
    foreach : accepted for torch compatibility, ignored.

    Reference: T. Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> opt = NAdam([w], lr=0.1)
    >>> for _ in range(100):
    ...     w.grad = 2 * w.data          # gradient of sum(w**2)
    ...     opt.step()
    >>> bool(np.abs(w.data).max() < 0.05)
    True
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        check_nonnegative(momentum_decay, "momentum_decay value", "momentum_decay")
        check_no_differentiable(differentiable, None, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0.0, "mu_product": 1.0, "exp_avg": np.zeros_like(param),
                "exp_avg_sq": np.zeros_like(param)}

    def _check_state(self, index, param, group, state):
        super()._check_state(index, param, group, state)
        mu_product = _as_python(state["mu_product"])
        if not _is_number(mu_product):
            raise ValueError(f"loaded state dict: 'mu_product' of parameter {index} is {state['mu_product']!r}, "
                             "expected a number (the product of the momentum coefficients so far)")

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        beta1, beta2 = group["betas"]
        state["mu_product"] = mu_product = (
            float(state["mu_product"]) * nadam_momentum(beta1, group["momentum_decay"], step))
        nadam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], lr=group["lr"], beta1=beta1, beta2=beta2,
                   eps=group["eps"], weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                   step=step, mu_product=mu_product, maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"])
