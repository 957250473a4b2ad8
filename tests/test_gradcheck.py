"""Finite-difference checks: every core op's backward, and ``minigrad.gradcheck`` itself."""
import re

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
from minigrad import GradcheckError, Tensor, gradcheck
from minigrad.tensor import make_result

from _core_ops import CASES, CORE_SETTINGS


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
@CORE_SETTINGS
def test_every_op_passes_gradcheck(case, data):
    """Central differences agree with backward on random shapes, broadcasting, axes and indices."""
    arrays, params = case.draw(data)
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: case.mg(*xs, **params), *inputs, atol=1e-6, rtol=1e-6) is True


def test_every_op_of_the_issue_is_in_the_table():
    names = {c.name for c in CASES}
    required = {
        "add", "sub", "mul", "div", "pow", "neg", "matmul", "sum", "mean", "max", "min", "exp", "log", "sqrt",
        "abs", "tanh", "sigmoid", "relu", "clip", "reshape", "transpose", "T", "getitem_basic",
        "getitem_int_array", "getitem_bool_mask", "F.relu", "F.tanh", "F.sigmoid", "F.softplus", "F.softmax",
        "F.log_softmax", "F.logsumexp", "F.concatenate", "F.stack", "F.where", "F.maximum", "F.mse_loss",
        "F.cross_entropy", "F.binary_cross_entropy_with_logits", "F.dropout", "F.linear", "mlp_loss", "deep_chain",
    }
    assert required <= names


# ------------------------------------------------- gradcheck catches bad backward
def cube_with_wrong_backward(x):
    r"""y = x^3 but backward claims dy/dx = 2x^2 (the true derivative is 3x^2): error x^2, largest at max |x|."""
    xd = x.data
    return make_result(xd**3, (x,), lambda g: (g * 2 * xd**2,), "bad_cube")


def test_gradcheck_catches_a_wrong_derivative_and_names_the_worst_element():
    x = Tensor(np.array([[0.1, 0.2, -0.3], [0.4, -2.5, 0.6]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: cube_with_wrong_backward(t).sum(), x)
    msg = str(info.value)
    assert "input 0" in msg and "element (1, 1)" in msg, msg
    analytic, numeric = 2 * 2.5**2, 3 * 2.5**2
    assert re.search(rf"analytic gradient {analytic:.10g}\b", msg), msg
    assert re.search(r"numerical 18\.75\d*,", msg), msg
    assert numeric == 18.75


def test_gradcheck_names_the_input_with_the_worst_error():
    good = Tensor(np.array([5.0, 6.0]), requires_grad=True)
    bad = Tensor(np.array([0.5, -1.5, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1, element \(1,\)"):
        gradcheck(lambda a, b: (a * a).sum() + cube_with_wrong_backward(b).sum(), good, bad)


def test_gradcheck_catches_a_wrong_vector_jacobian_product_of_a_non_scalar_output():
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)

    def transposed_grad(t):  # y = 2 x, but backward swaps the gradient around (wrong for random weights)
        return make_result(2 * t.data, (t,), lambda g: (2 * g[::-1, ::-1],), "bad_flip")

    with pytest.raises(GradcheckError):
        gradcheck(transposed_grad, x)


def test_gradcheck_catches_a_missing_broadcast_reduction():
    a = Tensor(np.ones((3, 2)), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)

    def bad_add(x, y):  # forgets to sum the gradient of y over the broadcast axis: takes row 0 only
        return make_result(x.data + y.data, (x, y), lambda g: (g, g[0]), "bad_add")

    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda x, y: bad_add(x, y).sum(), a, b)


def test_gradcheck_without_raise_returns_false():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert gradcheck(lambda t: cube_with_wrong_backward(t).sum(), x, raise_exception=False) is False
    assert gradcheck(lambda t: (t**3).sum(), x, raise_exception=False) is True


def test_gradcheck_tolerances_are_respected():
    """A small relative error of 1e-4 passes at rtol=1e-3 and fails at rtol=1e-6."""
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

    def slightly_off(t):
        return make_result(t.data * 3, (t,), lambda g: (g * 3 * (1 + 1e-4),), "slightly_off")

    assert gradcheck(lambda t: slightly_off(t).sum(), x, atol=0, rtol=1e-3)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: slightly_off(t).sum(), x, atol=0, rtol=1e-6)


def test_gradcheck_works_in_float64_and_leaves_inputs_untouched():
    """float32 inputs are checked in float64 (where eps=1e-6 is meaningful) and are not modified."""
    arr = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    x = Tensor(arr.copy(), requires_grad=True)
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t.exp() * t).sum()

    assert gradcheck(fn, x, atol=1e-7, rtol=1e-7)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x.data, arr)
    assert x.data.dtype == np.float32 and x.grad is None


def test_gradcheck_only_checks_inputs_that_require_grad():
    """A constant input is not perturbed: its wrong 'gradient' is not examined."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([0.5, 3.0]))  # constant
    perturbed = []

    def fn(a, b):
        perturbed.append(b.data.copy())
        return (a * cube_with_wrong_backward(b)).sum()

    assert gradcheck(fn, w, c)
    assert all(np.array_equal(p, c.data) for p in perturbed)


def test_gradcheck_accepts_plain_arrays_and_checks_all_of_them():
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a.sum() + cube_with_wrong_backward(b).sum(), np.ones(2), np.array([1.0, 3.0]))


def test_gradcheck_rejects_bad_arguments():
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        gradcheck(lambda t: t.sum(), np.array([1, 2]))
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda t: 3.0, Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(GradcheckError, match="does not depend"):
        gradcheck(lambda t: Tensor(np.ones(2)), Tensor(np.ones(2), requires_grad=True))


def test_gradcheck_is_exported():
    assert minigrad.gradcheck is gradcheck
    assert issubclass(GradcheckError, AssertionError)
