r"""LARS: SGD with a layer-wise trust ratio, for large batches."""
from __future__ import annotations

import numpy as np

from .kernels.lars_kernel import lars_step
from .optimizer import Optimizer, check_lr, check_momentum, check_nonnegative, check_weight_decay

__all__ = ["LARS"]


class LARS(Optimizer):
    r"""LARS (Layer-wise Adaptive Rate Scaling): every tensor gets its own learning rate.

    With very large batches one global learning rate is either too small for
    some layers or unstable for others, because the ratio
    :math:`\|w\| / \|\nabla L(w)\|` differs by orders of magnitude between
    layers.  LARS rescales each tensor's step so that it moves by about
    :math:`\eta` (the trust coefficient) times its own norm, whatever the size
    of its gradient, and then runs ordinary SGD with momentum.

    .. math::
        \begin{aligned}
        &\textbf{for } t = 1, 2, \ldots, \textbf{ for each tensor } w: \\
        &\quad g_t \leftarrow \nabla_w f_t(w_{t-1}) \quad (\text{or } -\nabla_w f_t \text{ if maximize}) \\
        &\quad \lambda_t \leftarrow \eta\,\frac{\|w_{t-1}\|}{\|g_t\| + \beta\|w_{t-1}\| + \epsilon}
              \quad (1 \text{ if } \|w_{t-1}\| = 0 \text{ or } \|g_t\| = 0) \\
        &\quad d_t \leftarrow \lambda_t\,(g_t + \beta w_{t-1}) \\
        &\quad b_t \leftarrow \mu b_{t-1} + (1-\tau) d_t \quad (b_1 = d_1), \qquad
               d_t \leftarrow d_t + \mu b_t \ (\text{nesterov}) \ \text{ or } \ d_t \leftarrow b_t \\
        &\quad w_t \leftarrow w_{t-1} - \gamma\, d_t
        \end{aligned}

    There is no ``torch.optim`` counterpart.  Conventions chosen here:

    * the trust ratio is the paper's (Algorithm 1), with the weight decay
      :math:`\beta` in the denominator as :math:`\beta\|w\|`, plus ``eps`` as in
      NVIDIA's LARC and timm; it is 1 when :math:`\|w\| = 0` (a freshly zeroed
      bias) or :math:`\|g\| = 0`, as in timm and Barlow Twins' LARS;
    * the momentum part is exactly ``torch.optim.SGD`` (buffer starts as the
      first direction, ``dampening``, ``nesterov``) with the learning rate
      applied outside the buffer.  The paper writes
      :math:`v \leftarrow \mu v + \gamma\lambda(g+\beta w)`, :math:`w \leftarrow w - v`:
      identical for a constant :math:`\gamma`, and the torch convention under a
      learning-rate schedule.  With a ratio of 1 and no weight decay LARS *is*
      ``SGD``;
    * ``exclude_1d=True`` gives tensors with fewer than two dimensions
      (biases, normalisation scales) neither weight decay nor the trust ratio,
      as SimCLR, BYOL and Barlow Twins do.

    Each step needs the norms of a whole tensor before updating any of its
    elements, so a tensor is read twice: one kernel for the two norms, one for
    the update (see :mod:`minigrad.optim.kernels.lars_kernel`).

    Since the step is :math:`\gamma\eta\|w\|` in size, ``lr * trust_coefficient``
    is the fraction of its norm a tensor moves per step (0.1 % with the
    defaults; in the paper :math:`\gamma` is large and decays).  With a constant
    ``lr`` the step never shrinks below that, so the loss plateaus at the scale
    of the step.  The defaults work on toy problems: in 3000 steps a parabola
    (minimum at :math:`(1, -2)`) gets below 1e-4 and Rosenbrock (from
    :math:`(-1.5, 2)`) below 2e-3; a larger ``lr * trust_coefficient`` gets there
    sooner but stalls higher.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1.0
        :math:`\gamma`, the global learning rate.
    momentum : float, default 0.9
    dampening : float, default 0
    weight_decay : float, default 0
        :math:`\beta`.
    nesterov : bool, default False
    trust_coefficient : float, default 1e-3
        :math:`\eta`.
    eps : float, default 1e-8
        Added to the trust ratio's denominator.
    exclude_1d : bool, default False
        Plain SGD (no trust ratio, no weight decay) for tensors with ``ndim < 2``.
    maximize : bool, default False

    Reference: Y. You, I. Gitman & B. Ginsburg, *Large Batch Training of
    Convolutional Networks*, arXiv:1708.03888, 2017.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([3.0, 4.0]))          # ||w|| = 5
    >>> opt = LARS([w], lr=1.0, momentum=0.0, trust_coefficient=0.01)
    >>> w.grad = np.array([300.0, 400.0])            # ||g|| = 500: the ratio is 0.01 * 5 / 500
    >>> opt.step()
    >>> w.data                                       # moved by 1 % of its norm, whatever ||g||
    array([2.97, 3.96])
    """

    _supports_flat = False  # the update of a tensor depends on its own norms

    def __init__(self, params, lr=1.0, momentum=0.9, dampening=0, weight_decay=0, nesterov=False,
                 trust_coefficient=1e-3, eps=1e-8, exclude_1d=False, *, maximize=False):
        check_lr(lr)
        check_momentum(momentum)
        check_weight_decay(weight_decay)
        check_nonnegative(trust_coefficient, "trust_coefficient value", "trust_coefficient")
        check_nonnegative(eps, "epsilon value", "eps")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum}, "
                             f"dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, trust_coefficient=trust_coefficient, eps=eps, exclude_1d=exclude_1d,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        # as torch's SGD: no state without momentum, the buffer is made from the first direction
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update(self, group, param, grad, state):
        buf, first = None, False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.empty_like(param)
                first = True
        adapt = not (group["exclude_1d"] and param.ndim < 2)
        lars_step(param, grad, buf, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                  weight_decay=group["weight_decay"] if adapt else 0.0, nesterov=group["nesterov"],
                  maximize=group["maximize"], first=first, trust_coefficient=group["trust_coefficient"],
                  eps=group["eps"], adapt=adapt)
