"""Step statistics (``optim.measure_step``): fused kernels, the generic pass and a numpy reference agree bit for bit.

The sums are taken in the fixed order of ``minigrad.optim.kernels.step_sums``
(blocks of 4096, rows of 32 lanes summed two at a time, pairwise fold), so the fused Adam kernel, the
copy-and-compare pass of the other optimizers, the parallel kernels and the
numpy reference all give the same bits.  The file runs again with
NUMBA_DISABLE_JIT=1 (last test) so the kernel bodies are checked as Python too.
"""
import math
import os

import numpy as np
import pytest
from _nojit import rerun_without_jit

from minigrad import nn, optim
from minigrad.optim import StepStats, measure_step
from minigrad.optim.kernels import adam_kernel
from minigrad.optim.kernels.step_sums import (BLOCK, LANES, ordered_sum_reference, step_sums_kernel,
                                              step_sums_reference)

N = 2 * BLOCK + 6 * LANES + 37  # two whole blocks, then three row pairs and 37 single elements


def _documented_order(values):
    """The order of step_sums.py written out with Python floats, one addition at a time."""
    total = 0.0
    for start in range(0, len(values), BLOCK):
        block = [float(v) for v in values[start:start + BLOCK]]
        lanes = [0.0] * LANES
        pairs = len(block) // (2 * LANES)
        for r in range(pairs):                        # two rows at a time: their squares added first
            row_a = block[2 * LANES * r:2 * LANES * r + LANES]
            row_b = block[2 * LANES * r + LANES:2 * LANES * (r + 1)]
            lanes = [lane + (a + b) for lane, a, b in zip(lanes, row_a, row_b)]
        for k, v in enumerate(block[2 * LANES * pairs:]):   # then one element at a time
            lanes[k % LANES] += v
        while len(lanes) > 1:
            lanes = [lanes[2 * j] + lanes[2 * j + 1] for j in range(len(lanes) // 2)]
        total += lanes[0]
    return total


def test_reference_follows_the_documented_order():
    rng = np.random.default_rng(0)
    for n in (0, 1, 5, LANES + 3, 2 * LANES, 3 * LANES + 7, BLOCK + 1, BLOCK + 2 * LANES + 5):
        values = rng.standard_normal(n) ** 2 * 10.0 ** rng.integers(-8, 8, n)   # order-sensitive magnitudes
        assert ordered_sum_reference(values) == _documented_order(values)
    assert ordered_sum_reference(np.ones(3), total=0.5) == 3.5


@pytest.mark.parametrize("n", [0, 1, LANES - 1, LANES + 1, 2 * LANES + 3, BLOCK, N])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_sums_kernel_equals_reference(n, dtype):
    rng = np.random.default_rng(n)
    theta, prev, grad = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    got, want = np.array([1.5, 2.5, 3.5]), np.array([1.5, 2.5, 3.5])   # sums carry over: start non-zero
    step_sums_kernel(theta, prev, grad, got)
    step_sums_reference(theta, prev, grad, want)
    np.testing.assert_array_equal(got, want, strict=True)
    if n:
        assert got[0] == pytest.approx(1.5 + np.sum(grad.astype(np.float64) ** 2), rel=1e-12)


ADAM_OPTIONS = [
    dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, maximize=False),
    dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, maximize=True),
    dict(lr=1e-2, beta1=0.3, beta2=0.9, eps=1e-3, weight_decay=0.1, maximize=False, decoupled_weight_decay=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", range(len(ADAM_OPTIONS)))
def test_fused_adam_equals_reference_update_and_sums(index, dtype):
    rng = np.random.default_rng(index)
    p, m = (rng.standard_normal(N).astype(dtype) for _ in range(2))
    v = np.abs(rng.standard_normal(N)).astype(dtype)
    fused, ref = [p.copy(), m.copy(), v.copy()], [p.copy(), m.copy(), v.copy()]
    s_fused, s_ref = np.zeros(3), np.zeros(3)
    for t in range(1, 4):
        g = rng.standard_normal(N).astype(dtype)
        kw = dict(ADAM_OPTIONS[index], step=float(t), amsgrad=False)
        assert adam_kernel.adam_step(fused[0], g, fused[1], fused[2], None, sums=s_fused, **kw) is True
        before = ref[0].copy()
        adam_kernel.adam_step_reference(ref[0], g, ref[1], ref[2], None, **kw)
        step_sums_reference(ref[0], before, g, s_ref)
        for a, b in zip(fused, ref):
            np.testing.assert_array_equal(a, b, strict=True)
        np.testing.assert_array_equal(s_fused, s_ref, strict=True)
    # amsgrad has no fused variant: the step runs unfused and says so
    vm = np.zeros(N, dtype)
    assert adam_kernel.adam_step(fused[0], g, fused[1], fused[2], vm, sums=s_fused,
                                 **dict(kw, amsgrad=True)) is False


@pytest.mark.parametrize("nchunks", [1, 2, 3, 5])
def test_parallel_sums_kernels_equal_serial(nchunks):
    """Threads take whole blocks and the block sums are added in order: the serial bits, whatever the split."""
    rng = np.random.default_rng(nchunks)
    n = 4 * BLOCK + 11
    for dtype in (np.float64, np.float32):
        p, g, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
        v = np.abs(rng.standard_normal(n)).astype(dtype)
        c = adam_kernel.adam_coefficients(1e-2, 0.9, 0.999, 1e-8, 0.1, 3.0, True, dtype)
        serial, par = [a.copy() for a in (p, m, v)], [a.copy() for a in (p, m, v)]
        s1, s2 = np.full(3, 0.25), np.full(3, 0.25)
        adam_kernel.adam_step_sums_kernel(serial[0], g, serial[1], serial[2], False, *c, s1, 0, n)
        adam_kernel.adam_step_sums_kernel_parallel(par[0], g, par[1], par[2], False, *c, s2, nchunks)
        for a, b in zip(serial + [s1], par + [s2]):
            np.testing.assert_array_equal(a, b, strict=True)


# ------------------------------------------------------------------ optimizers

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=1e-3),
    "Adam amsgrad": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=1e-2),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True),
    "Adadelta": lambda ps: optim.Adadelta(ps),
    "Adamax": lambda ps: optim.Adamax(ps),
    "NAdam": lambda ps: optim.NAdam(ps),
    "RAdam": lambda ps: optim.RAdam(ps),
    "Adafactor": lambda ps: optim.Adafactor(ps, lr=1e-2),
    "LARS": lambda ps: optim.LARS(ps, lr=0.1, momentum=0.9),
    "LAMB": lambda ps: optim.LAMB(ps, lr=1e-2),
}


def _model(flat, dtype=np.float64):
    model = nn.MLP([5, 7, 3], rng=0, dtype=dtype)
    if flat:
        optim.flatten_parameters(model)
    return model


@pytest.mark.parametrize("flat", [False, True], ids=["per-tensor", "flat"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_measure_step_equals_copy_and_reference(name, flat):
    """Every optimizer: the same update as step(), and the sums of a copy-and-compare numpy reference."""
    a, b = _model(flat), _model(flat)
    opt_a, opt_b = OPTIMIZERS[name](a.parameters()), OPTIMIZERS[name](b.parameters())
    one_call = flat and opt_a._supports_flat      # the flat path: one update over the whole buffer
    rng = np.random.default_rng(1)
    for _ in range(3):
        for pa, pb in zip(a.parameters(), b.parameters()):
            g = rng.standard_normal(pa.shape)
            pa.grad, pb.grad = g.copy(), g.copy()
        loss, stats = measure_step(opt_a)
        assert loss is None and isinstance(stats, StepStats)
        before = [p.data.copy() for p in b.parameters()]
        opt_b.step()
        for pa, pb in zip(a.parameters(), b.parameters()):
            np.testing.assert_array_equal(pa.data, pb.data, strict=True)
        want = np.zeros(3)
        thetas = [p.data.reshape(-1) for p in b.parameters()]
        prevs = [x.reshape(-1) for x in before]
        grads = [p.grad.reshape(-1) for p in b.parameters()]
        if one_call:
            thetas, prevs, grads = ([np.concatenate(x)] for x in (thetas, prevs, grads))
        for t, q, g in zip(thetas, prevs, grads):
            step_sums_reference(t, q, g, want)
        assert tuple(stats) == tuple(want)
        assert opt_a._sums is None


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_fused_and_unfused_routes_give_the_same_bits(name, monkeypatch):
    runs = []
    for fused in (True, False):
        model = _model(True)
        opt = OPTIMIZERS[name](model.parameters())
        if not fused:
            monkeypatch.setattr(opt, "_fuses_sums", lambda group, state: False)
        rng = np.random.default_rng(5)
        out = []
        for _ in range(3):
            for p in model.parameters():
                p.grad = rng.standard_normal(p.shape)
            out.append(tuple(measure_step(opt)[1]))
        runs.append((out, [p.data.copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    for x, y in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(x, y, strict=True)


def test_groups_mixing_fused_and_unfused_updates_add_up_in_group_order():
    """One group fused (Adam), one measured with a copy (amsgrad): the sums run on, group after group."""
    model = _model(False)
    params = list(model.parameters())
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "amsgrad": True, "lr": 0.05}], lr=1e-2)
    rng = np.random.default_rng(3)
    for _ in range(2):
        for p in params:
            p.grad = rng.standard_normal(p.shape)
        before = [p.data.copy() for p in params]
        stats = measure_step(opt)[1]
        want = np.zeros(3)
        for p, q in zip(params, before):
            step_sums_reference(p.data.reshape(-1), q.reshape(-1), p.grad.reshape(-1), want)
        assert tuple(stats) == tuple(want)


def test_a_wrapper_optimizer_is_measured_with_copies():
    """Any object with step() and param_groups works (e.g. one that clips gradients first)."""

    class Clip:
        def __init__(self, opt):
            self.opt, self.param_groups = opt, opt.param_groups

        def step(self):                                  # no closure argument: measure_step copes
            nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], 1.0)
            return self.opt.step()

    a, b = _model(False), _model(False)
    wrapped, direct = Clip(optim.Adam(a.parameters(), lr=1e-2)), optim.Adam(b.parameters(), lr=1e-2)
    rng = np.random.default_rng(2)
    for _ in range(2):
        for pa, pb in zip(a.parameters(), b.parameters()):
            pa.grad = rng.standard_normal(pa.shape) * 10
            pb.grad = pa.grad.copy()
        nn.utils.clip_grad_norm_(list(b.parameters()), 1.0)
        got, want = measure_step(wrapped)[1], measure_step(direct)[1]
        assert got == want
        assert got.grad_norm == pytest.approx(1.0, rel=1e-6)     # the clipped gradient is what was used


def test_a_subclass_with_its_own_step_is_measured_with_copies():
    class SignDescent(optim.Optimizer):
        """Its own step(): the base class never sees the update, so it cannot add the sums."""

        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.data -= group["lr"] * np.sign(p.grad)

    model = _model(False)
    opt = SignDescent(model.parameters())
    for p in model.parameters():
        p.grad = np.full(p.shape, -2.0)
    before = [p.data.copy() for p in model.parameters()]
    stats = measure_step(opt)[1]
    want = np.zeros(3)
    for p, q in zip(model.parameters(), before):
        step_sums_reference(p.data.reshape(-1), q.reshape(-1), p.grad.reshape(-1), want)
    assert tuple(stats) == tuple(want) and stats.update_sq > 0


def test_parameters_without_gradient_are_left_out():
    model = _model(False)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    params = list(model.parameters())
    for p in params[1:]:
        p.grad = np.ones(p.shape)
    params[0].grad = None                                # not updated by this step: not counted
    before = [p.data.copy() for p in params]
    stats = measure_step(opt)[1]
    assert np.array_equal(params[0].data, before[0])
    want = np.zeros(3)
    for p, q in zip(params[1:], before[1:]):
        step_sums_reference(p.data.reshape(-1), q.reshape(-1), p.grad.reshape(-1), want)
    assert tuple(stats) == tuple(want)
    assert stats.grad_sq == sum(p.size for p in params[1:])


def test_measure_step_switches_the_sums_off_after_an_error():
    w = nn.Parameter(np.ones(3))
    opt = optim.Adam([w])
    w.grad = np.ones(4)                                  # wrong shape: step raises
    with pytest.raises(RuntimeError, match="gradient"):
        measure_step(opt)
    assert opt._sums is None
    w.grad = np.ones(3)
    opt.step()                                           # a plain step afterwards measures nothing


def test_closure_loss_is_returned():
    w = nn.Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss, stats = measure_step(opt, closure)
    assert loss.item() == 5.0
    assert stats.grad_norm == pytest.approx(math.sqrt(20.0))
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    assert stats.update_ratio == 1.0


def test_step_stats_edge_values():
    assert StepStats(0.0, 0.0, 0.0).update_ratio == 0.0          # nothing moved, nothing there
    assert StepStats(0.0, 1.0, 0.0).update_ratio == math.inf     # moved away from all-zero weights
    assert math.isnan(StepStats(math.nan, math.nan, 1.0).grad_norm)
    assert math.isnan(StepStats(1.0, math.nan, 1.0).update_ratio)  # a diverged step stays visible
    assert StepStats(4.0, 1.0, 4.0) == (4.0, 1.0, 4.0)
    assert (StepStats(4.0, 1.0, 4.0).grad_norm, StepStats(4.0, 1.0, 4.0).update_ratio) == (2.0, 0.5)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already the NUMBA_DISABLE_JIT=1 run")
def test_step_stats_as_plain_python():
    """Re-run the kernel tests of this file with NUMBA_DISABLE_JIT=1 (kernel bodies as interpreted Python)."""
    rerun_without_jit(__file__, "(kernel or reference or fused) and not plain_python")
