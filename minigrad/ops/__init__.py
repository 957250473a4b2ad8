"""The differentiable operations, one module per family.

Each primitive has the same four beats: compute the output array, define a
``backward(g)`` that returns one gradient per parent (the vector-Jacobian
product), wrap the output with :func:`minigrad.tensor.make_result`, return it.
"""
