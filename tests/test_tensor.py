"""Tensor basics: construction and dtypes, operators, backward semantics, no_grad, deep graphs."""
import gc
import weakref

import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad import Tensor
from minigrad.tensor import make_result


@pytest.fixture
def float32_default():
    minigrad.set_default_dtype(np.float32)
    try:
        yield
    finally:
        minigrad.set_default_dtype(np.float64)


# ------------------------------------------------------------- construction
@pytest.mark.parametrize(
    "data, dtype",
    [
        (np.arange(3, dtype=np.float32), np.float32),
        (np.arange(3, dtype=np.int64), np.int64),
        (np.arange(3, dtype=np.int32), np.int32),
        (np.array([True, False]), np.bool_),
        (np.float32(2.5), np.float32),
        (3, np.float64),
        (2.5, np.float64),
        ([1, 2, 3], np.float64),
        ([[1.0, 2.0], [3.0, 4.0]], np.float64),
    ],
)
def test_arrays_keep_their_dtype_and_python_data_becomes_float64(data, dtype):
    assert Tensor(data).dtype == np.dtype(dtype)


def test_set_default_dtype_changes_python_data_but_not_arrays(float32_default):
    assert minigrad.get_default_dtype() == np.float32
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor(np.ones(2)).dtype == np.float64
    assert minigrad.nn.Linear(2, 3, rng=0).weight.dtype == np.float32


def test_array_is_wrapped_without_copy_and_attributes():
    arr = np.arange(6.0).reshape(2, 3)
    t = Tensor(arr, requires_grad=True)
    assert t.data is arr and t.numpy() is arr
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2 and t.dtype == np.float64
    assert t.requires_grad and t.grad is None and t.is_leaf
    assert Tensor(t).data is arr  # a Tensor of a Tensor shares the data


def test_item():
    assert Tensor(np.array([[4.5]])).item() == 4.5
    assert isinstance(Tensor(3).item(), float)


def test_grad_and_data_are_assignable():
    t = Tensor(np.zeros(3), requires_grad=True)
    t.grad = np.ones(3)
    np.testing.assert_array_equal(t.grad, 1.0)
    t.data = np.full(3, 2.0)
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, 1.0 + 4.0)
    t.grad = None
    assert t.grad is None


def test_detach_shares_data_and_cuts_the_graph():
    x = Tensor(np.arange(3.0), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.data is y.data
    z = (d * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, y.data)  # d treated as a constant


def test_repr_mentions_dtype_and_grad():
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
    assert "float32" in repr(Tensor(np.ones(1, np.float32)))


# ------------------------------------------------------------------ dtypes
FLOAT32_WITH_SCALARS = [
    ("add", lambda x: x + 1.5),
    ("radd", lambda x: 2 + x),
    ("sub", lambda x: x - 0.5),
    ("rsub", lambda x: 1 - x),
    ("mul", lambda x: x * 0.1),
    ("rmul", lambda x: 3 * x),
    ("div", lambda x: x / 3),
    ("rdiv", lambda x: 2.0 / x),
    ("pow", lambda x: x**2),
    ("pow_float", lambda x: x**0.5),
    ("rpow", lambda x: 2.0**x),
    ("numpy_scalar", lambda x: x * np.float64(0.5) + np.float64(1.0)),
    ("numpy_scalar_left", lambda x: np.float64(2.0) - x / np.float64(3.0)),
    ("neg", lambda x: -x),
    ("exp_log_sqrt", lambda x: x.exp().log().sqrt()),
    ("abs_tanh_sigmoid_relu", lambda x: x.abs().tanh().sigmoid().relu()),
    ("clip", lambda x: x.clip(0.6, 1.0)),
    ("sum_mean", lambda x: x.sum(axis=0) / x.mean()),
    ("max_min", lambda x: x.max(axis=1) - x.min()),
    ("shape", lambda x: x.reshape(-1)[::2].reshape(1, -1).T),
    ("getitem_repeat", lambda x: x[[0, 0, 1]]),
    ("matmul", lambda x: x @ x.T),
    ("softplus", F.softplus),
    ("softmax", lambda x: F.softmax(x, axis=0)),
    ("log_softmax", F.log_softmax),
    ("logsumexp", F.logsumexp),
    ("maximum_scalar", lambda x: F.maximum(x, 0.7) + F.maximum(0.5, x)),
    ("where_scalar", lambda x: F.where(x.data > 0.8, x, 0.0) + F.where(x.data > 0.8, 1.0, x)),
    ("concatenate_stack", lambda x: F.stack([F.concatenate([x, x], axis=1)] * 2)),
    ("mse", lambda x: F.mse_loss(x, np.zeros((2, 3), np.float32))),
    ("cross_entropy", lambda x: F.cross_entropy(x, [2, 0])),
    ("bce", lambda x: F.binary_cross_entropy_with_logits(x, np.ones((2, 3), np.float32))),
    ("dropout", lambda x: F.dropout(x, 0.5, rng=0)),
    ("linear", lambda x: F.linear(x, Tensor(np.ones((4, 3), np.float32), requires_grad=True))),
]


@pytest.mark.parametrize("fn", [f for _, f in FLOAT32_WITH_SCALARS], ids=[n for n, _ in FLOAT32_WITH_SCALARS])
def test_float32_stays_float32_in_values_and_every_gradient(fn):
    """With Python (or NumPy) scalars a float32 computation stays float32, forwards and backwards.

    ``probe`` is an identity op that records the dtype of the gradient it receives,
    so intermediate gradients are checked too, not only the leaf's ``.grad``.
    """
    received = []

    def probe(t):
        return make_result(t.data, (t,), lambda g: (received.append(g.dtype) or g,), "probe")

    x = Tensor(np.linspace(0.5, 1.5, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = fn(probe(x))
    assert out.dtype == np.float32
    out.sum().backward()
    assert received == [np.dtype(np.float32)]
    assert x.grad.dtype == np.float32


def test_integer_tensors_compute_but_do_not_require_grad():
    a = Tensor(np.array([1, 2, 3]))
    assert (a + 1).dtype == np.int64 and not (a + 1).requires_grad
    assert (a / 2).dtype == np.float64
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * a  # int constant times a float leaf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


def test_astype_is_differentiable_and_grad_returns_to_source_dtype():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert not x.astype(np.int64).requires_grad


# --------------------------------------------------------------- operators
def test_numpy_arrays_on_either_side_give_tensors():
    x = Tensor(np.arange(1.0, 4.0), requires_grad=True)
    arr = np.array([2.0, 3.0, 4.0])
    for out in (arr + x, arr - x, arr * x, arr / x, arr**x, x + arr, np.float64(2.0) * x):
        assert isinstance(out, Tensor) and out.requires_grad
    m = np.ones((2, 3))
    assert isinstance(m @ x, Tensor) and (m @ x).shape == (2,)
    (m @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_broadcast_gradient_is_summed_back_to_each_shape():
    a = Tensor(np.ones((4, 1, 3)), requires_grad=True)
    b = Tensor(np.arange(5.0 * 3).reshape(5, 3), requires_grad=True)
    c = Tensor(np.array(2.0), requires_grad=True)
    ((a + b) * c).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 3) and c.grad.shape == ()
    np.testing.assert_array_equal(a.grad, np.full((4, 1, 3), 10.0))
    np.testing.assert_array_equal(b.grad, np.full((5, 3), 8.0))
    assert c.grad == (4 * 5 * 3) + 4 * b.data.sum()


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((3,), (5, 3, 2)),
     ((2, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (6, 3, 1))],
)
def test_matmul_follows_numpy_matmul(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = x @ y
    np.testing.assert_array_equal(out.data, np.matmul(a, b))
    out.backward(np.ones(out.shape))
    assert x.grad.shape == a.shape and y.grad.shape == b.shape


@pytest.mark.parametrize(
    "op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"]
)
def test_comparisons_are_boolean_and_not_differentiable(op):
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 2.0, 1.0]), requires_grad=True)
    for other in (y, 2.0, np.array([2.0, 2.0, 2.0])):
        out = getattr(x, op)(other)
        expected = getattr(x.data, op)(other.data if isinstance(other, Tensor) else other)
        assert isinstance(out, Tensor) and out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.data, expected)
    assert ((2.0 < x).data == (x.data > 2.0)).all()  # reflected


def test_tensors_stay_hashable():
    x = Tensor([1.0])
    assert {x: 1}[x] == 1


def test_getitem_repeated_indices_add_up():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([0, 0, 3, 0, -1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 0.0, 2.0])


def test_getitem_accepts_lists_tensors_and_masks():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    picked = x[[1, 1]] + x[Tensor(np.array([0, 1]))] + x[x.data.sum(axis=1, keepdims=True).repeat(3, 1) > 5][None, :3]
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1, 1], [5, 5, 5]])  # the (1, 3) mask part broadcasts over 2 rows


def test_getitem_mask_selects_like_numpy():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = x > 2.5
    out = x[mask]
    np.testing.assert_array_equal(out.data, [3.0, 4.0, 5.0])
    (out * out).sum().backward()
    np.testing.assert_array_equal(x.grad, np.where(mask.data, 2 * x.data, 0.0))


def test_transpose_call_forms_and_T():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.transpose().shape == (4, 3, 2) and x.T.shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).shape == x.transpose((1, 0, 2)).shape == (3, 2, 4)
    y = x.transpose(-1, 0, -2)  # negative axes
    np.testing.assert_array_equal(y.data, np.transpose(x.data, (2, 0, 1)))
    (y * np.arange(24.0).reshape(4, 2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.transpose(np.arange(24.0).reshape(4, 2, 3), (1, 2, 0)))


# ---------------------------------------------------------------- backward
def test_scalar_backward_seeds_one_and_non_scalar_uses_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.grad = None
    (x * 3).backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [3.0, -3.0])
    x.grad = None
    (x * 3).backward(Tensor([2.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_one_element_non_scalar_backward_seeds_one():
    x = Tensor(np.array([[2.0]]), requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_leaf_backward():
    x = Tensor(np.array(2.0), requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_gradients_accumulate_over_two_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3 * x.data**2)


def test_accumulation_is_in_place_so_a_grad_view_stays_a_view():
    """As in torch, the second backward adds into the existing .grad array (a flat buffer's view)."""
    flat = np.zeros(5)
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = flat[1:3]
    (x * x).sum().backward()
    assert x.grad.base is flat
    np.testing.assert_array_equal(flat, [0.0, 2.0, 4.0, 0.0, 0.0])


def test_first_grad_is_a_fresh_array_not_shared_with_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + y).backward(seed)
    assert x.grad is not seed and not np.shares_memory(x.grad, y.grad)
    x.grad += 1
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_a_tensor_used_many_times_gets_the_total_gradient():
    x = Tensor(np.array(3.0), requires_grad=True)
    y = x * x + x * 2 - x / x
    z = y * y
    z.backward()
    # z = y^2, y = x^2 + 2x - 1 => dz/dx = 2 y (2x + 2)
    assert x.grad == 2 * (9 + 6 - 1) * 8


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_second_backward_without_retain_graph_raises():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    h = x.tanh()
    loss = (h * h).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()  # a new loss through the freed part of the graph


def test_intermediate_results_are_freed_after_backward():
    x = Tensor(np.ones(1000), requires_grad=True)
    hidden = (x * 2).exp()
    ref = weakref.ref(hidden)
    loss = hidden.sum()
    del hidden
    assert ref() is not None  # the graph keeps it alive until backward
    loss.backward()
    gc.collect()
    assert ref() is None and loss._parents == ()


def test_retain_grad_keeps_the_gradient_of_an_intermediate():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * 3).retain_grad()
    other = x * 4
    (h * h + other).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    assert other.grad is None
    np.testing.assert_array_equal(x.grad, 18 * x.data + 4)


def test_constants_in_the_graph_get_no_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([5.0, 6.0]))
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad


def test_a_100000_node_chain_backpropagates_iteratively():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001**100_000, rtol=1e-9)


def test_a_deep_unused_graph_can_be_deleted():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(30_000):  # far deeper than any recursive deallocation could survive
        y = y + 1.0
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def test_diamond_graph_visits_each_node_once():
    """Every node passes on its gradient after all of its consumers (topological order)."""
    x = Tensor(np.array(2.0), requires_grad=True)
    a = x * 3
    b = a.exp()
    c = a * a
    d = b + c + a
    d.backward()
    assert np.isclose(x.grad, 3 * np.exp(6.0) + 2 * 6.0 * 3 + 3)


# ----------------------------------------------------------------- no_grad
def test_no_grad_context_manager():
    x = Tensor(np.ones(3), requires_grad=True)
    with minigrad.no_grad():
        assert not minigrad.is_grad_enabled()
        y = x * 2 + 1
        z = F.softmax(y)
    assert minigrad.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y._parents == ()
    assert not z.requires_grad


def test_no_grad_decorator():
    @minigrad.no_grad()
    def evaluate(t):
        assert not minigrad.is_grad_enabled()
        return (t * t).sum()

    x = Tensor(np.ones(3), requires_grad=True)
    out = evaluate(x)
    assert not out.requires_grad and minigrad.is_grad_enabled()
    assert evaluate.__name__ == "evaluate"


def test_no_grad_restores_mode_after_an_exception_and_nests_with_enable_grad():
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        with minigrad.no_grad():
            1 / 0
    assert minigrad.is_grad_enabled()
    with minigrad.no_grad():
        with minigrad.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with minigrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad


def test_manual_sgd_step_under_no_grad():
    w = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    for _ in range(3):
        loss = ((w - 3.0) ** 2).sum()
        w.grad = None
        loss.backward()
        with minigrad.no_grad():
            w.data -= 0.25 * w.grad
    np.testing.assert_allclose(w.data, 3.0 + np.array([-2.0, -4.0]) * 0.5**3)
