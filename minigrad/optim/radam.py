r"""RAdam: Adam with a rectified (variance-corrected) adaptive step."""
from __future__ import annotations

import numpy as np

from .kernels.radam_kernel import radam_step
from .optimizer import (Optimizer, check_betas, check_eps, check_lr, check_no_differentiable,
                        check_weight_decay)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (``torch.optim.RAdam``): Adam that waits until its variance estimate can be trusted.

    In its first steps Adam divides by :math:`\sqrt{v_t}` averaged over only a
    handful of gradients, so the adaptive step size has a huge variance (this
    is why Adam usually needs a warm-up).  RAdam measures how many gradients
    the average effectively holds, :math:`\rho_t`; while :math:`\rho_t \le 5`
    it takes plain momentum-SGD steps, afterwards the adaptive step multiplied
    by a rectification factor :math:`r_t < 1` that tends to 1.

    .. math::
        \begin{aligned}
        &\rho_\infty \leftarrow 2/(1-\beta_2) - 1 \\
        &\textbf{for } t = 1, 2, \ldots: \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \quad (\text{or } -\nabla_\theta f_t
            \text{ if maximize}) \\
        &\quad \textbf{if } \lambda \ne 0:\ \textbf{if } \textit{decoupled\_weight\_decay}:\
            \theta_{t-1} \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1}
            \ \textbf{else}\ g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        &\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
               v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        &\quad \widehat{m}_t \leftarrow m_t/(1-\beta_1^t), \qquad
               \rho_t \leftarrow \rho_\infty - 2t\beta_2^t/(1-\beta_2^t) \\
        &\quad \textbf{if } \rho_t > 5: \\
        &\qquad l_t \leftarrow \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}, \qquad
                r_t \leftarrow \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \\
        &\qquad \theta_t \leftarrow \theta_{t-1} - \gamma\,\widehat{m}_t\, l_t\, r_t \\
        &\quad \textbf{else}:\ \theta_t \leftarrow \theta_{t-1} - \gamma\,\widehat{m}_t
        \end{aligned}

    With the default :math:`\beta_2 = 0.999` the first five steps are plain
    (bias-corrected) momentum steps of size ``lr`` times the gradient, so pick
    ``lr`` as you would for SGD with momentum at the start.  On a toy problem
    ``lr=0.01, betas=(0.9, 0.99)`` brings a parabola to 1e-8 and Rosenbrock
    (from :math:`(-1.5, 2)`) below 1e-3 in 2000 steps; from Rosenbrock's classic
    start :math:`(-1.2, 1)`, where the gradient is about 200, those first
    un-adapted steps diverge unless ``lr <= 1e-3``.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
        Added to :math:`\sqrt{v_t}` (before the bias correction, as torch).
    weight_decay : float, default 0
    decoupled_weight_decay : bool, default False
        Shrink the weights directly as AdamW does instead of adding :math:`\lambda\theta` to the gradient.
    maximize : bool, default False
    foreach : accepted for torch compatibility, ignored.

    Reference: L. Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> opt = RAdam([w], lr=0.1)
    >>> for _ in range(200):
    ...     w.grad = 2 * w.data          # gradient of sum(w**2)
    ...     opt.step()
    >>> bool(np.abs(w.data).max() < 0.05)
    True
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        check_no_differentiable(differentiable, None, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        beta1, beta2 = group["betas"]
        radam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], lr=group["lr"], beta1=beta1, beta2=beta2,
                   eps=group["eps"], weight_decay=group["weight_decay"], step=step, maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"])
