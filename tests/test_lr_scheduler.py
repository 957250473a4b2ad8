"""minigrad.optim.lr_scheduler against torch.optim.lr_scheduler (torch 2.x), step by step.

Every scheduler is built twice with the same arguments -- on a torch optimizer and on a
minigrad optimizer, each with two parameter groups of different learning rates -- and
stepped hundreds of times; the learning rates (and momenta / Adam beta1) must be the
same floats at every step, since minigrad follows torch's order of operations.
"""
import copy
import math
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as TL

import minigrad.optim as mo
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler as ML

pytestmark = pytest.mark.filterwarnings("error")   # no stray warnings from either library

STEPS = 300
LR0, LR1 = 0.1, 0.05


def torch_opt(kind="sgd"):
    p0 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    p1 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    groups = [{"params": [p0]}, {"params": [p1], "lr": LR1}]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=LR0, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(groups, lr=LR0, betas=(0.9, 0.999))
    return torch.optim.Adagrad(groups, lr=LR0)


def minigrad_opt(kind="sgd"):
    groups = [{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(3))], "lr": LR1}]
    if kind == "sgd":
        return mo.SGD(groups, lr=LR0, momentum=0.9)
    if kind == "adam":
        return mo.Adam(groups, lr=LR0, betas=(0.9, 0.999))
    return mo.Adagrad(groups, lr=LR0)


def group_values(opt):
    """What a scheduler may write: lr, momentum, beta1 (and the bookkeeping keys it adds)."""
    out = []
    for g in opt.param_groups:
        out.append({k: (g[k][0] if k == "betas" else g[k])
                    for k in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr", "max_momentum",
                              "base_momentum") if k in g})
    return out


def assert_same(ts, ms, topt, mopt, where):
    assert ms.get_last_lr() == ts.get_last_lr(), where
    assert group_values(mopt) == group_values(topt), where


def step(opt, sched, metric=None):
    opt.step()
    if metric is None:
        sched.step()
    else:
        sched.step(metric)


def plateau_metrics(n=STEPS):
    """A loss that falls, stalls, wiggles and falls again: plateaus of several lengths."""
    rng = np.random.default_rng(0)
    out, level = [], 1.0
    for t in range(n):
        if t % 40 < 15:
            level *= 0.97
        out.append(float(level * (1 + 1e-5 * rng.standard_normal()) + (0.01 if t % 40 == 30 else 0.0)))
    return out


def seq(L, o, *children_and_milestones):
    *children, milestones = children_and_milestones
    return L.SequentialLR(o, [c(L, o) for c in children], milestones=milestones)


class Scale:
    """A callable object (its state is saved by state_dict, unlike a lambda)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate ** x


# name -> (optimizer kind, factory(L, opt), ReduceLROnPlateau metrics or None)
CASES = {
    "LambdaLR": ("sgd", lambda L, o: L.LambdaLR(o, lambda e: 0.5 * (1 + math.cos(e / 17))), None),
    "LambdaLR-per-group": ("sgd", lambda L, o: L.LambdaLR(o, [lambda e: 0.99 ** e, lambda e: 1 / (1 + e)]), None),
    "MultiplicativeLR": ("sgd", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.99 if e % 3 else 1.01), None),
    "StepLR": ("sgd", lambda L, o: L.StepLR(o, step_size=7, gamma=0.7), None),
    "MultiStepLR": ("sgd", lambda L, o: L.MultiStepLR(o, milestones=[80, 10, 30, 30], gamma=0.3), None),
    "ConstantLR": ("sgd", lambda L, o: L.ConstantLR(o, factor=0.3, total_iters=20), None),
    "LinearLR-warmup": ("sgd", lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=50), None),
    "LinearLR-decay": ("sgd", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=120), None),
    "ExponentialLR": ("sgd", lambda L, o: L.ExponentialLR(o, gamma=0.98), None),
    "PolynomialLR": ("sgd", lambda L, o: L.PolynomialLR(o, total_iters=150, power=2.0), None),
    "PolynomialLR-sqrt": ("sgd", lambda L, o: L.PolynomialLR(o, total_iters=299, power=0.5), None),
    "CosineAnnealingLR": ("sgd", lambda L, o: L.CosineAnnealingLR(o, T_max=40, eta_min=1e-3), None),
    "CAWR": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10), None),
    "CAWR-mult": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01), None),
    "CyclicLR-triangular": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=13,
                                                            step_size_down=7), None),
    "CyclicLR-triangular2": ("sgd", lambda L, o: L.CyclicLR(o, [0.01, 0.001], 0.1, step_size_up=20,
                                                             mode="triangular2", base_momentum=[0.8, 0.7]), None),
    "CyclicLR-exp_range": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=11, mode="exp_range",
                                                           gamma=0.995), None),
    "CyclicLR-adam": ("adam", lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=9, mode="triangular2",
                                                       base_momentum=0.85, max_momentum=0.95), None),
    "CyclicLR-scale_fn": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=10, scale_fn=Scale(0.99),
                                                          scale_mode="iterations"), None),
    "CyclicLR-no-momentum": ("adagrad", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6,
                                                                 cycle_momentum=False), None),
    "OneCycleLR-cos": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS), None),
    "OneCycleLR-linear": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.3, epochs=10, steps_per_epoch=30,
                                                           anneal_strategy="linear", pct_start=0.25), None),
    "OneCycleLR-three-phase": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=STEPS + 5,
                                                                three_phase=True, base_momentum=[0.8, 0.85]),
                               None),
    "OneCycleLR-adam": ("adam", lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, div_factor=10.0,
                                                          final_div_factor=100.0), None),
    "OneCycleLR-no-momentum": ("adagrad", lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                                    cycle_momentum=False), None),
    "SequentialLR-warmup-cosine": ("sgd", lambda L, o: seq(
        L, o, lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=10),
        lambda L, o: L.CosineAnnealingLR(o, T_max=100), [10]), None),
    "SequentialLR-three": ("sgd", lambda L, o: seq(
        L, o, lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=8),
        lambda L, o: L.ExponentialLR(o, gamma=0.97), lambda L, o: L.PolynomialLR(o, total_iters=100, power=1.5),
        [5, 60]), None),
    "SequentialLR-restarts": ("sgd", lambda L, o: seq(
        L, o, lambda L, o: L.StepLR(o, step_size=4, gamma=0.5),
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=12, T_mult=2), [20]), None),
    "SequentialLR-multistep-lambda": ("sgd", lambda L, o: seq(
        L, o, lambda L, o: L.MultiStepLR(o, [3, 6], gamma=0.5),
        lambda L, o: L.LambdaLR(o, lambda e: 0.99 ** e), lambda L, o: L.MultiplicativeLR(o, lambda e: 0.995),
        [10, 100]), None),
    "ChainedScheduler": ("sgd", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=5),
                                                                 L.ExponentialLR(o, gamma=0.99)]), None),
    "ChainedScheduler-three": ("sgd", lambda L, o: L.ChainedScheduler(
        [L.LinearLR(o, start_factor=0.2, total_iters=30), L.CosineAnnealingLR(o, T_max=70, eta_min=0.001),
         L.MultiStepLR(o, [100, 200])], optimizer=o), None),
    "Plateau-min-rel": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, patience=3), plateau_metrics()),
    "Plateau-min-abs": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, threshold=1e-3, threshold_mode="abs",
                                                                patience=0, factor=0.7, min_lr=1e-4),
                        plateau_metrics()),
    "Plateau-max-rel": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, mode="max", patience=2, cooldown=4,
                                                                factor=0.5, min_lr=[1e-3, 1e-4]),
                        [2.0 - m for m in plateau_metrics()]),
    "Plateau-max-abs-eps": ("adam", lambda L, o: L.ReduceLROnPlateau(o, mode="max", threshold=0.0,
                                                                     threshold_mode="abs", patience=1, factor=0.9,
                                                                     min_lr=0.04, eps=1e-3),
                            [1.0 - m for m in plateau_metrics()]),
}


def build(name):
    kind, factory, metrics = CASES[name]
    topt, mopt = torch_opt(kind), minigrad_opt(kind)
    return topt, factory(TL, topt), mopt, factory(ML, mopt), metrics


def run(topt, ts, mopt, ms, metrics, start, stop, name):
    for t in range(start, stop):
        m = None if metrics is None else metrics[t]
        step(topt, ts, m)
        step(mopt, ms, m)
        assert_same(ts, ms, topt, mopt, f"{name}, step {t}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequence_matches_torch(name):
    topt, ts, mopt, ms, metrics = build(name)
    assert_same(ts, ms, topt, mopt, f"{name}, after construction")
    run(topt, ts, mopt, ms, metrics, 0, STEPS, name)
    if name.startswith("Plateau"):   # the metric sequence did reduce the rate, several times
        assert ms.get_last_lr()[0] < LR0 * 0.5


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_round_trip_continues_identically(name):
    """Mid-sequence: save optimizer + scheduler, rebuild both, load, continue in step with torch."""
    topt, ts, mopt, ms, metrics = build(name)
    run(topt, ts, mopt, ms, metrics, 0, 137, name)
    sd = pickle.loads(pickle.dumps(ms.state_dict()))
    assert set(sd) == set(ts.state_dict())           # torch's keys: the dicts are interchangeable
    kind, factory, _ = CASES[name]
    mopt2 = minigrad_opt(kind)
    ms2 = factory(ML, mopt2)                          # build the scheduler first, then load (as in torch)
    mopt2.load_state_dict(mopt.state_dict())
    ms2.load_state_dict(sd)
    assert_same(ts, ms2, topt, mopt2, f"{name}, after load")
    run(topt, ts, mopt2, ms2, metrics, 137, STEPS, name + " (reloaded)")
    # and a state dict saved by torch loads into minigrad
    mopt3 = minigrad_opt(kind)
    ms3 = factory(ML, mopt3)
    mopt3.load_state_dict(mopt2.state_dict())
    ms3.load_state_dict(ts.state_dict())
    assert ms3.state_dict().keys() == ms2.state_dict().keys()
    assert ms3.get_last_lr() == ts.get_last_lr()


def test_state_dict_is_a_snapshot():
    mopt = minigrad_opt()
    ms = ML.StepLR(mopt, step_size=2)
    sd = ms.state_dict()
    for _ in range(5):
        step(mopt, ms)
    assert sd["last_epoch"] == 0 and sd["_last_lr"] == [LR0, LR1]
    ms.get_last_lr().append(1.0)                     # a copy: the scheduler is not corrupted
    assert len(ms.get_last_lr()) == 2


def test_callable_object_state_is_saved():
    mopt = minigrad_opt()
    fn = Scale(0.9)
    ms = ML.LambdaLR(mopt, [fn, lambda e: 1.0])
    sd = ms.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None]
    fn.rate = 0.5
    ms.load_state_dict(sd)
    assert fn.rate == 0.9


def _snapshot(sched, opt):
    return copy.deepcopy(sched.state_dict()), group_values(opt)


@pytest.mark.parametrize("mutate, error, match", [
    (lambda sd: [1, 2], TypeError, "expects a dict"),
    (lambda sd: sd.pop("gamma"), ValueError, r"missing keys \['gamma'\]"),
    (lambda sd: sd.update(bogus=1), ValueError, r"unexpected keys \['bogus'\]"),
    (lambda sd: sd.update(base_lrs=[0.1]), ValueError, "one per param group"),
    (lambda sd: sd.update(last_epoch="3"), ValueError, "'last_epoch'"),
    (lambda sd: sd.update(last_epoch=-5), ValueError, "'last_epoch'"),
    (lambda sd: sd.update(gamma=None), ValueError, "'gamma'"),
    (lambda sd: sd.update(_last_lr=[0.1, "x"]), ValueError, "_last_lr"),
])
def test_load_state_dict_rejects_bad_input_unchanged(mutate, error, match):
    mopt = minigrad_opt()
    ms = ML.StepLR(mopt, step_size=3, gamma=0.5)
    for _ in range(4):
        step(mopt, ms)
    before = _snapshot(ms, mopt)
    sd = ms.state_dict()
    res = mutate(sd)
    bad = res if isinstance(res, list) else sd
    with pytest.raises(error, match=match):
        ms.load_state_dict(bad)
    assert _snapshot(ms, mopt) == before


def test_load_state_dict_rejects_other_scheduler_and_bad_children():
    mopt = minigrad_opt()
    exp = ML.ExponentialLR(mopt, gamma=0.9)
    with pytest.raises(ValueError, match="missing keys"):
        exp.load_state_dict(ML.StepLR(minigrad_opt(), 3).state_dict())
    plateau = ML.ReduceLROnPlateau(mopt)
    sd = plateau.state_dict()
    sd["mode"] = "avg"
    with pytest.raises(ValueError, match="'mode'"):
        plateau.load_state_dict(sd)
    assert plateau.mode == "min"
    # a composite validates every child before changing any
    o = minigrad_opt()
    chain = ML.ChainedScheduler([ML.ConstantLR(o, factor=0.5, total_iters=3), ML.ExponentialLR(o, gamma=0.9)])
    for _ in range(2):
        step(o, chain)
    sd = chain.state_dict()
    sd["_schedulers"][0]["last_epoch"] = 99
    sd["_schedulers"][1]["gamma"] = "fast"
    before = _snapshot(chain, o)
    with pytest.raises(ValueError, match=r"scheduler 1 \(ExponentialLR\)"):
        chain.load_state_dict(sd)
    assert _snapshot(chain, o) == before
    with pytest.raises(ValueError, match="list of 2"):
        chain.load_state_dict({**chain.state_dict(), "_schedulers": []})


def _construct(lib, kind, factory):
    opt = torch_opt(kind) if lib == "torch" else minigrad_opt(kind)
    before = group_values(opt)
    try:
        factory(TL if lib == "torch" else ML, opt)
    except Exception as e:      # noqa: BLE001 - returned for comparison
        return e, before, group_values(opt)
    return None, before, group_values(opt)


def _other_optimizer_sequential(L, o):
    other = torch_opt() if L is TL else minigrad_opt()
    return L.SequentialLR(o, [L.ExponentialLR(o, 0.9), L.ExponentialLR(other, 0.9)], milestones=[3])


def _plateau_in_chain(L, o):
    return L.ChainedScheduler([L.ExponentialLR(o, 0.9), L.ReduceLROnPlateau(o)])


# arguments torch rejects with ValueError: minigrad must raise ValueError containing torch's message
TORCH_INVALID = {
    "onecycle-no-length": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1)),
    "onecycle-epochs-only": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=3)),
    "onecycle-total-0": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    "onecycle-total-float": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10.0)),
    "onecycle-epochs-0": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=5)),
    "onecycle-spe-0": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=0)),
    "onecycle-pct": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5)),
    "onecycle-pct-int": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1)),
    "onecycle-anneal": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")),
    "onecycle-max-lr-len": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10)),
    "onecycle-no-momentum": ("adagrad", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10)),
    "onecycle-momentum-len": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10,
                                                               base_momentum=[0.8])),
    "cyclic-mode": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="sawtooth")),
    "cyclic-no-momentum": ("adagrad", lambda L, o: L.CyclicLR(o, 0.01, 0.1)),
    "cyclic-base-len": ("sgd", lambda L, o: L.CyclicLR(o, [0.01], 0.1)),
    "plateau-mode": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, mode="avg")),
    "plateau-threshold-mode": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="pct")),
    "plateau-factor-1": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, factor=1.0)),
    "plateau-factor-2": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, factor=2.0)),
    "plateau-min-lr-len": ("sgd", lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1, 0.1, 0.1])),
    "cawr-T0": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0)),
    "cawr-T0-float": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.5)),
    "cawr-Tmult": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0)),
    "cawr-eta": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, eta_min="0")),
    "constant-factor": ("sgd", lambda L, o: L.ConstantLR(o, factor=1.5)),
    "linear-start": ("sgd", lambda L, o: L.LinearLR(o, start_factor=0.0)),
    "linear-end": ("sgd", lambda L, o: L.LinearLR(o, end_factor=1.5)),
    "lambda-len": ("sgd", lambda L, o: L.LambdaLR(o, [lambda e: 1.0])),
    "multiplicative-len": ("sgd", lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0] * 3)),
    "sequential-milestones": ("sgd", lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, 0.9)] * 2,
                                                                  milestones=[])),
    "sequential-empty": ("sgd", lambda L, o: L.SequentialLR(o, [], milestones=[])),
    "sequential-plateau": ("sgd", lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, 0.9),
                                                                  L.ReduceLROnPlateau(o)], milestones=[3])),
    "sequential-other-optimizer": ("sgd", _other_optimizer_sequential),
    "chained-empty": ("sgd", lambda L, o: L.ChainedScheduler([])),
    "chained-plateau": ("sgd", _plateau_in_chain),
}


@pytest.mark.parametrize("name", sorted(TORCH_INVALID))
def test_invalid_arguments_raise_like_torch(name):
    kind, factory = TORCH_INVALID[name]
    terr, _, _ = _construct("torch", kind, factory)
    merr, before, after = _construct("minigrad", kind, factory)
    assert isinstance(terr, ValueError), terr
    assert isinstance(merr, ValueError), merr
    torch_msg = re.sub(r" has <.*?>,", " has", str(terr))    # object reprs differ
    minigrad_msg = re.sub(r" has .*?SGD \(.*?\),", " has", str(merr), flags=re.S)
    assert torch_msg.split(" has ")[0] in minigrad_msg
    if not name.startswith(("sequential", "chained")):   # (composites: the children were built already)
        assert after == before, "a rejected scheduler must not change the optimizer"


@pytest.mark.parametrize("factory, error, match", [
    (lambda o: ML.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: ML.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up"),
    (lambda o: ML.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="batch"), ValueError, "scale_mode"),
    (lambda o: ML.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: ML.ReduceLROnPlateau(o, factor=-0.5), ValueError, "Factor"),
    (lambda o: ML.ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
    (lambda o: ML.StepLR(o, 3, last_epoch=-2), ValueError, "last_epoch"),
    (lambda o: ML.StepLR(o, 3, last_epoch=1.5), TypeError, "last_epoch"),
    (lambda o: ML.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda o: ML.LambdaLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda o: ML.CyclicLR(o, "0.01", 0.1), TypeError, "base_lr"),
])
def test_invalid_arguments_minigrad_checks(factory, error, match):
    o = minigrad_opt()
    before = group_values(o)
    with pytest.raises(error, match=match):
        factory(o)
    assert group_values(o) == before


def test_sequential_milestones_must_increase():
    o = minigrad_opt()
    children = [ML.ExponentialLR(o, 0.9) for _ in range(3)]
    before = _snapshot(children[0], o)
    with pytest.raises(ValueError, match=re.escape("milestones must be increasing integer epochs, got [5, 2]")):
        ML.SequentialLR(o, children, milestones=[5, 2])
    assert _snapshot(children[0], o) == before


def test_resume_with_last_epoch_matches_torch():
    for name, make in [("StepLR", lambda L, o, e: L.StepLR(o, 4, gamma=0.5, last_epoch=e)),
                       ("ExponentialLR", lambda L, o, e: L.ExponentialLR(o, 0.9, last_epoch=e)),
                       ("CosineAnnealingLR", lambda L, o, e: L.CosineAnnealingLR(o, 30, last_epoch=e)),
                       ("CAWR", lambda L, o, e: L.CosineAnnealingWarmRestarts(o, 7, 2, last_epoch=e)),
                       ("LinearLR", lambda L, o, e: L.LinearLR(o, 0.2, total_iters=20, last_epoch=e))]:
        topt, mopt = torch_opt(), minigrad_opt()
        for o in (topt, mopt):
            for g, lr in zip(o.param_groups, (0.3, 0.2)):
                g["initial_lr"] = lr
        ts, ms = make(TL, topt, 12), make(ML, mopt, 12)
        assert_same(ts, ms, topt, mopt, name)
        run(topt, ts, mopt, ms, None, 0, 60, name)
    with pytest.raises(KeyError, match="initial_lr"):
        ML.StepLR(minigrad_opt(), 3, last_epoch=5)


def test_cawr_fractional_epochs_match_torch():
    topt, mopt = torch_opt(), minigrad_opt()
    ts = TL.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=2, eta_min=0.001)
    ms = ML.CosineAnnealingWarmRestarts(mopt, T_0=3, T_mult=2, eta_min=0.001)
    iters = 7
    for epoch in range(30):
        for i in range(iters):
            topt.step(), mopt.step()
            ts.step(epoch + i / iters)
            ms.step(epoch + i / iters)
            assert_same(ts, ms, topt, mopt, (epoch, i))
    for e in (26, None, None, 2, None, 100):       # jumps interleaved with plain steps
        topt.step(), mopt.step()
        ts.step(e), ms.step(e)
        assert_same(ts, ms, topt, mopt, e)
    with pytest.raises(ValueError, match="non-negative epoch"):
        ms.step(-1)


def test_onecycle_refuses_extra_steps_without_changing_state():
    topt, mopt = torch_opt(), minigrad_opt()
    ts, ms = TL.OneCycleLR(topt, 0.1, total_steps=10), ML.OneCycleLR(mopt, 0.1, total_steps=10)
    run(topt, ts, mopt, ms, None, 0, 10, "OneCycleLR")
    mopt.step()
    before = _snapshot(ms, mopt)
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        ms.step()
    assert _snapshot(ms, mopt) == before
    o = minigrad_opt()
    sched = ML.SequentialLR(o, [ML.ConstantLR(o, total_iters=2), ML.OneCycleLR(o, 0.1, total_steps=3)], [2])
    for _ in range(5):
        step(o, sched)
    before = _snapshot(sched, o)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
    assert _snapshot(sched, o) == before


def test_end_to_end_parameters_match_torch():
    """The optimizers read the scheduled lr / momentum / beta1: the parameters follow torch's."""
    for kind, make in [("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=60)),
                       ("adam", lambda L, o: L.CyclicLR(o, 0.001, 0.05, step_size_up=7, mode="exp_range",
                                                        gamma=0.99))]:
        topt, mopt = torch_opt(kind), minigrad_opt(kind)
        ts, ms = make(TL, topt), make(ML, mopt)
        rng = np.random.default_rng(1)
        tparams = [p for g in topt.param_groups for p in g["params"]]
        mparams = [p for g in mopt.param_groups for p in g["params"]]
        for t in range(60):
            for tp, mp in zip(tparams, mparams):
                g = rng.standard_normal(mp.shape)
                tp.grad = torch.from_numpy(g.copy())
                mp.grad = g
            step(topt, ts)
            step(mopt, ms)
            assert_same(ts, ms, topt, mopt, (kind, t))
        for tp, mp in zip(tparams, mparams):
            np.testing.assert_allclose(mp.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_warnings_like_torch():
    for L, opt in ((TL, torch_opt()), (ML, minigrad_opt())):
        sched = L.StepLR(opt, 3)
        with pytest.warns(UserWarning, match=re.escape("Detected call of `lr_scheduler.step()` before "
                                                       "`optimizer.step()`")):
            sched.step()
        with pytest.warns(UserWarning, match=re.escape("please use `get_last_lr()`")):
            sched.get_lr()
    opt = minigrad_opt()
    sched = ML.ExponentialLR(opt, 0.5)
    opt.step = lambda closure=None: None             # replaced after the scheduler wrapped it
    with pytest.warns(UserWarning, match="has been overridden"):
        sched.step()
    with warnings.catch_warnings():                  # the right order warns about nothing
        warnings.simplefilter("error")
        opt = minigrad_opt("adam")
        sched = ML.OneCycleLR(opt, 0.1, total_steps=5)
        for _ in range(5):
            step(opt, sched)


def test_plateau_accepts_tensor_and_array_metrics():
    from minigrad import Tensor
    mopt = minigrad_opt()
    ms = ML.ReduceLROnPlateau(mopt, patience=0, factor=0.5)
    for metric in (Tensor(1.0), np.float64(1.0), np.array(1.0), 1):
        mopt.step()
        ms.step(metric)
    assert ms.get_last_lr() == [LR0 * 0.125, LR1 * 0.125]
    with pytest.raises(TypeError, match="metric"):
        ms.step("loss")


def test_lr_schedule_values():
    vals = ML.lr_schedule_values(lambda o: ML.OneCycleLR(o, max_lr=1.0, total_steps=50), 50, lr=0.3)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3, momentum=0.9)
    ts = TL.OneCycleLR(topt, max_lr=1.0, total_steps=50)
    lrs, moms = [], []
    for _ in range(50):
        lrs.append(topt.param_groups[0]["lr"])
        moms.append(topt.param_groups[0]["momentum"])
        topt.step()
        ts.step()
    assert vals["lr"].tolist() == lrs and vals["momentum"].tolist() == moms
    plateau = ML.lr_schedule_values(lambda o: ML.ReduceLROnPlateau(o, patience=0), 3, lr=1.0,
                                    metrics=[1.0, 1.0, 1.0])
    assert plateau["lr"].tolist() == [1.0, 1.0, 0.1]
    with pytest.raises(ValueError, match="metrics has 1 values"):
        ML.lr_schedule_values(lambda o: ML.ReduceLROnPlateau(o), 3, metrics=[1.0])
