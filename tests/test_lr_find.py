"""minigrad.lr_find: the learning-rate range test, its suggestions, and exact restoration."""
import math

import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad import Tensor, nn, optim
from minigrad.data import DataLoader, StandardScaler, load_digits
from minigrad.lr_finder import LRFinderResult, suggest_minimum, suggest_steep, suggest_valley
from minigrad.train import fit


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X = StandardScaler().fit(X[:500]).transform(X[:500])
    return X, y[:500]


def make_run(digits, flat=False, seed=0):
    X, y = digits
    model = nn.MLP([64, 32, 10], rng=seed)
    if flat:
        optim.flatten_parameters(model)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(X, y, batch_size=32, shuffle=True, rng=seed)
    return model, opt, loader


def _train_steps(model, opt, loader, n):
    for i, (X, y) in enumerate(loader):
        if i == n:
            break
        loss = F.cross_entropy(model(Tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _assert_same_optimizer_state(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for k in a["state"][i]:
            assert np.array_equal(a["state"][i][k], b["state"][i][k])


@pytest.mark.parametrize("flat", [False, True])
def test_lr_find_restores_model_optimizer_and_loader_exactly(digits, flat):
    model, opt, loader = make_run(digits, flat=flat)
    _train_steps(model, opt, loader, 5)                  # the optimizer has state (Adam moments, step)
    model_before = model.state_dict()
    opt_before = opt.state_dict()
    grads_before = [p.grad.copy() for p in model.parameters()]
    loader_before = loader.state_dict()
    model.eval()
    res = minigrad.lr_find(model, F.cross_entropy, opt, loader, num_iter=40)
    assert len(res.lrs) > 5                              # it did train
    for k, v in model.state_dict().items():
        assert np.array_equal(v, model_before[k])
    _assert_same_optimizer_state(opt.state_dict(), opt_before)
    assert all(np.array_equal(p.grad, g) for p, g in zip(model.parameters(), grads_before))
    assert loader.state_dict() == loader_before
    assert not model.training                            # mode restored too


def test_training_after_lr_find_is_unchanged(digits):
    """Bit-for-bit: fit after lr_find gives the same weights as fit without it."""
    ref_model, ref_opt, ref_loader = make_run(digits, flat=True)
    fit(ref_model, F.cross_entropy, ref_opt, ref_loader, 2, progress=False)
    model, opt, loader = make_run(digits, flat=True)
    minigrad.lr_find(model, F.cross_entropy, opt, loader, num_iter=30)
    fit(model, F.cross_entropy, opt, loader, 2, progress=False)
    for a, b in zip(ref_model.state_dict().values(), model.state_dict().values()):
        assert np.array_equal(a, b)


def test_lr_find_curve_and_suggestions(digits):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    model, opt, loader = make_run(digits)
    res = minigrad.lr_find(model, F.cross_entropy, opt, loader, start_lr=1e-6, end_lr=10.0, num_iter=60)
    assert isinstance(res, LRFinderResult)
    n = len(res.lrs)
    assert res.diverged and 10 < n < 60                 # lr = 10 blows Adam up: early stop
    expected = 1e-6 * (10.0 / 1e-6) ** (np.arange(n) / 59)
    np.testing.assert_allclose(res.lrs, expected, rtol=1e-12)
    # debiased exponential moving average of the raw losses (beta = 0.98)
    avg, smooth = 0.0, []
    for i, v in enumerate(res.raw_losses):
        avg = 0.98 * avg + 0.02 * v
        smooth.append(avg / (1 - 0.98 ** (i + 1)))
    np.testing.assert_allclose(res.losses, smooth, rtol=1e-12)
    assert res.losses[-1] > 4 * np.min(res.losses[:-1])  # the divergence rule fired at the last step
    assert set(res.suggestions) == {"valley", "steep", "minimum"}
    for name, lr in res.suggestions.items():
        assert 1e-6 <= lr <= 10.0, name
    assert res.suggestion == res.suggestions["valley"]
    # training at the suggested rate works
    model2, _, loader2 = make_run(digits)
    opt2 = optim.Adam(model2.parameters(), lr=res.suggestions["valley"])
    h = fit(model2, F.cross_entropy, opt2, loader2, 3, progress=False)
    assert h.epochs["train_loss"][-1] < 0.5 * h.epochs["train_loss"][0]
    fig = res.plot()
    assert isinstance(fig, Figure)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_loader_is_cycled_and_linear_mode(digits):
    X, y = digits
    model, opt, _ = make_run(digits)
    small = DataLoader(X[:64], y[:64], batch_size=32)     # 2 batches, 30 iterations
    res = minigrad.lr_find(model, F.cross_entropy, opt, small, start_lr=1e-5, end_lr=1e-3, num_iter=30,
                           step_mode="linear", stop_div=False)
    assert len(res.lrs) == 30 and not res.diverged
    np.testing.assert_allclose(res.lrs, np.linspace(1e-5, 1e-3, 30), rtol=1e-12)


def test_suggestion_rules_on_known_curves():
    lrs = np.logspace(-6, 0, 61)
    x = np.log10(lrs)
    losses = 2.0 - np.tanh(x + 3.0)                      # falls fastest at lr = 1e-3
    assert suggest_steep(lrs, losses)[0] == pytest.approx(1e-3, rel=0.3)
    bowl = (x + 2.0) ** 2                                # minimum at lr = 1e-2
    assert suggest_minimum(lrs, bowl)[0] == pytest.approx(1e-3, rel=1e-9)
    # valley (fastai's arithmetic): the longest decreasing run has 41 points and ends at index 40;
    # start = 40 - 41 = -1, sections = 41/3, idx = -1 + int(13.67) + int(6.83) = 18
    valley_lr, _ = suggest_valley(lrs, bowl)
    assert valley_lr == lrs[18]
    noisy = bowl + 0.01 * np.random.default_rng(0).standard_normal(61)
    assert lrs[10] < suggest_valley(lrs, noisy)[0] < lrs[40]


def test_lr_find_validates_arguments(digits):
    model, opt, loader = make_run(digits)
    before = model.state_dict()
    with pytest.raises(ValueError, match="end_lr"):
        minigrad.lr_find(model, F.cross_entropy, opt, loader, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="start_lr"):
        minigrad.lr_find(model, F.cross_entropy, opt, loader, start_lr=0.0)
    with pytest.raises(ValueError, match="num_iter"):
        minigrad.lr_find(model, F.cross_entropy, opt, loader, num_iter=1)
    with pytest.raises(ValueError, match="step_mode"):
        minigrad.lr_find(model, F.cross_entropy, opt, loader, step_mode="log")
    with pytest.raises(ValueError, match="no batch"):
        minigrad.lr_find(model, F.cross_entropy, opt, [], num_iter=5)
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())


def test_nan_loss_stops_the_sweep(digits):
    model, opt, loader = make_run(digits)
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = F.cross_entropy(out, y)
        return loss * math.nan if calls["n"] == 8 else loss

    res = minigrad.lr_find(model, loss_fn, opt, loader, num_iter=50)
    assert len(res.lrs) == 8 and res.diverged and math.isnan(res.losses[-1])
    assert all(math.isfinite(v) for v in res.suggestions.values())
