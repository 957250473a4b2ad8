r"""The reverse-mode engine: gradient mode switches and ``backward``.

Every differentiable result remembers its *parents* (the tensors it was computed
from) and a *backward function* that turns the gradient of the loss with respect
to the result, :math:`\bar y = \partial L / \partial y`, into the gradients with
respect to each parent (the vector-Jacobian products
:math:`\bar x_i = \bar y \, \partial y / \partial x_i`).

``backward`` visits the graph once in reverse topological order, so every node
has received the gradient contributions of *all* its consumers before it passes
its own gradient on.  The order is found with an explicit stack instead of
recursion: a chain of 100,000 operations would overflow Python's recursion limit
(1,000 frames by default) in a recursive depth-first search.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "run_backward"]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return True when new operations record a graph for ``backward``."""
    return _mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording on or off.

    Example::

        with minigrad.set_grad_enabled(False):
            y = model(x)          # no graph is recorded
    """

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = None

    def __enter__(self):
        self.prev = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False


class no_grad(set_grad_enabled):
    """Disable graph recording, as ``torch.no_grad``: a context manager and a decorator.

    Use it for evaluation and for updating parameters by hand::

        with minigrad.no_grad():
            w.data -= lr * w.grad
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enable graph recording inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


def _freed_backward(_g):
    raise RuntimeError(
        "Trying to backward through the graph a second time: its intermediate results were "
        "freed by the first backward(). Call backward(retain_graph=True) the first time if you "
        "need to backward twice, or recompute the forward pass."
    )


def _topological_order(root):
    """Nodes that need a gradient, parents after children (iterative post-order DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _accumulate_into(tensor, g):
    """Add ``g`` to ``tensor.grad`` the way torch does: assign a copy first, add in place after."""
    if g.shape != tensor.data.shape:
        g = np.broadcast_to(g, tensor.data.shape)
    if tensor.grad is None:
        tensor.grad = np.array(g, dtype=tensor.data.dtype, copy=True)
    else:
        np.add(tensor.grad, g, out=tensor.grad, casting="unsafe")


def run_backward(root, grad, retain_graph=False):
    """Propagate ``grad`` (the seed, shaped like ``root``) through the graph below ``root``.

    Leaves (tensors created by the user, such as parameters) accumulate into
    ``.grad``; intermediate results pass their gradient on and keep none, unless
    ``retain_grad()`` was called on them.  Unless ``retain_graph`` is set, each
    node's backward function and parents are dropped once used, so the memory of
    the intermediate results is freed as soon as the pass is over.
    """
    grads = {id(root): grad}
    for node in _topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        backward = node._backward
        if backward is None:  # a leaf
            _accumulate_into(node, g)
            continue
        if node._retains_grad:
            _accumulate_into(node, g)
        parent_grads = backward(g)
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if pg.dtype != parent.data.dtype:  # like torch's engine: a gradient has its input's dtype
                pg = pg.astype(parent.data.dtype)
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + pg
            else:
                grads[key] = pg
        if not retain_graph:
            node._backward = _freed_backward
            node._parents = ()
