r"""LAMB: Adam with a layer-wise trust ratio, for large batches."""
from __future__ import annotations

import numpy as np

from .kernels.lamb_kernel import lamb_step
from .optimizer import Optimizer, _is_number, check_betas, check_eps, check_lr, check_weight_decay

__all__ = ["LAMB"]


class LAMB(Optimizer):
    r"""LAMB (Layer-wise Adaptive Moments for Batch training): LARS's trust ratio on top of AdamW.

    Adam's direction :math:`r_t` has entries of size about 1, so the *relative*
    change :math:`\gamma\|r_t\|/\|w\|` it makes differs wildly between a large
    weight matrix and a small bias.  LAMB rescales the direction of each tensor
    (weight decay included) so that its step is :math:`\gamma\,\phi(\|w\|)`: every
    tensor moves by a fraction ``lr`` of its own norm.  It let You et al. train
    BERT with batches of 32k.

    .. math::
        \begin{aligned}
        &\textbf{for } t = 1, 2, \ldots, \textbf{ for each tensor } w: \\
        &\quad g_t \leftarrow \nabla_w f_t(w_{t-1}) \quad (\text{or } -\nabla_w f_t \text{ if maximize}) \\
        &\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
               v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        &\quad \widehat{m}_t \leftarrow m_t/(1-\beta_1^t), \qquad \widehat{v}_t \leftarrow v_t/(1-\beta_2^t) \\
        &\quad u_t \leftarrow \frac{\widehat{m}_t}{\sqrt{\widehat{v}_t} + \epsilon} + \lambda w_{t-1} \\
        &\quad w_t \leftarrow w_{t-1} - \gamma\,\frac{\phi(\|w_{t-1}\|)}{\|u_t\|}\, u_t
               \qquad \Big(\text{ratio } 1 \text{ if } \|w_{t-1}\| = 0 \text{ or } \|u_t\| = 0\Big)
        \end{aligned}

    with :math:`\phi(z) = z`, or :math:`\min(z, \text{clamp\_value})` when ``clamp_value`` is given.

    There is no ``torch.optim`` counterpart.  Conventions chosen here (Algorithm 2
    of the paper): bias-corrected moments, :math:`\epsilon` added to
    :math:`\sqrt{\widehat v_t}`, the weight decay decoupled (added to the
    direction, not to the gradient, so it is also scaled by the ratio), and a
    ratio of 1 when either norm is zero (a zero-initialised bias, or a tensor
    whose direction vanishes), as in NVIDIA's and timm's implementations.
    ``exclude_1d=True`` gives tensors with fewer than two dimensions (biases,
    LayerNorm scales) neither weight decay nor the trust ratio, as BERT's
    recipe does.

    Each step needs :math:`\|u_t\|` before updating any element, so a tensor is
    read twice: one kernel updates the moments and measures the norms, one
    applies the update (see :mod:`minigrad.optim.kernels.lamb_kernel`).

    The step of a tensor is ``lr`` times its norm, so the default ``lr=1e-3``
    moves weights by 0.1 % per step, and with a constant ``lr`` the loss
    plateaus at the scale of that step.  On a toy problem ``lr=0.01`` brings a
    parabola (minimum at :math:`(1, -2)`) below 1e-3 in 3000 steps; Rosenbrock
    (from :math:`(-1.5, 2)`) reaches about 2e-2, slowly, because its path passes
    near the origin where :math:`\|w\|`, hence the step, is tiny.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-6
    weight_decay : float, default 0
        :math:`\lambda` (decoupled).
    clamp_value : float or None, default None
        Upper bound of :math:`\phi(\|w\|)` (``None``: no bound).
    exclude_1d : bool, default False
        Ratio 1 and no weight decay for tensors with ``ndim < 2``.
    maximize : bool, default False

    Reference: Y. You et al., *Large Batch Optimization for Deep Learning:
    Training BERT in 76 minutes*, ICLR 2020 (arXiv:1904.00962).

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([3.0, 4.0]))            # ||w|| = 5
    >>> opt = LAMB([w], lr=0.1)
    >>> w.grad = np.array([1e-3, 1e3])                 # wildly different scales
    >>> opt.step()
    >>> round(float(np.linalg.norm(w.data - [3.0, 4.0])), 12)   # the step is lr * ||w|| = 0.5
    0.5
    """

    _supports_flat = False  # the update of a tensor depends on its own norms

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0, clamp_value=None,
                 exclude_1d=False, *, maximize=False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        if clamp_value is not None:
            if not _is_number(clamp_value):
                raise TypeError(f"Invalid clamp_value: {clamp_value!r} (expected None or a real number)")
            if not clamp_value > 0:
                raise ValueError(f"Invalid clamp_value: {clamp_value} (expected None or clamp_value > 0)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, clamp_value=clamp_value,
                        exclude_1d=exclude_1d, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        beta1, beta2 = group["betas"]
        adapt = not (group["exclude_1d"] and param.ndim < 2)
        lamb_step(param, grad, state["exp_avg"], state["exp_avg_sq"], lr=group["lr"], beta1=beta1, beta2=beta2,
                  eps=group["eps"], weight_decay=group["weight_decay"] if adapt else 0.0, step=step,
                  maximize=group["maximize"], clamp_value=group["clamp_value"], adapt=adapt)
