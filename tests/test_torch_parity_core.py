"""Values and gradients of every core op against PyTorch, in float64, to rtol 1e-9."""
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given

import minigrad.functional as F
from minigrad import Tensor, nn

from _core_ops import CASES, CORE_SETTINGS

RTOL, ATOL = 1e-9, 1e-12  # atol only for values that are zero up to rounding

PARITY_CASES = [c for c in CASES if c.th is not None]


def run_both(case, arrays, params, seed_grad=None):
    """Forward in both libraries, backward with the same random output gradient; returns both sides."""
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = case.mg(*xs, **params)
    tout = case.th(*ts, **params)
    if seed_grad is None:
        seed_grad = np.random.default_rng(1).normal(size=out.shape)
    out.backward(seed_grad)
    tout.backward(torch.from_numpy(np.asarray(seed_grad)))
    return out, tout, xs, ts


def assert_parity(out, tout, xs, ts):
    assert out.shape == tuple(tout.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == np.float64, i
        expected = t.grad.numpy() if t.grad is not None else np.zeros(x.shape)
        np.testing.assert_allclose(x.grad, expected, rtol=RTOL, atol=ATOL, err_msg=f"gradient of input {i}")


def test_torch_is_only_missing_for_random_ops():
    assert [c.name for c in CASES if c.th is None] == ["F.dropout"]


@pytest.mark.parametrize("case", PARITY_CASES, ids=lambda c: c.name)
@given(data=st.data())
@CORE_SETTINGS
def test_value_and_grad_match_torch(case, data):
    arrays, params = case.draw(data)
    assert_parity(*run_both(case, arrays, params))


# ------------------------------------------------- non-differentiable points
_TIE_CASES = [
    ("max_full", lambda x: x.max(), lambda x: x.max()),
    ("max_axis_ties", lambda x: x.max(axis=1), lambda x: x.amax(dim=1)),
    ("min_axis0_keepdims", lambda x: x.min(axis=0, keepdims=True), lambda x: x.amin(dim=0, keepdim=True)),
    ("maximum_ties", lambda x: F.maximum(x, x[:, ::-1]), lambda x: torch.maximum(x, x.flip(1))),
    ("relu_at_zero", lambda x: x.relu(), torch.relu),
    ("abs_at_zero", lambda x: x.abs(), torch.abs),
    ("clip_at_bounds", lambda x: x.clip(-1.0, 2.0), lambda x: x.clamp(-1.0, 2.0)),
    ("pow_zero_base", lambda x: x**2.0 + x**0.0, lambda x: x**2.0 + x**0.0),
]


@pytest.mark.parametrize("name, mg_fn, th_fn", _TIE_CASES, ids=[c[0] for c in _TIE_CASES])
def test_conventions_at_ties_and_kinks_match_torch(name, mg_fn, th_fn):
    """Ties share the gradient (max/min/maximum), relu'(0) = abs'(0) = 0, clip passes at its bounds."""
    data = np.array([[2.0, -1.0, 2.0, 0.0], [0.0, 0.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0]])
    x = Tensor(data.copy(), requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    out, tout = mg_fn(x), th_fn(t)
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_parity(out, tout, [x], [t])


# --------------------------------------------------------------- modules
def test_mlp_module_matches_torch_sequential():
    """The same weights in nn.MLP and a torch Sequential give the same loss and parameter gradients."""
    rng = np.random.default_rng(0)
    model = nn.MLP([5, 7, 6, 3], activation=nn.Tanh, rng=1)
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.weight.data))
                lin.bias.copy_(torch.from_numpy(m.bias.data))
            layers.append(lin)
        else:
            layers.append(torch.nn.Tanh())
    tmodel = torch.nn.Sequential(*layers)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    loss = F.cross_entropy(model(Tensor(x)), y)
    tloss = TF.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=RTOL)
    tparams = dict(tmodel.named_parameters())
    names = [name for name, _ in model.named_parameters()]
    assert names == list(tparams)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def test_gradient_accumulation_matches_torch():
    """Two backward passes (retain_graph) and a second loss accumulate into .grad exactly as in torch."""
    data = np.random.default_rng(3).normal(size=(3, 4))
    x = Tensor(data.copy(), requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    loss = (x.tanh() * x).sum()
    tloss = (t.tanh() * t).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    tloss.backward(retain_graph=True)
    tloss.backward()
    F.logsumexp(x, axis=0).sum().backward()
    torch.logsumexp(t, 0).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=RTOL)


def test_pow_gradients_at_a_zero_base_match_torch():
    """d(a^b)/db = a^b ln a is taken as 0 where a = 0 and b >= 0 (torch's convention), not nan."""
    base = np.array([0.0, 0.0, 0.0, 2.0, 0.5])
    expo = np.array([2.0, 0.0, 0.5, -1.0, 3.0])
    a, b = Tensor(base.copy(), requires_grad=True), Tensor(expo.copy(), requires_grad=True)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (base, expo))
    out, tout = a**b, ta**tb
    out.backward(np.ones(5))
    tout.backward(torch.ones(5, dtype=torch.float64))
    assert_parity(out, tout, [a, b], [ta, tb])
    c = Tensor(expo.copy(), requires_grad=True)
    tc = torch.tensor(expo, requires_grad=True)
    with np.errstate(divide="ignore"):  # 0 ** -1 = inf, which numpy (unlike torch) warns about
        (0.0**c).sum().backward()
    (0.0**tc).sum().backward()
    np.testing.assert_array_equal(c.grad, tc.grad.numpy())
