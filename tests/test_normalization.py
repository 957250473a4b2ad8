"""BatchNorm1d and LayerNorm: gradchecks, float64 parity with torch, buffers, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import minigrad
from minigrad import Tensor, gradcheck, nn, optim
from minigrad.nn.normalization import batch_norm, layer_norm

RTOL = 1e-9


def close(a, b, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(a, b.detach().numpy() if isinstance(b, torch.Tensor) else b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- gradchecks
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4)])
def test_batch_norm_gradcheck_train(shape):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = Tensor(rng.normal(1.0, 2.0, size=shape), requires_grad=True)
    w = Tensor(rng.normal(size=C), requires_grad=True)
    b = Tensor(rng.normal(size=C), requires_grad=True)
    assert gradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True), x, w, b)
    assert gradcheck(lambda x: batch_norm(x, None, None, training=True), x)  # affine=False


def test_batch_norm_gradcheck_eval():
    rng = np.random.default_rng(1)
    rm, rv = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=3), requires_grad=True)
    b = Tensor(rng.normal(size=3), requires_grad=True)
    assert gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False), x, w, b)


def test_batch_norm_module_gradcheck_both_modes():
    rng = np.random.default_rng(2)
    bn = nn.BatchNorm1d(4)
    bn.weight.data[:] = rng.normal(size=4)
    x = Tensor(rng.normal(size=(6, 4)), requires_grad=True)
    assert gradcheck(bn, x)
    bn.eval()
    assert gradcheck(bn, x)


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 1), (1,))])
def test_layer_norm_gradcheck(shape, normalized):
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(2.0, 3.0, size=shape), requires_grad=True)
    w = Tensor(rng.normal(size=normalized), requires_grad=True)
    b = Tensor(rng.normal(size=normalized), requires_grad=True)
    assert gradcheck(lambda x, w, b: layer_norm(x, normalized, w, b), x, w, b)
    assert gradcheck(lambda x: layer_norm(x, normalized), x)


def test_one_graph_node():
    bn, ln = nn.BatchNorm1d(3), nn.LayerNorm(3)
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    y, z = bn(x), ln(x)
    assert y._op == "batch_norm" and y._parents == (x, bn.weight, bn.bias)
    assert z._op == "layer_norm" and z._parents == (x, ln.weight, ln.bias)


# ------------------------------------------------------ parity with torch
def _torch_bn(**kw):
    return torch.nn.BatchNorm1d(kw.pop("num_features"), **kw, dtype=torch.float64)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("kw", [dict(), dict(momentum=None), dict(momentum=0.5, eps=1e-3),
                                dict(affine=False), dict(bias=False), dict(track_running_stats=False)])
def test_batch_norm_matches_torch_train_then_eval(shape, kw):
    rng = np.random.default_rng(4)
    ours, ref = nn.BatchNorm1d(3, **kw), _torch_bn(num_features=3, **kw)
    for step in range(7):
        if step == 5:
            ours.eval(), ref.eval()
        x = rng.normal(3.0, 2.0, size=shape)
        g = rng.normal(size=shape)
        X, tX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(X), ref(tX)
        y.backward(g), ty.backward(torch.tensor(g))
        close(y.data, ty)
        close(X.grad, tX.grad)
        for (name, p), (tname, tp) in zip(ours.named_parameters(), ref.named_parameters()):
            assert name == tname
            close(p.grad, tp.grad)
            with minigrad.no_grad(), torch.no_grad():    # move gamma, beta away from 1, 0
                p.data -= 0.3 * p.grad
                tp -= 0.3 * tp.grad
            p.grad, tp.grad = None, None
        sd, tsd = ours.state_dict(), ref.state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            close(sd[k], tsd[k])
        assert ours.training == ref.training


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 6), c=st.integers(1, 4), length=st.one_of(st.none(), st.integers(1, 4)),
       seed=st.integers(0, 2**16))
def test_batch_norm_matches_torch_any_shape(n, c, length, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) if length is None else (n, c, length)
    x, g = rng.normal(size=shape) * rng.uniform(0.1, 10), rng.normal(size=shape)
    ours, ref = nn.BatchNorm1d(c), _torch_bn(num_features=c)
    X, tX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(X), ref(tX)
    y.backward(g), ty.backward(torch.tensor(g))
    close(y.data, ty, atol=1e-10)
    close(X.grad, tX.grad, atol=1e-10)
    close(ours.running_var, ref.running_var)


@pytest.mark.parametrize("shape, normalized", [((6, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4))])
@pytest.mark.parametrize("kw", [dict(), dict(eps=1e-2), dict(elementwise_affine=False), dict(bias=False)])
def test_layer_norm_matches_torch(shape, normalized, kw):
    rng = np.random.default_rng(5)
    ours, ref = nn.LayerNorm(normalized, **kw), torch.nn.LayerNorm(normalized, **kw, dtype=torch.float64)
    for step in range(3):
        if step == 2:
            ours.eval(), ref.eval()
        x, g = rng.normal(1.0, 4.0, size=shape), rng.normal(size=shape)
        X, tX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(X), ref(tX)
        y.backward(g), ty.backward(torch.tensor(g))
        close(y.data, ty)
        close(X.grad, tX.grad)
        for p, tp in zip(ours.parameters(), ref.parameters()):
            close(p.grad, tp.grad)
            with minigrad.no_grad(), torch.no_grad():
                p.data -= 0.3 * p.grad
                tp -= 0.3 * tp.grad
            p.grad, tp.grad = None, None
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_mlp_with_batch_norm_trains_like_torch():
    """Linear -> BatchNorm1d -> ReLU -> Linear, SGD with momentum, 5 steps, then eval."""
    rng = np.random.default_rng(6)
    ours = nn.Sequential(nn.Linear(4, 6, rng=0), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3, rng=1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                              torch.nn.Linear(6, 3)).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    opt = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        x, labels = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
        loss = minigrad.functional.cross_entropy(ours(Tensor(x)), labels)
        tloss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(labels))
        opt.zero_grad(), topt.zero_grad()
        loss.backward(), tloss.backward()
        opt.step(), topt.step()
        close(loss.item(), tloss.item())
    for k, v in ours.state_dict().items():
        close(v, ref.state_dict()[k])
    ours.eval(), ref.eval()
    x = rng.normal(size=(1, 4))         # a single row is fine in eval mode
    close(ours(Tensor(x)).data, ref(torch.tensor(x)))


# ------------------------------------------------------------ state dicts
def test_state_dict_round_trip_with_buffers():
    rng = np.random.default_rng(7)
    bn = nn.BatchNorm1d(3, momentum=None)
    for _ in range(4):
        bn(Tensor(rng.normal(2.0, 3.0, size=(5, 3))))
    bn.weight.data[:] = [0.5, 2.0, -1.0]
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd["num_batches_tracked"].dtype == np.int64 and sd["num_batches_tracked"] == 4
    fresh = nn.BatchNorm1d(3, momentum=None)
    fresh.load_state_dict(sd)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    sd["running_mean"][:] = 99.0           # the state dict holds copies
    assert not np.any(fresh.running_mean == 99.0)
    x = rng.normal(size=(4, 3))
    bn.eval(), fresh.eval()
    np.testing.assert_array_equal(bn(Tensor(x)).data, fresh(Tensor(x)).data)
    fresh.train()
    fresh(Tensor(x))                        # the cumulative average continues from 4 batches
    assert int(fresh.num_batches_tracked) == 5
    # a torch checkpoint loads too, and a rejected one changes nothing
    ref = _torch_bn(num_features=3)
    ref(torch.tensor(rng.normal(size=(6, 3))))
    fresh.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    close(fresh.running_var, ref.running_var)
    before = fresh.state_dict()
    bad = dict(before, running_var=np.ones(4))
    with pytest.raises(RuntimeError, match="size mismatch for running_var"):
        fresh.load_state_dict(bad)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_no_buffers_without_tracking():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == [] and list(bn.parameters()) == []
    assert bn.running_mean is None and bn.num_batches_tracked is None
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    bn.eval()                               # no running statistics: batch statistics in eval too
    np.testing.assert_allclose(bn(Tensor(x)).data, [[-1, -1], [1, 1]], atol=1e-5)


def test_reset_and_dtype():
    bn = nn.BatchNorm1d(2, dtype=np.float32)
    y = bn(Tensor(np.array([[1.0, 2.0], [3.0, 5.0]], dtype=np.float32)))
    assert y.dtype == np.float32 and bn.running_mean.dtype == np.float32 and bn.weight.dtype == np.float32
    bn.weight.data[:] = 3
    bn.reset_parameters()
    assert np.all(bn.running_mean == 0) and np.all(bn.running_var == 1) and int(bn.num_batches_tracked) == 0
    assert np.all(bn.weight.data == 1)
    ln = nn.LayerNorm(3, dtype=np.float32)
    assert ln(Tensor(np.ones((2, 3), dtype=np.float32))).dtype == np.float32
    assert repr(nn.BatchNorm1d(3)) == repr(torch.nn.BatchNorm1d(3))
    assert repr(nn.LayerNorm(4)) == repr(torch.nn.LayerNorm(4))


# ------------------------------------------------------------------- errors
def test_wrong_feature_count_names_both_numbers():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(RuntimeError, match=r"expected input with 3 features.*shape \(4, 5\) with 5 features"):
        bn(Tensor(np.ones((4, 5))))
    assert int(bn.num_batches_tracked) == 0
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        bn(Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[2, 3\]"):
        nn.LayerNorm(4)(Tensor(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match="input has 3 channels.*weight has 2 elements"):
        batch_norm(Tensor(np.ones((4, 3))), None, None, Tensor(np.ones(2)), training=True)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1)])
def test_batch_size_one_in_training_raises_like_torch(shape):
    bn = nn.BatchNorm1d(3)
    x = np.arange(3.0).reshape(shape)
    with pytest.raises(ValueError) as ours:
        bn(Tensor(x))
    with pytest.raises(ValueError) as theirs:
        torch.nn.BatchNorm1d(3)(torch.tensor(x))
    assert "Expected more than 1 value per channel when training" in str(ours.value)
    assert str(ours.value).split(", got")[0] == str(theirs.value).split(", got")[0]
    assert int(bn.num_batches_tracked) == 0 and np.all(bn.running_mean == 0)  # nothing changed
    bn.eval()
    assert bn(Tensor(x)).shape == shape           # eval mode uses the running statistics
    bn.train()
    assert bn(Tensor(np.ones((1, 3, 2)))).shape == (1, 3, 2)   # 2 values per channel are enough


def test_bad_constructor_arguments():
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="num_features must be a positive integer"):
            nn.BatchNorm1d(bad)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(0)
    with pytest.raises(ValueError, match="at least one dimension"):
        nn.LayerNorm(())
    bn = nn.BatchNorm1d(3, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        bn(Tensor(np.ones((2, 3))))
    assert int(bn.num_batches_tracked) == 0
