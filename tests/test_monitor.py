"""Tests for minigrad.monitor: diagnose() on synthetic histories and on real minigrad runs."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigrad import functional as F, nn
from minigrad.data import DataLoader, StandardScaler, load_breast_cancer, make_linear_regression, train_test_split
from minigrad.monitor import KINDS, DiagnosticsCallback, Finding, Findings, Thresholds, diagnose
from minigrad.optim import SGD
from minigrad.train import Callback, History, fit


# ----------------------------------------------------------------------------- synthetic histories
def make_history(loss, steps_per_epoch=1, grad_norm=None, update_ratio=None, lr=None, val_loss=None):
    """A real History from per-step arrays; epoch rows are the mean step loss of each epoch."""
    loss = np.asarray(loss, dtype=float)
    n = len(loss)
    gn = np.ones(n) if grad_norm is None else np.broadcast_to(np.asarray(grad_norm, float), (n,))
    ur = np.full(n, 1e-3) if update_ratio is None else np.broadcast_to(np.asarray(update_ratio, float), (n,))
    lrs = np.full(n, 0.1) if lr is None else np.broadcast_to(np.asarray(lr, float), (n,))
    h = History()
    for i in range(n):
        h.record_step(i + 1, i // steps_per_epoch + 1, float(loss[i]), float(lrs[i]), float(gn[i]), float(ur[i]))
    n_epochs = math.ceil(n / steps_per_epoch)
    for e in range(n_epochs):
        seg = loss[e * steps_per_epoch:(e + 1) * steps_per_epoch]
        v = math.nan if val_loss is None else float(val_loss[e])
        h.record_epoch(e + 1, train_loss=float(np.mean(seg)), val_loss=v, time=0.01)
    return h


def healthy_run(seed, epochs=20, spe=30, noise=0.3, floor=0.05, L0=2.3, tau=150.0):
    """Exponential decay to a floor with multiplicative mini-batch noise, validation just above train."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs * spe)
    clean = floor + (L0 - floor) * np.exp(-t / tau)
    loss = clean * rng.lognormal(0.0, noise, size=t.size)
    gn = 3.0 * np.sqrt(clean / L0) * rng.lognormal(0, 0.3, size=t.size)
    ur = 2e-3 * np.sqrt(clean / L0) + 2e-4
    epoch_clean = clean.reshape(epochs, spe).mean(axis=1)
    val = epoch_clean * 1.1 * rng.lognormal(0, 0.02, size=epochs)
    return make_history(loss, spe, gn, ur, val_loss=val)


def only(findings, kind):
    got = [f for f in findings if f.kind == kind]
    assert len(got) == 1, f"expected one {kind} finding, got {findings.kinds()}:\n{findings}"
    return got[0]


# ----------------------------------------------------------------------------- healthy: no findings
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), noise=st.floats(0.0, 0.6), spe=st.sampled_from([1, 5, 30]),
       tau=st.floats(20.0, 200.0))
def test_healthy_runs_have_no_findings(seed, noise, spe, tau):
    h = healthy_run(seed, epochs=max(6, 600 // spe // 5), spe=spe, noise=noise if spe > 1 else 0.0, tau=tau)
    findings = diagnose(h)
    assert findings == [], str(findings)


def test_converged_run_is_only_an_info_plateau():
    h = healthy_run(0, epochs=40, spe=10, tau=20.0)
    assert diagnose(h) == []
    info = diagnose(h, min_severity="info")
    f = only(info, "plateau")
    assert f.severity == "info" and "converged" in f.message
    assert f.evidence["progress"] > 0.9


def test_run_converging_to_machine_precision_is_healthy():
    # noise-free least squares: the loss and the gradients go to ~1e-30; relative changes
    # are pure rounding noise there and must not look like divergence, oscillation or vanishing
    t = np.arange(200)
    loss = np.maximum(np.exp(-0.4 * t), 1e-30) * np.random.default_rng(1).uniform(0.5, 2.0, t.size)
    gn = np.sqrt(loss)
    h = make_history(loss, 1, gn, update_ratio=np.maximum(1e-3 * np.exp(-0.2 * t), 1e-16))
    assert diagnose(h) == []


def test_warmup_is_not_a_plateau():
    # loss flat while the learning rate ramps up from ~0: a schedule doing its job
    n = 12
    lr = np.linspace(1e-5, 0.1, n)
    h = make_history(np.full(n, 2.3) - np.linspace(0, 0.01, n), 1, update_ratio=lr / 100, lr=lr)
    assert "plateau" not in diagnose(h).kinds()
    # the same losses at a constant tiny learning rate are flagged
    h2 = make_history(np.full(n, 2.3) - np.linspace(0, 0.01, n), 1, update_ratio=1e-7, lr=1e-5)
    assert only(diagnose(h2), "plateau").severity == "warning"


def test_short_or_empty_histories_are_fine():
    assert diagnose(History()) == []
    assert diagnose(make_history([2.3, 2.0])) == []
    assert str(diagnose(History())) == "No problems found."


# ----------------------------------------------------------------------------- divergence
def test_nan_loss_is_critical_divergence_at_its_step():
    loss = [2.3, 1.9, 1.5, 1.2, 5.0, 80.0, 3e4, np.inf, np.nan, np.nan]
    f = only(diagnose(make_history(loss, 2)), "divergence")
    assert f.severity == "critical" and f.step == 8 and f.epoch == 4
    assert f.evidence["last_finite_loss"] == 3e4 and f.evidence["best_loss"] == 1.2
    assert "Lower the learning rate" in f.action
    assert "inf" in f.message


def test_finite_blow_up_is_divergence_not_oscillation():
    loss = np.r_[np.linspace(2.3, 0.5, 20), 0.5 * 1.5 ** np.arange(1, 30)]
    found = diagnose(make_history(loss, 1))
    f = only(found, "divergence")
    assert f.severity == "critical" and not f.evidence["recovered"]
    assert 21 <= f.step <= 26                       # shortly after the loss turned (median of 10 lags)
    assert "oscillation" not in found.kinds()       # a steady climb is not oscillation
    assert "Lower the learning rate" in f.action and "increase" not in f.action.lower()


def test_loss_spike_that_recovers_is_a_warning():
    rng = np.random.default_rng(0)
    loss = np.r_[np.linspace(2.0, 0.3, 60), np.full(15, 4.0), np.linspace(0.35, 0.25, 45)]
    loss = loss * rng.lognormal(0, 0.05, loss.size)
    f = only(diagnose(make_history(loss, 10)), "divergence")
    assert f.severity == "warning" and f.evidence["recovered"] and "spike" in f.message


def test_mini_batch_noise_near_convergence_is_not_divergence():
    # heavy-tailed batch losses around a small converged value: the median of 10 can be 3x its
    # running minimum, but the rise is a tiny fraction of the progress made
    rng = np.random.default_rng(3)
    loss = np.r_[np.linspace(2.3, 0.02, 100), 0.02 * rng.exponential(1.0, 2000)]
    assert "divergence" not in diagnose(make_history(loss, 50)).kinds()


# ----------------------------------------------------------------------------- oscillation
def test_bouncing_full_batch_loss_is_oscillation():
    loss = np.r_[np.linspace(2.3, 1.0, 5), np.tile([1.0, 1.6, 0.9, 1.7], 5)]
    f = only(diagnose(make_history(loss, 1)), "oscillation")
    assert f.severity == "warning" and f.evidence["rises"] >= 2 and f.evidence["falls"] >= 2
    assert "Lower the learning rate" in f.action and "Do not raise" in f.action
    assert f.step == 7                                   # the first rise: 1.0 -> 1.6 at step 7


def test_ripples_on_a_falling_loss_are_info():
    t = np.arange(40)
    loss = 2.0 * np.exp(-t / 8) * (1 + 0.3 * (-1) ** t)     # falls fast, but zigzags (momentum)
    assert diagnose(make_history(loss, 1)) == []
    f = only(diagnose(make_history(loss, 1), min_severity="info"), "oscillation")
    assert f.severity == "info" and "ripples" in f.message


def test_epoch_means_within_batch_noise_are_not_oscillation():
    # epoch means wobble by ~10% but each epoch's batches are so noisy that this is chance
    rng = np.random.default_rng(5)
    loss = 0.5 * rng.lognormal(0, 1.0, size=20 * 8)
    h = make_history(np.r_[np.linspace(2.3, 0.6, 40), loss], 8)
    assert "oscillation" not in diagnose(h).kinds()


# ----------------------------------------------------------------------------- plateau
def test_plateau_with_tiny_updates_says_raise_the_learning_rate():
    n = 200
    loss = 2.3 - 0.02 * np.arange(n) / n                       # 1% progress in 20 epochs
    h = make_history(loss, 10, grad_norm=0.5, update_ratio=3e-6, lr=1e-5)
    f = only(diagnose(h), "plateau")
    assert f.severity == "warning" and f.epoch == 1 and f.step == 1
    assert "too low" in f.action and "raise" in f.action and "lower" not in f.action.lower()
    assert f.evidence["progress"] < 0.02 and f.evidence["update_ratio"] == pytest.approx(3e-6)


def test_stuck_and_swinging_with_large_updates_says_lower_it():
    loss = np.tile([0.70, 0.69, 0.80, 0.71], 5)
    h = make_history(loss, 1, update_ratio=0.05, lr=3.0)
    f = only(diagnose(h, checks=["plateau"]), "plateau")
    assert "too high" in f.action and "lower" in f.action


def test_stuck_with_normal_updates_points_at_data_and_model():
    h = make_history(np.full(30, 0.693) + 1e-4 * np.sin(np.arange(30)), 1, update_ratio=2e-3)
    f = only(diagnose(h), "plateau")
    assert "data" in f.action and "too low" not in f.action and "too high" not in f.action


def test_plateau_threshold_keywords_change_the_verdict():
    n = 20
    loss = 2.3 * (1 - 0.15 * np.arange(n) / n)               # 15% progress
    h = make_history(loss, 1, update_ratio=1e-6)
    assert "plateau" not in diagnose(h).kinds()
    assert "plateau" in diagnose(h, min_progress=0.5).kinds()


# ----------------------------------------------------------------------------- gradients
def test_exploding_gradient_spike_and_inf():
    gn = np.r_[np.full(30, 2.0), 900.0, np.full(9, 2.0)]
    f = only(diagnose(make_history(np.linspace(2, 1, 40), 4, grad_norm=gn)), "exploding_gradients")
    assert f.severity == "warning" and f.step == 31 and f.evidence["ratio"] == pytest.approx(450)
    assert "clip" in f.action and "Lower the learning rate" in f.action
    gn[35] = np.inf
    h = make_history(np.linspace(2, 1, 40), 4, grad_norm=np.r_[np.full(30, 2.0), np.full(5, 3.0), np.inf,
                                                               np.full(4, 3.0)])
    f = only(diagnose(h), "exploding_gradients")
    assert f.severity == "critical" and f.step == 36


def test_growing_but_moderate_gradients_are_fine():
    gn = np.geomspace(1.0, 20.0, 100)          # 20x growth, e.g. while the weights grow
    assert "exploding_gradients" not in diagnose(make_history(np.linspace(2, 0.5, 100), 10, grad_norm=gn)).kinds()


def test_vanishing_gradients_while_the_loss_is_stuck():
    n = 100
    gn = np.r_[np.full(10, 1.0), np.full(n - 10, 1e-9)]         # e.g. every ReLU died
    h = make_history(np.full(n, 2.30) - 1e-3 * np.arange(n) / n, 10, grad_norm=gn, update_ratio=1e-10)
    f = only(diagnose(h), "vanishing_gradients")
    assert f.step == 11 and f.evidence["grad_norm"] == pytest.approx(1e-9)
    assert "activations" in f.action and "initialization" in f.action


def test_small_gradients_of_a_converged_run_are_not_vanishing():
    n = 100
    gn = np.geomspace(1.0, 1e-9, n)
    loss = 2.3 * np.exp(-np.arange(n) / 10) + 1e-3
    assert "vanishing_gradients" not in diagnose(make_history(loss, 5, grad_norm=gn), min_severity="info").kinds()


# ----------------------------------------------------------------------------- overfitting
def test_rising_validation_loss_is_overfitting():
    epochs = 20
    train = 1.0 * np.exp(-np.arange(epochs) / 5) + 0.01
    val = np.r_[np.linspace(1.0, 0.30, 8), np.linspace(0.31, 0.60, 12)]   # best at epoch 8
    h = make_history(train, 1, val_loss=val)
    f = only(diagnose(h), "overfitting")
    assert f.severity == "warning" and f.evidence["best_epoch"] == 8 and f.epoch == 9
    assert "EarlyStopping" in f.action and "regularization" in f.action


def test_noisy_validation_without_train_progress_is_not_overfitting():
    rng = np.random.default_rng(0)
    train = np.r_[np.linspace(1.0, 0.5, 5), 0.5 + 0.01 * rng.standard_normal(15)]
    val = np.r_[np.linspace(1.0, 0.55, 5), 0.55 * rng.lognormal(0, 0.3, 15)]
    assert "overfitting" not in diagnose(make_history(train, 1, val_loss=val)).kinds()


def test_large_stable_gap_is_info():
    train = np.linspace(1.0, 0.1, 15)
    val = np.linspace(1.2, 0.5, 15)
    assert diagnose(make_history(train, 1, val_loss=val)) == []
    f = only(diagnose(make_history(train, 1, val_loss=val), min_severity="info"), "overfitting")
    assert f.severity == "info" and f.evidence["val_loss"] == pytest.approx(0.5)


# ----------------------------------------------------------------------------- API
def test_finding_str_and_findings_report():
    f = Finding("plateau", "warning", "The loss is flat.", "Raise the learning rate.", 12, 2,
                {"progress": 0.01234567, "lr": 1e-5})
    text = str(f)
    assert text.splitlines()[0] == "[WARNING] plateau from epoch 2 (step 12)"
    assert "Diagnosis: The loss is flat." in text and "Action:    Raise the learning rate." in text
    assert "progress=0.01235" in text and "lr=1e-05" in text
    report = str(Findings([f, f]))
    assert report.count("[WARNING]") == 2
    with pytest.raises(ValueError, match="kind must be one of"):
        Finding("weird", "warning", "", "")
    with pytest.raises(ValueError, match="severity must be one of"):
        Finding("plateau", "bad", "", "")


def test_findings_are_sorted_by_severity_then_time():
    loss = np.r_[np.linspace(2.3, 2.29, 30), np.nan]
    gn = np.r_[np.full(20, 1.0), 5000.0, np.full(10, 1.0)]
    found = diagnose(make_history(loss, 1, grad_norm=gn), min_severity="info")
    assert found.kinds()[0] == "divergence" and found[0].severity == "critical"
    ranks = [("info", "warning", "critical").index(f.severity) for f in found]
    assert ranks == sorted(ranks, reverse=True)


def test_diagnose_arguments_are_validated():
    h = healthy_run(0, epochs=6)
    with pytest.raises(TypeError, match=r"unknown threshold\(s\) \['plateau_windw'\]; valid thresholds are"):
        diagnose(h, plateau_windw=3)
    with pytest.raises(ValueError, match="plateau_window must be a positive int, got 0"):
        diagnose(h, plateau_window=0)
    with pytest.raises(ValueError, match="min_severity|severity must be one of"):
        diagnose(h, min_severity="loud")
    with pytest.raises(ValueError, match=r"unknown check\(s\) \['divergance'\]"):
        diagnose(h, checks=["divergance"])
    with pytest.raises(TypeError, match="expected a minigrad.train.History"):
        diagnose([1.0, 2.0])
    assert set(KINDS) == {"divergence", "oscillation", "plateau", "exploding_gradients",
                          "vanishing_gradients", "overfitting"}
    assert Thresholds().plateau_window == 5


def test_diagnose_reads_a_state_dict_and_a_subset_of_checks():
    loss = [2.3, 1.9, 1.5, np.nan]
    h = make_history(loss, 1, grad_norm=[1, 1, 1, np.nan])
    assert diagnose(h.state_dict()).kinds() == diagnose(h).kinds() == ["divergence", "exploding_gradients"]
    assert diagnose(h, checks="exploding_gradients").kinds() == ["exploding_gradients"]


def test_epoch_table_only_history():
    # a hand-written loop that records only epochs: the epoch train loss is the curve
    h = History()
    train = np.r_[np.linspace(2.3, 0.2, 10), np.linspace(0.19, 0.05, 10)]
    val = np.r_[np.linspace(2.3, 0.4, 10), np.linspace(0.45, 0.9, 10)]
    for e in range(20):
        h.record_epoch(e + 1, train_loss=train[e], val_loss=val[e])
    f = only(diagnose(h), "overfitting")
    assert f.evidence["best_epoch"] == 10 and f.step is None
    flat = History()
    for e in range(10):
        flat.record_epoch(e + 1, train_loss=1.0 - 1e-4 * e)
    assert diagnose(flat).kinds() == ["plateau"]


# ----------------------------------------------------------------------------- real minigrad runs
@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer()
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, rng=0, stratify=y)
    sc = StandardScaler().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_va), y_tr, y_va


def train(data, lr, seed, epochs=20, callbacks=None, momentum=0.0):
    X_tr, X_va, y_tr, y_va = data
    model = nn.MLP([X_tr.shape[1], 16, 2], rng=seed)
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)      # overflow in the diverging runs
        return fit(model, F.cross_entropy, opt, DataLoader(X_tr, y_tr, 32, shuffle=True, rng=seed), epochs,
                   val_loader=DataLoader(X_va, y_va, 256), callbacks=callbacks, progress=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_run_learning_rates(cancer, seed):
    too_high = diagnose(train(cancer, 30.0, seed))
    assert {"divergence", "oscillation"} & set(too_high.kinds()), str(too_high)
    for f in too_high:
        if f.kind in ("divergence", "oscillation"):
            assert "Lower the learning rate" in f.action

    too_low = diagnose(train(cancer, 1e-4, seed))
    f = only(too_low, "plateau")
    assert "too low" in f.action and "raise" in f.action

    good = diagnose(train(cancer, 0.1, seed))
    assert good == [], str(good)


def test_real_least_squares_just_above_the_stability_limit_diverges():
    # make_linear_regression's MSE has curvature in [2/kappa, 2]: gradient descent is stable for lr < 1
    X, y = make_linear_regression(200, 5, condition_number=20.0, noise=0.1, rng=0)
    for lr, diverges in ((0.9, False), (1.1, True)):
        model = nn.Linear(5, 1, rng=0)
        with np.errstate(all="ignore"):
            h = fit(model, F.mse_loss, SGD(model.parameters(), lr=lr), DataLoader(X, y[:, None], 200), 60,
                    progress=False)
        assert ("divergence" in diagnose(h).kinds()) == diverges


# ----------------------------------------------------------------------------- the live callback
def test_callback_stops_a_diverging_run(cancer, capsys):
    cb = DiagnosticsCallback(stop_on_divergence=True)
    assert isinstance(cb, Callback)
    h = train(cancer, 30.0, 0, epochs=30, callbacks=[cb])
    assert len(h) < 30 and cb.findings[0].kind == "divergence"
    out = capsys.readouterr().out
    assert "DiagnosticsCallback (epoch" in out and "divergence" in out


def test_callback_reports_each_problem_once(cancer, capsys):
    cb = DiagnosticsCallback(verbose=True)
    train(cancer, 1e-4, 0, epochs=20, callbacks=[cb])
    assert cb.findings.kinds() == ["plateau"]
    assert capsys.readouterr().out.count("[WARNING] plateau") == 1
    state = cb.state_dict()
    other = DiagnosticsCallback(verbose=False)
    other.load_state_dict(state)
    assert [str(f) for f in other.findings] == [str(f) for f in cb.findings]
    assert other.seen_at_epoch == cb.seen_at_epoch
    with pytest.raises(ValueError, match="DiagnosticsCallback.load_state_dict"):
        other.load_state_dict({"findings": [{"kind": "nope"}], "seen_at_epoch": [1]})
    assert [str(f) for f in other.findings] == [str(f) for f in cb.findings]   # unchanged


def test_callback_is_quiet_on_a_good_run_and_validates_arguments(cancer, capsys):
    cb = DiagnosticsCallback(check_every=7)
    train(cancer, 0.1, 0, callbacks=[cb])
    assert cb.findings == [] and capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="unknown threshold"):
        DiagnosticsCallback(explode=3)
    with pytest.raises(ValueError, match="check_every must be a positive int"):
        DiagnosticsCallback(check_every=0)
