r"""AdamW: Adam with decoupled weight decay."""
from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW (``torch.optim.AdamW``): Adam with the weight decay taken out of the gradient.

    In Adam an L2 penalty :math:`\lambda\theta` is added to the gradient and
    then divided by :math:`\sqrt{v_t}` like everything else, so parameters with
    large gradients are barely decayed.  AdamW shrinks the weights directly,
    before the Adam step, by the same factor for every coordinate:

    .. math::
        \theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}, \qquad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    Same parameters as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.

    Reference: Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.

    Example
    -------
    >>> import numpy as np
    >>> from minigrad.nn import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = np.array([0.0])
    >>> opt.step()
    >>> w.data      # zero gradient: only the decay acts, 1 * (1 - 0.1 * 0.5)
    array([0.95])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as torch: an AdamW stays decoupled whatever was saved
            group["decoupled_weight_decay"] = True
