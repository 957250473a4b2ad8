r"""``gradcheck``: compare backward's gradients with central finite differences.

For a scalar function :math:`f` the central difference

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}

has error :math:`O(\epsilon^2)`, against :math:`O(\epsilon)` for the one-sided
difference, so in float64 with :math:`\epsilon = 10^{-6}` it agrees with a correct
analytic gradient to about :math:`10^{-8}` relative.  A non-scalar output
:math:`y` is reduced to the scalar :math:`\sum_k v_k y_k` with fixed random
weights :math:`v`, which tests the vector-Jacobian product backward computes.
"""
from __future__ import annotations

import numpy as np

from .autograd import no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with finite differences."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check ``backward`` of ``fn(*inputs)`` against central differences, in float64.

    Parameters
    ----------
    fn : callable
        Takes the tensors in ``inputs`` and returns a Tensor (any shape).
    inputs : Tensor or array_like
        Floating inputs; those with ``requires_grad=True`` (all of them, if none
        does) are checked.  They are copied to float64; the originals are untouched.
    eps, atol, rtol : float
        Step of the central difference, and the tolerance
        ``|analytic - numeric| <= atol + rtol * |numeric|`` for every element.

    Returns True, or raises :class:`GradcheckError` naming the worst element
    (returns False instead when ``raise_exception=False``).

    Example
    -------
    >>> x = Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), x)
    True
    """
    originals = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    for i, x in enumerate(originals):
        if x.dtype.kind != "f":
            raise TypeError(f"gradcheck: input {i} has dtype {x.dtype}; gradcheck needs floating-point inputs")
    check = [x.requires_grad for x in originals]
    if not any(check):
        check = [True] * len(originals)
    leaves = [Tensor(x.data.astype(np.float64), requires_grad=c) for x, c in zip(originals, check)]

    out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(seed).normal(size=out.shape) if out.size != 1 else np.ones(out.shape)

    def scalar(*args):
        with no_grad():
            return float(np.sum(weights * fn(*args).data))

    if not out.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
    out.backward(weights.astype(out.dtype))

    worst = None
    for i, (leaf, c) in enumerate(zip(leaves, check)):
        if not c:
            continue
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data)
        numeric = np.zeros_like(leaf.data)
        flat = leaf.data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = scalar(*leaves)
            flat[j] = orig - eps
            minus = scalar(*leaves)
            flat[j] = orig
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric)
        excess = err - (atol + rtol * np.abs(numeric))
        if excess.size and (worst is None or excess.max() > worst[0]):
            k = np.unravel_index(int(np.argmax(excess)), excess.shape)
            worst = (float(excess.max()), i, k, float(analytic[k]), float(numeric[k]), float(err[k]))
    if worst is None or worst[0] <= 0:
        return True
    _, i, k, a, n, e = worst
    msg = (
        f"gradcheck failed: input {i}, element {tuple(int(v) for v in k)}: analytic gradient {a:.10g}, "
        f"numerical {n:.10g}, absolute error {e:.3g} > atol + rtol*|numerical| = {atol + rtol * abs(n):.3g}"
    )
    if raise_exception:
        raise GradcheckError(msg)
    return False
