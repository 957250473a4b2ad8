"""minigrad.train: the fit loop, History, per-step statistics, schedulers, checkpoints/resume."""
import math
import os

import numpy as np
import pytest

import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, load_digits
from minigrad.optim import lr_scheduler
from minigrad.train import (Callback, EarlyStopping, History, ModelCheckpoint, accuracy, evaluate, fit,
                            load_checkpoint, save_checkpoint)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X = StandardScaler().fit(X[:600]).transform(X)
    return X[:600], y[:600], X[600:800], y[600:800]


def make_run(digits, seed=0, batch_size=32, flat=False, dropout=False, lr=1e-2):
    Xtr, ytr, Xva, yva = digits
    if dropout:
        model = nn.Sequential(nn.Linear(64, 32, rng=seed), nn.ReLU(), nn.Dropout(0.2, rng=seed + 1),
                              nn.Linear(32, 10, rng=seed + 2))
    else:
        model = nn.MLP([64, 32, 10], rng=seed)
    if flat:
        optim.flatten_parameters(model)
    opt = optim.Adam(model.parameters(), lr=lr)
    train = DataLoader(Xtr, ytr, batch_size=batch_size, shuffle=True, rng=seed)
    val = DataLoader(Xva, yva, batch_size=100)
    return model, opt, train, val


# ---------------------------------------------------------------------------------------- History
def test_history_contract_and_csv(tmp_path):
    h = History(["accuracy"])
    h.record_step(1, 1, 2.0, 0.1, 3.0, 1e-3)
    h.record_step(2, 1, 1.5, 0.1, 2.0, 2e-3)
    h.record_epoch(1, train_loss=1.75, time=0.5, metrics={"train_accuracy": 0.5})
    assert list(h.steps) == ["step", "epoch", "loss", "lr", "grad_norm", "update_ratio"]
    assert list(h.epochs) == ["epoch", "train_loss", "val_loss", "time", "train_accuracy", "val_accuracy"]
    assert len({len(v) for v in h.steps.values()}) == 1 and h.num_steps == 2
    assert math.isnan(h.epochs["val_loss"][0]) and math.isnan(h.epochs["val_accuracy"][0])
    text = h.to_csv()
    assert text.splitlines()[0] == "epoch,train_loss,val_loss,time,train_accuracy,val_accuracy"
    assert text.splitlines()[1].startswith("1,1.75,nan,0.5,0.5,nan")
    assert h.to_csv(which="steps").splitlines()[2] == "2,1,1.5,0.1,2.0,0.002"
    path = tmp_path / "h.csv"
    h.to_csv(path)
    assert path.read_text() == text
    with pytest.raises(KeyError, match="unknown metric"):
        h.record_epoch(2, 1.0, metrics={"val_f1": 1.0})
    with pytest.raises(ValueError, match="which"):
        h.to_csv(which="batches")
    h2 = History()
    h2.load_state_dict(h.state_dict())
    assert h2.to_csv() == text and h2.steps == h.steps
    bad = h.state_dict()
    bad["steps"]["loss"].append(1.0)
    with pytest.raises(ValueError, match="different lengths"):
        h2.load_state_dict(bad)
    assert h2.steps == h.steps                      # a rejected state changes nothing


def test_history_plot_returns_figure(digits):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    model, opt, train, val = make_run(digits)
    h = fit(model, F.cross_entropy, opt, train, 2, val_loader=val, metrics=[accuracy], progress=False)
    fig = h.plot()
    assert isinstance(fig, Figure) and len(fig.axes) >= 4
    fig2 = History().plot()                         # an empty history still plots
    assert isinstance(fig2, Figure)
    import matplotlib.pyplot as plt
    plt.close("all")


# ---------------------------------------------------------------------------------------- fit
def test_fit_learns_and_records_everything(digits):
    model, opt, train, val = make_run(digits)
    h = fit(model, F.cross_entropy, opt, train, 3, val_loader=val, metrics=[accuracy], progress=False)
    n = 3 * len(train)
    assert h.num_steps == n and all(len(v) == n for v in h.steps.values())
    assert h.steps["step"] == list(range(1, n + 1))
    assert h.steps["epoch"] == [e for e in (1, 2, 3) for _ in range(len(train))]
    assert h.steps["lr"] == [1e-2] * n
    assert all(g > 0 and math.isfinite(g) for g in h.steps["grad_norm"])
    assert all(0 < r < 1 for r in h.steps["update_ratio"])
    assert h.epochs["epoch"] == [1, 2, 3] and all(t > 0 for t in h.epochs["time"])
    assert h.epochs["val_loss"][-1] < h.epochs["val_loss"][0]
    assert h.epochs["val_accuracy"][-1] > 0.85
    # the epoch train loss is the sample-weighted mean of the batch losses (last batch is smaller)
    sizes = [32] * (len(train) - 1) + [600 - 32 * (len(train) - 1)]
    first = h.steps["loss"][:len(train)]
    assert h.epochs["train_loss"][0] == pytest.approx(np.dot(first, sizes) / 600, rel=1e-12)
    # validation numbers equal a separate evaluate() of the final model
    ev = evaluate(model, F.cross_entropy, val, metrics=[accuracy])
    assert ev["loss"] == pytest.approx(h.epochs["val_loss"][-1], rel=1e-12)
    assert ev["accuracy"] == h.epochs["val_accuracy"][-1]
    assert model.training                          # evaluate restored training mode


def test_fit_matches_a_hand_written_loop(digits):
    """fit's arithmetic is exactly the textbook loop: same parameters bit for bit."""
    model_a, opt_a, train_a, _ = make_run(digits, flat=True)
    fit(model_a, F.cross_entropy, opt_a, train_a, 2, progress=False)
    model_b, opt_b, train_b, _ = make_run(digits, flat=True)
    from minigrad import Tensor
    for _ in range(2):
        for X, y in train_b:
            loss = F.cross_entropy(model_b(Tensor(X)), y)
            opt_b.zero_grad()
            loss.backward()
            opt_b.step()
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()):
        assert np.array_equal(a, b)


def test_grad_norm_and_update_ratio_are_exact(digits):
    """Recompute ||g|| and ||Δθ||/||θ|| of every step independently with numpy."""
    for flat in (False, True):
        model, opt, train, _ = make_run(digits, flat=flat)
        seen = []

        class Record(Callback):
            def on_train_begin(self, trainer):
                self.prev = [p.data.copy() for p in model.parameters()]

            def on_batch_end(self, trainer, step, logs):
                g = np.concatenate([p.grad.ravel() for p in model.parameters()])
                new = [p.data.copy() for p in model.parameters()]
                d = np.concatenate([(a - b).ravel() for a, b in zip(new, self.prev)])
                th = np.concatenate([b.ravel() for b in self.prev])
                seen.append((np.linalg.norm(g), np.linalg.norm(d) / np.linalg.norm(th)))
                self.prev = new

        h = fit(model, F.cross_entropy, opt, train, 2, callbacks=[Record()], progress=False)
        expected = np.array(seen)
        np.testing.assert_allclose(h.steps["grad_norm"], expected[:, 0], rtol=1e-12)
        np.testing.assert_allclose(h.steps["update_ratio"], expected[:, 1], rtol=1e-12)


def test_flat_and_per_tensor_statistics_agree(digits):
    hs = []
    for flat in (False, True):
        model, opt, train, _ = make_run(digits, flat=flat)
        hs.append(fit(model, F.cross_entropy, opt, train, 1, progress=False))
    np.testing.assert_allclose(hs[0].steps["grad_norm"], hs[1].steps["grad_norm"], rtol=1e-12)
    np.testing.assert_allclose(hs[0].steps["update_ratio"], hs[1].steps["update_ratio"], rtol=1e-12)
    assert hs[0].steps["loss"] == hs[1].steps["loss"]


def test_fit_statistics_equal_measure_step_in_a_hand_written_loop(digits):
    """fit's grad_norm / update_ratio columns are exactly what measure_step returns in the textbook loop."""
    from minigrad import Tensor
    for flat in (False, True):
        model_a, opt_a, train_a, _ = make_run(digits, flat=flat)
        h = fit(model_a, F.cross_entropy, opt_a, train_a, 1, progress=False)
        model_b, opt_b, train_b, _ = make_run(digits, flat=flat)
        got = []
        for X, y in train_b:
            loss = F.cross_entropy(model_b(Tensor(X)), y)
            opt_b.zero_grad()
            loss.backward()
            stats = optim.measure_step(opt_b)[1]
            got.append((stats.grad_norm, stats.update_ratio))
        assert h.steps["grad_norm"] == [g for g, _ in got]          # exact
        assert h.steps["update_ratio"] == [r for _, r in got]
        assert opt_a._sums is None and opt_b._sums is None           # nothing left switched on


def test_progress_bar_in_terminal_and_off(digits, capsys):
    model, opt, train, _ = make_run(digits)
    fit(model, F.cross_entropy, opt, train, 1, progress=False)
    assert capsys.readouterr().err == ""
    fit(model, F.cross_entropy, opt, train, 1, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and f"{len(train)}/{len(train)}" in err and "train_loss=" in err


def test_fit_rejects_bad_arguments(digits):
    model, opt, train, _ = make_run(digits)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, F.cross_entropy, opt, train, -1)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, F.cross_entropy, opt, train, 1, callbacks=[object()])
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(model, F.cross_entropy, opt, train, 1, scheduler_interval="sometimes")
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, F.cross_entropy, "adam", train, 1)
    with pytest.raises(ValueError, match="duplicate metric"):
        fit(model, F.cross_entropy, opt, train, 1, metrics=[accuracy, accuracy])


# ---------------------------------------------------------------------------------------- schedulers
def test_epoch_scheduler_is_stepped_per_epoch(digits):
    model, opt, train, _ = make_run(digits)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, F.cross_entropy, opt, train, 3, scheduler=sched, progress=False)
    k = len(train)
    assert h.steps["lr"] == [1e-2] * k + [5e-3] * k + [2.5e-3] * k


def test_one_cycle_is_stepped_per_batch_like_torch(digits):
    torch = pytest.importorskip("torch")
    model, opt, train, _ = make_run(digits)
    total = 2 * len(train)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=total)
    h = fit(model, F.cross_entropy, opt, train, 2, scheduler=sched, progress=False)
    w = torch.zeros(1, requires_grad=True)
    topt = torch.optim.Adam([w], lr=1e-2)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=total)
    expected = []
    for _ in range(total):
        expected.append(topt.param_groups[0]["lr"])
        topt.step()
        tsched.step()
    np.testing.assert_allclose(h.steps["lr"], expected, rtol=1e-12)


def test_plateau_gets_the_validation_loss(digits):
    model, opt, train, val = make_run(digits)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    calls = []
    original = sched.step

    def spy(metrics, *a, **k):
        calls.append(metrics)
        return original(metrics, *a, **k)

    sched.step = spy
    h = fit(model, F.cross_entropy, opt, train, 2, val_loader=val, scheduler=sched, progress=False)
    assert calls == h.epochs["val_loss"]
    calls.clear()
    h = fit(model, F.cross_entropy, opt, train, 1, scheduler=sched, progress=False)
    assert calls == h.epochs["train_loss"]             # no validation: the train loss


# ---------------------------------------------------------------------------------------- checkpoints
def test_save_load_checkpoint_round_trip(tmp_path):
    big = 2 ** 100 + 7                                  # PCG64 states are 128-bit integers
    state = {"w": np.arange(6.0).reshape(2, 3), "f32": np.ones(2, np.float32), "step": 7,
             "betas": (0.9, 0.999), "nested": {0: {"s": np.float64(2.5)}, "k": [1, None, True, "x"]},
             "big": big, "nan": math.nan, "inf": -math.inf, "empty": {}}
    path = tmp_path / "c.npz"
    save_checkpoint(path, state)
    back = load_checkpoint(path)
    assert back["big"] == big and back["betas"] == (0.9, 0.999) and back["step"] == 7
    assert np.array_equal(back["w"], state["w"]) and back["f32"].dtype == np.float32
    assert back["nested"][0]["s"] == 2.5 and isinstance(back["nested"][0]["s"], np.float64)
    assert back["nested"]["k"] == [1, None, True, "x"] and back["empty"] == {}
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf
    with np.load(path, allow_pickle=False) as npz:     # plain npz, no pickle needed
        assert "__tree__" in npz.files
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(tmp_path / "bad.npz", {"f": lambda: 1})
    assert not (tmp_path / "bad.npz").exists()


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save_checkpoint(path, {"x": np.ones(3)})
    before = path.read_bytes()

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"x": np.zeros(3)})
    assert path.read_bytes() == before                 # the old checkpoint survives intact
    assert os.listdir(tmp_path) == ["c.npz"]           # and no temporary file is left behind


@pytest.mark.parametrize("with_scheduler", [False, True])
def test_resume_continues_bit_identically(digits, tmp_path, with_scheduler):
    def run(epochs, callbacks=(), resume_from=None, seed=0):
        model, opt, train, val = make_run(digits, seed=seed, dropout=True)
        if resume_from is not None:           # fresh objects with a different init: all must be restored
            model, opt, train, val = make_run(digits, seed=seed + 10, dropout=True)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=4 * len(train)) if with_scheduler else None
        h = fit(model, F.cross_entropy, opt, train, epochs, val_loader=val, scheduler=sched,
                metrics=[accuracy], callbacks=list(callbacks) + [EarlyStopping(patience=10)],
                progress=False, resume_from=resume_from)
        return model, opt, h

    model_a, opt_a, h_a = run(4)
    ckpt = tmp_path / "ckpt.npz"
    run(2, callbacks=[ModelCheckpoint(ckpt)])
    model_b, opt_b, h_b = run(4, resume_from=ckpt)
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()):
        assert np.array_equal(a, b)
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    for i in sa:
        for k in sa[i]:
            assert np.array_equal(sa[i][k], sb[i][k])
    for key in ("step", "epoch", "loss", "lr", "grad_norm", "update_ratio"):
        assert h_a.steps[key] == h_b.steps[key], key
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        assert h_a.epochs[key] == h_b.epochs[key], key
    assert [f for f in os.listdir(tmp_path)] == ["ckpt.npz"]


def test_resume_rejects_a_mismatched_run(digits, tmp_path):
    model, opt, train, val = make_run(digits)
    ckpt = tmp_path / "c.npz"
    fit(model, F.cross_entropy, opt, train, 1, callbacks=[ModelCheckpoint(ckpt)], progress=False)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.raises(ValueError, match="scheduler"):
        fit(model, F.cross_entropy, opt, train, 2, scheduler=sched, resume_from=ckpt, progress=False)
    with pytest.raises(ValueError, match="metrics"):
        fit(model, F.cross_entropy, opt, train, 2, metrics=[accuracy], resume_from=ckpt, progress=False)


def test_resume_from_an_incompatible_checkpoint_changes_nothing(digits, tmp_path):
    model, opt, train, _ = make_run(digits)
    ckpt = tmp_path / "c.npz"
    fit(model, F.cross_entropy, opt, train, 1, callbacks=[ModelCheckpoint(ckpt)], progress=False)
    other = nn.MLP([64, 32, 10], rng=5)                      # same shapes: the model part loads fine,
    other_opt = optim.SGD([{"params": list(other.parameters())[:2]},     # the optimizer part does not
                           {"params": list(other.parameters())[2:]}], lr=0.1)
    before = other.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        fit(other, F.cross_entropy, other_opt, train, 2, resume_from=ckpt, progress=False)
    for k, v in other.state_dict().items():
        assert np.array_equal(v, before[k])


def test_track_stats_off_records_nan(digits):
    model, opt, train, _ = make_run(digits)
    h = fit(model, F.cross_entropy, opt, train, 1, progress=False, track_stats=False)
    assert len(h.steps["grad_norm"]) == len(train)
    assert all(math.isnan(v) for v in h.steps["grad_norm"] + h.steps["update_ratio"])
