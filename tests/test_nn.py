"""minigrad.nn: Module bookkeeping, Linear init, containers, Dropout, state dicts."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

import minigrad
import minigrad.functional as F
from minigrad import Tensor, nn


class Affine(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = nn.Parameter(np.ones(n))
        self.b = nn.Parameter(np.zeros(n))
        self.scale = 2.0  # plain attributes are not parameters
        self.constant = Tensor(np.ones(n))  # nor are plain tensors

    def forward(self, x):
        return x * self.w * self.scale + self.b


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Affine(3)
        self.body = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Dropout(0.5, rng=0), nn.Linear(4, 2, rng=1))

    def forward(self, x):
        return self.body(self.first(x))


# ------------------------------------------------------------ registration
def test_parameters_and_submodules_are_registered_by_attribute():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["first.w", "first.b", "body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias"]
    params = list(net.parameters())
    assert len(params) == 6 and params[0] is net.first.w
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Affine", "Sequential", "Linear", "Tanh", "Dropout", "Linear"]


def test_a_shared_parameter_is_listed_once_under_its_first_name_like_torch():
    class Tied(Net):
        def __init__(self):
            super().__init__()
            self.tied = self.body[0].weight

    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = torch.nn.Module()
            self.first.w = torch.nn.Parameter(torch.ones(3))
            self.first.b = torch.nn.Parameter(torch.zeros(3))
            self.body = torch.nn.Sequential(
                torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2)
            )
            self.tied = self.body[0].weight

    names = [n for n, _ in Tied().named_parameters()]
    assert names == [n for n, _ in TorchTied().named_parameters()]
    assert len(names) == 6 and names[0] == "tied"


def test_reassigning_an_attribute_replaces_the_registration():
    m = Affine(2)
    m.w = nn.Parameter(np.full(2, 3.0))
    m.b = None
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert m.w.data[0] == 3.0


def test_parameter_is_a_tensor_requiring_grad():
    p = nn.Parameter(np.zeros(2))
    assert isinstance(p, Tensor) and p.requires_grad and minigrad.Parameter is nn.Parameter
    assert "Parameter containing" in repr(p)
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad


def test_zero_grad_sets_none_or_zeros_in_place():
    net = Net()
    net(Tensor(np.ones((2, 3)))).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None for g in grads.values())
    net.zero_grad(set_to_none=False)
    for n, p in net.named_parameters():
        assert p.grad is grads[n] and not p.grad.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_propagate_to_children():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_module_errors():
    class NoForward(nn.Module):
        pass

    with pytest.raises(TypeError, match="NoForward has no forward"):
        NoForward()(1)

    class NoSuper(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(RuntimeError, match=r"super\(\).__init__\(\)"):
        NoSuper()


# ----------------------------------------------------------------- Linear
def _torch_bound(fan_in):
    """The bound torch's Linear.reset_parameters uses: kaiming_uniform_(a=sqrt(5))."""
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    return math.sqrt(3.0) * gain / math.sqrt(fan_in)


@pytest.mark.parametrize("fan_in", [1, 3, 64, 300])
def test_linear_init_has_torchs_bounds_and_distribution(fan_in):
    bound = _torch_bound(fan_in)
    assert bound == pytest.approx(1 / math.sqrt(fan_in), rel=1e-12)
    lin = nn.Linear(fan_in, 400, rng=0)
    torch.manual_seed(0)
    tlin = torch.nn.Linear(fan_in, 400, dtype=torch.float64)
    for ours, theirs in ((lin.weight.data, tlin.weight), (lin.bias.data, tlin.bias)):
        theirs = theirs.detach().numpy()
        assert ours.shape == theirs.shape and ours.dtype == np.float64
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        assert np.abs(ours).max() > 0.95 * bound  # the whole interval is used
        # Same distribution as torch's initialisation (two-sample Kolmogorov-Smirnov test).
        assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 1e-4


def test_linear_init_is_uniform_with_mean_zero():
    w = nn.Linear(100, 1000, rng=3).weight.data.ravel()
    bound = 0.1
    assert abs(w.mean()) < 5 * bound / math.sqrt(3 * w.size)
    assert stats.kstest(w, stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > 1e-4


def test_linear_is_reproducible_from_a_seed_or_generator():
    a, b = nn.Linear(5, 3, rng=42), nn.Linear(5, 3, rng=42)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    c = nn.Linear(5, 3, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.weight.data, c.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(5, 3, rng=43).weight.data)
    gen = np.random.default_rng(1)
    first, second = nn.Linear(5, 3, rng=gen), nn.Linear(5, 3, rng=gen)
    assert not np.array_equal(first.weight.data, second.weight.data)  # a Generator is advanced
    assert not np.array_equal(nn.Linear(5, 3).weight.data, nn.Linear(5, 3).weight.data)  # None: fresh entropy


def test_linear_forward_shapes_dtype_and_no_bias():
    lin = nn.Linear(4, 2, bias=False, rng=0, dtype=np.float32)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin.weight.dtype == np.float32 and lin.weight.shape == (2, 4)
    out = lin(Tensor(np.ones((5, 4), np.float32)))
    assert out.shape == (5, 2) and out.dtype == np.float32
    assert lin(Tensor(np.ones(4, np.float32))).shape == (2,)
    assert "in_features=4, out_features=2, bias=False" in repr(lin)


def test_linear_matches_torch_in_value_and_gradient():
    lin = nn.Linear(3, 2, rng=5)
    tlin = torch.nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(lin.weight.data))
        tlin.bias.copy_(torch.from_numpy(lin.bias.data))
    x = np.random.default_rng(0).normal(size=(4, 3))
    out, tout = lin(Tensor(x)), tlin(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(lin.weight.grad, tlin.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(lin.bias.grad, tlin.bias.grad.numpy(), rtol=1e-9)


# ------------------------------------------------------------- containers
def test_sequential_applies_in_order_and_behaves_like_a_list():
    seq = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    x = Tensor(np.array([[1.0, -2.0]]))
    np.testing.assert_allclose(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    assert "(1): ReLU()" in repr(seq)


@pytest.mark.parametrize("activation, cls", [(nn.ReLU, nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid), (nn.Tanh, nn.Tanh)])
def test_mlp_structure(activation, cls):
    mlp = nn.MLP([4, 8, 6, 3], activation=activation, rng=0)
    kinds = [type(m) for m in mlp]
    assert kinds == [nn.Linear, cls, nn.Linear, cls, nn.Linear]
    assert [(m.in_features, m.out_features) for m in mlp if isinstance(m, nn.Linear)] == [(4, 8), (8, 6), (6, 3)]
    assert mlp(Tensor(np.ones((2, 4)))).shape == (2, 3)


def test_mlp_is_reproducible_from_a_seed():
    a, b = nn.MLP([3, 5, 2], rng=9), nn.MLP([3, 5, 2], rng=9)
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    layer_w = [m.weight.data for m in a if isinstance(m, nn.Linear)]
    assert not np.array_equal(layer_w[0][:2, :2], layer_w[1][:2, :2])  # layers differ from each other


@pytest.mark.parametrize("module, fn", [(nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid)])
def test_activation_modules(module, fn):
    x = Tensor(np.linspace(-2, 2, 5))
    np.testing.assert_array_equal(module(x).data, fn(x).data)
    assert list(module.parameters()) == []


def test_dropout_module_train_and_eval():
    drop = nn.Dropout(0.5, rng=0)
    x = Tensor(np.ones(1000))
    out = drop(x)
    assert set(np.unique(out.data)) == {0.0, 2.0}
    assert abs(out.data.mean() - 1.0) < 0.2
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert (drop(x).data == 0).any()
    assert "p=0.5" in repr(drop)


# ------------------------------------------------------------ state dicts
def test_state_dict_contains_copies_in_parameter_order():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [n for n, _ in net.named_parameters()]
    sd["first.w"][:] = 100.0
    assert net.first.w.data[0] == 1.0  # a copy, not the parameter's array


def test_state_dict_round_trip_reproduces_the_model():
    a = nn.MLP([3, 6, 2], rng=0)
    b = nn.MLP([3, 6, 2], rng=1)
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)))
    assert not np.allclose(a(x).data, b(x).data)
    params_before = list(b.parameters())
    result = b.load_state_dict(a.state_dict())
    assert result == {"missing_keys": [], "unexpected_keys": []}
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert all(p is q for p, q in zip(b.parameters(), params_before))  # loaded in place (optimizers keep working)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert not np.shares_memory(p.data, q.data)


def test_load_state_dict_accepts_tensors_and_converts_dtype():
    lin = nn.Linear(2, 2, rng=0, dtype=np.float32)
    lin.load_state_dict({"weight": Tensor(np.eye(2)), "bias": np.array([1.0, 2.0])})
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, np.eye(2))


def test_load_state_dict_non_strict_reports_keys():
    lin = nn.Linear(2, 2, rng=0)
    result = lin.load_state_dict({"bias": np.zeros(2), "extra": np.ones(1)}, strict=False)
    assert result == {"missing_keys": ["weight"], "unexpected_keys": ["extra"]}
    np.testing.assert_array_equal(lin.bias.data, 0.0)


def test_buffers_are_saved_and_loaded():
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2, rng=0)
            self.register_buffer("running_mean", np.zeros(2))

    a, b = WithBuffer(), WithBuffer()
    a.running_mean[:] = [1.0, 2.0]
    sd = a.state_dict()
    assert list(sd) == ["lin.weight", "lin.bias", "running_mean"]
    b.load_state_dict(sd)
    np.testing.assert_array_equal(b.running_mean, [1.0, 2.0])


# ---------------------------------------------------------------- README
def test_readme_example_trains():
    """The 10-line example: an MLP, cross-entropy, backward, a hand-written SGD step."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = nn.MLP([4, 16, 2], rng=0)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(model(Tensor(X)), y)
        model.zero_grad()
        loss.backward()
        with minigrad.no_grad():
            for p in model.parameters():
                p.data -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    accuracy = (model(Tensor(X)).data.argmax(axis=1) == y).mean()
    assert accuracy > 0.9


# ---------------------------------------------------------------- gradient clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    Parameter = nn.Parameter
    import torch

    from minigrad.nn.utils import clip_grad_norm_

    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(4, 3)), rng.normal(size=5)]
    params = [Parameter(a.copy()) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = a * 3.0
    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    for t, a in zip(tparams, arrays):
        t.grad = torch.tensor(a * 3.0)
    total = clip_grad_norm_(params, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_errors():
    Parameter = nn.Parameter
    from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_

    p = Parameter(np.zeros(3))
    p.grad = np.array([-5.0, 0.5, 7.0])
    clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_([p], -1.0)
    p.grad = np.array([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="total norm"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
