r"""Adafactor: adaptive step sizes with a factored (sublinear-memory) second moment."""
from __future__ import annotations

import numpy as np

from .kernels.adafactor_kernel import adafactor_step
from .optimizer import Optimizer, _is_number, check_no_differentiable

__all__ = ["Adafactor"]


def _check(ok, value, name, message):
    """torch's check ``ValueError(f"{message}: {value}")``, after a TypeError for non-numbers."""
    if not _is_number(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not ok(value):
        raise ValueError(f"{message}: {value}")


class Adafactor(Optimizer):
    r"""Adafactor (``torch.optim.Adafactor``): Adam's per-coordinate scaling for a fraction of the memory.

    Adam stores :math:`v`, one number per weight.  For a weight matrix of shape
    :math:`m \times n` Adafactor stores only the mean of :math:`g^2` over each row
    (:math:`R`, :math:`m` numbers) and over each column (:math:`C`, :math:`n`
    numbers) and rebuilds :math:`v_{ij} \approx R_i C_j / \operatorname{mean}(R)`:
    :math:`m+n` numbers instead of :math:`mn`.  There is no first moment at all.
    The step is *relative*: at most ``lr`` (and :math:`1/\sqrt t`) times the RMS
    of the parameter, and an update whose RMS exceeds ``d`` is scaled down.

    .. math::
        \begin{aligned}
        &\textbf{for } t = 1, 2, \ldots: \\
        &\quad G_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \quad (\text{or } -\nabla_\theta f_t
            \text{ if maximize}) \\
        &\quad \widehat{\beta}_{2_t} \leftarrow 1 - t^{\tau}, \qquad
               \rho_t \leftarrow \min(\gamma, 1/\sqrt{t}), \qquad
               \alpha_t \leftarrow \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1}))\,\rho_t \\
        &\quad \theta_t \leftarrow \theta_{t-1} - \gamma\lambda\theta_{t-1} \\
        &\quad \textbf{if } \dim(G_t) > 1: \\
        &\qquad R_t \leftarrow \widehat{\beta}_{2_t} R_{t-1} + (1-\widehat{\beta}_{2_t})
                \operatorname{mean}_j (G_t \odot G_t), \qquad
                C_t \leftarrow \widehat{\beta}_{2_t} C_{t-1} + (1-\widehat{\beta}_{2_t})
                \operatorname{mean}_i (G_t \odot G_t) \\
        &\qquad \widehat{V}_t \leftarrow \frac{R_t C_t}{\max(\operatorname{mean}_i R_t,\ \epsilon_1)} \\
        &\quad \textbf{else}:\ \widehat{V}_t \leftarrow \widehat{\beta}_{2_t} \widehat{V}_{t-1}
                + (1-\widehat{\beta}_{2_t})\, G_t \odot G_t \\
        &\quad U_t \leftarrow \frac{G_t}{\max(\sqrt{\widehat{V}_t},\ \epsilon_1)}, \qquad
               \widehat{U}_t \leftarrow \frac{U_t}{\max(1,\ \operatorname{RMS}(U_t)/d)} \\
        &\quad \theta_t \leftarrow \theta_t - \alpha_t \widehat{U}_t
        \end{aligned}

    Tensors with more than two dimensions are factored over their last two
    (``row_var`` has shape ``(..., m, 1)``, ``col_var`` ``(..., 1, n)``, as torch);
    vectors and scalars keep a full ``variance``.  As torch (and unlike the
    paper), ``lr`` caps :math:`\rho_t` and scales the decoupled weight decay, and
    :math:`\epsilon_1` (default: the machine epsilon of the parameter's dtype;
    torch takes the one of the group's first parameter) guards the final
    division instead of being added to :math:`G^2`.

    Because the step is relative to :math:`\operatorname{RMS}(\theta)` and the
    update is normalised, a parameter moves by about :math:`\rho_t` times its
    RMS per step (at least :math:`\epsilon_2\rho_t`).  On a toy problem
    ``lr=0.05`` solves a parabola to machine precision in 2000 steps, but on
    Rosenbrock (from :math:`(-1.5, 2)`) the loss stalls near 0.05: the steps do
    not shrink until :math:`1/\sqrt t < \gamma`; decay ``lr`` with a scheduler
    to go further.  The defaults are meant for network weights.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-2
        Maximum relative step size (and weight-decay scale).
    beta2_decay : float, default -0.8
        :math:`\tau`, <= 0: the second-moment average forgets like :math:`1 - t^{\tau}`.
    eps : (float or None, float), default (None, 1e-3)
        :math:`(\epsilon_1, \epsilon_2)`.
    d : float, default 1.0
        Clipping threshold on RMS(update), >= 1.
    weight_decay : float, default 0.0
    foreach : accepted for torch compatibility, ignored.
    maximize : bool, default False

    Reference: N. Shazeer & M. Stern, *Adafactor: Adaptive Learning Rates with
    Sublinear Memory Cost*, ICML 2018.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> W = Parameter(np.ones((300, 200)))
    >>> opt = Adafactor([W])
    >>> W.grad = np.ones((300, 200))
    >>> opt.step()
    >>> opt.state_bytes()            # (300 + 200) float64 numbers, not 300 * 200
    4000
    """

    _supports_flat = False  # the update of a tensor depends on its own norms and factored shape

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        _check(lambda v: 0.0 <= v, lr, "lr", "Learning rate should be >= 0 but is")
        _check(lambda v: 0.0 >= v, beta2_decay, "beta2_decay", "beta2_decay should be <= 0 but is")
        try:
            eps1, eps2 = eps
        except (TypeError, ValueError):
            raise TypeError(f"eps must be a pair (eps1, eps2) with eps1 None or a float, got {eps!r}") from None
        if eps1 is not None:
            _check(lambda v: 0.0 <= v, eps1, "eps[0]", "epsilon1 should be >= 0 but is")
        _check(lambda v: 0.0 <= v, eps2, "eps[1]", "epsilon2 should be >= 0 but is")
        _check(lambda v: 1.0 <= v, d, "d", "Clipping threshold d should be >= 1 but is")
        _check(lambda v: 0.0 <= v, weight_decay, "weight_decay", "weight_decay should be >= 0 but is")
        check_no_differentiable(foreach=foreach)
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=(eps1, eps2), d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        if param.ndim > 1:
            row_shape = param.shape[:-1] + (1,)
            col_shape = param.shape[:-2] + (1, param.shape[-1])
            return {"step": 0.0, "row_var": np.zeros(row_shape, dtype=param.dtype),
                    "col_var": np.zeros(col_shape, dtype=param.dtype)}
        return {"step": 0.0, "variance": np.zeros_like(param)}

    def _update(self, group, param, grad, state):
        state["step"] = step = state["step"] + 1.0
        eps1, eps2 = group["eps"]
        adafactor_step(param, grad, state.get("row_var"), state.get("col_var"), state.get("variance"),
                       lr=group["lr"], beta2_decay=group["beta2_decay"], eps1=eps1, eps2=eps2, d=group["d"],
                       weight_decay=group["weight_decay"], step=step, maximize=group["maximize"])
