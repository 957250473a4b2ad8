"""minigrad.functional: numerical stability, losses, dropout and the combinators."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad.functional as F
from minigrad import Tensor

EXTREME = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -999.0],
                    [745.0, -745.0, 30.0], [1e-300, -40.0, 40.0]])

STABLE = [
    ("softmax", lambda x: F.softmax(x, axis=1), lambda t: torch.softmax(t, 1)),
    ("softmax_axis0", lambda x: F.softmax(x, axis=0), lambda t: torch.softmax(t, 0)),
    ("log_softmax", lambda x: F.log_softmax(x, axis=-1), lambda t: torch.log_softmax(t, -1)),
    ("log_softmax_axis0", lambda x: F.log_softmax(x, axis=0), lambda t: torch.log_softmax(t, 0)),
    ("logsumexp", lambda x: F.logsumexp(x, axis=1), lambda t: torch.logsumexp(t, 1)),
    ("logsumexp_axis0", lambda x: F.logsumexp(x, axis=0, keepdims=True), lambda t: torch.logsumexp(t, 0, keepdim=True)),
    ("softplus", F.softplus, TF.softplus),
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("sigmoid_method", lambda x: x.sigmoid(), torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("bce_with_logits_target1", lambda x: F.binary_cross_entropy_with_logits(x, np.ones(x.shape), reduction="none"),
     lambda t: TF.binary_cross_entropy_with_logits(t, torch.ones(t.shape, dtype=t.dtype), reduction="none")),
    ("bce_with_logits_target0", lambda x: F.binary_cross_entropy_with_logits(x, np.zeros(x.shape), reduction="sum"),
     lambda t: TF.binary_cross_entropy_with_logits(t, torch.zeros(t.shape, dtype=t.dtype), reduction="sum")),
    ("bce_with_logits_soft", lambda x: F.binary_cross_entropy_with_logits(x, np.full(x.shape, 0.3)),
     lambda t: TF.binary_cross_entropy_with_logits(t, torch.full(t.shape, 0.3, dtype=t.dtype))),
    ("cross_entropy", lambda x: F.cross_entropy(x, [0, 2, 1, 1, 0], reduction="none"),
     lambda t: TF.cross_entropy(t, torch.tensor([0, 2, 1, 1, 0]), reduction="none")),
    ("cross_entropy_mean", lambda x: F.cross_entropy(x, [2, 0, 0, 1, 2]),
     lambda t: TF.cross_entropy(t, torch.tensor([2, 0, 0, 1, 2]))),
]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no overflow / invalid-value warnings either
@pytest.mark.parametrize("name, mg_fn, th_fn", STABLE, ids=[s[0] for s in STABLE])
def test_stable_for_huge_inputs_and_equal_to_torch(name, mg_fn, th_fn):
    x = Tensor(EXTREME.copy(), requires_grad=True)
    t = torch.tensor(EXTREME, requires_grad=True)
    out, tout = mg_fn(x), th_fn(t)
    assert np.all(np.isfinite(out.data)), out.data
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_stable_in_float32_too():
    x = Tensor(np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(x, [2]) + F.logsumexp(x).sum() + F.softplus(x).sum() + F.sigmoid(x).sum()
    assert loss.dtype == np.float32 and np.isfinite(loss.item())
    loss.backward()
    assert np.all(np.isfinite(x.grad))


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 5)) * 10)
    np.testing.assert_allclose(F.softmax(x).data.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.log(F.softmax(x, axis=0).data), F.log_softmax(x, axis=0).data, atol=1e-12)
    np.testing.assert_allclose(F.logsumexp(x).data, np.log(np.exp(x.data).sum(-1)), rtol=1e-12)


def test_logsumexp_of_minus_infinity_rows():
    """A row of -inf has logsumexp -inf (torch agrees), rows with some -inf are fine."""
    data = np.array([[-np.inf, -np.inf], [-np.inf, 0.0]])
    with np.errstate(divide="ignore"):
        out = F.logsumexp(Tensor(data), axis=1).data
    np.testing.assert_array_equal(out, torch.logsumexp(torch.from_numpy(data), 1).numpy())


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_is_minus_log_softmax_at_the_label(reduction):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, size=6)
    per_row = -F.log_softmax(Tensor(z), axis=1).data[np.arange(6), y]
    expected = {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction]
    out = F.cross_entropy(Tensor(z), y, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert out.shape == ((6,) if reduction == "none" else ())


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    z = Tensor(np.random.default_rng(2).normal(size=(3, 5)), requires_grad=True)
    labels = np.array([4, 0, 4])
    F.cross_entropy(z, labels).backward()
    expected = (F.softmax(z).data - np.eye(5)[labels]) / 3
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12, atol=1e-15)


def test_cross_entropy_accepts_int32_lists_and_tensor_labels():
    z = Tensor(np.zeros((2, 3)))
    for labels in ([0, 2], np.array([0, 2], dtype=np.int32), Tensor(np.array([0, 2]))):
        np.testing.assert_allclose(F.cross_entropy(z, labels).item(), np.log(3.0), rtol=1e-12)


def test_mse_loss_values_and_target_gradient():
    a = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    b = Tensor(np.array([0.0, 2.0, 1.0]), requires_grad=True)
    loss = F.mse_loss(a, b)
    assert loss.item() == pytest.approx((1 + 0 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(a.grad, 2 * (a.data - b.data) / 3)
    np.testing.assert_allclose(b.grad, -a.grad)
    assert F.mse_loss(a, [1.0, 2.0, 4.0], reduction="sum").item() == 0.0


def test_bce_with_logits_matches_the_naive_formula_for_moderate_inputs():
    z = np.array([-3.0, -0.2, 0.0, 0.7, 4.0])
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    p = 1 / (1 + np.exp(-z))
    naive = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    out = F.binary_cross_entropy_with_logits(Tensor(z), y, reduction="none")
    np.testing.assert_allclose(out.data, naive, rtol=1e-12)


# ---------------------------------------------------------------- dropout
def test_dropout_in_eval_mode_and_p0_is_the_identity():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p1_zeroes_everything():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.data, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expectation_and_scales_survivors(p):
    n = 200_000
    x = Tensor(np.full(n, 2.0), requires_grad=True)
    out = F.dropout(x, p, rng=np.random.default_rng(0))
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], 2.0 / (1 - p), rtol=1e-15)
    # Fraction dropped ~ Binomial(n, p): 5 standard deviations.
    assert abs((~kept).mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert abs(out.data.mean() - 2.0) < 5 * 2.0 * np.sqrt(p / ((1 - p) * n))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.where(kept, 1 / (1 - p), 0.0))


def test_dropout_is_reproducible_from_a_seed_and_advances_a_generator():
    x = Tensor(np.ones(50))
    a, b = F.dropout(x, 0.5, rng=7), F.dropout(x, 0.5, rng=7)
    np.testing.assert_array_equal(a.data, b.data)
    gen = np.random.default_rng(7)
    first, second = F.dropout(x, 0.5, rng=gen), F.dropout(x, 0.5, rng=gen)
    np.testing.assert_array_equal(first.data, a.data)
    assert not np.array_equal(first.data, second.data)


def test_dropout_keeps_float32():
    x = Tensor(np.ones(10, np.float32), requires_grad=True)
    out = F.dropout(x, 0.3, rng=0)
    assert out.dtype == np.float32


# ------------------------------------------------------------- combinators
def test_concatenate_and_stack_match_numpy_and_split_the_gradient():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = Tensor(np.arange(3.0).reshape(1, 3), requires_grad=True)
    cat = F.concatenate([a, b], axis=0)
    np.testing.assert_array_equal(cat.data, np.concatenate([a.data, b.data]))
    (cat * np.arange(9.0).reshape(3, 3)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b.grad, [[6.0, 7.0, 8.0]])
    c = Tensor(np.ones(3), requires_grad=True)
    st = F.stack([c, c * 2, Tensor(np.zeros(3))], axis=1)
    assert st.shape == (3, 3)
    st.sum().backward()
    np.testing.assert_array_equal(c.grad, [3.0, 3.0, 3.0])


def test_where_routes_the_gradient_and_accepts_tensor_conditions():
    x = Tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    out = F.where(x > 0, x, x * 0.1)
    np.testing.assert_allclose(out.data, [-0.1, 2.0, -0.3])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0.1, 1.0, 0.1])


def test_maximum_shares_the_gradient_at_ties():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 2.0, 1.0]), requires_grad=True)
    F.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])


def test_activation_functions_agree_with_the_methods():
    x = Tensor(np.linspace(-3, 3, 7))
    for f, m in ((F.relu, x.relu), (F.tanh, x.tanh), (F.sigmoid, x.sigmoid)):
        np.testing.assert_array_equal(f(x).data, m().data)


def test_linear_accepts_batched_inputs_and_no_bias():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    w = Tensor(rng.normal(size=(5, 4)), requires_grad=True)
    out = F.linear(x, w)
    np.testing.assert_allclose(out.data, x.data @ w.data.T, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(w.grad, np.ones((5, 6)) @ x.data.reshape(6, 4), rtol=1e-12)
    np.testing.assert_allclose(x.grad, np.broadcast_to(w.data.sum(0), (2, 3, 4)), rtol=1e-12)
