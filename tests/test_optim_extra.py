"""NAdam, RAdam, Adafactor, LARS and LAMB.

* parity with torch.optim (NAdam, RAdam, Adafactor) in float64 to ~1e-12 over 60
  steps, every option combination, five parameters (matrices, a 3-d tensor, a
  vector, a scalar) in two groups, a parameter without gradient now and then,
  and a state_dict resume into a fresh optimizer;
* every numba kernel equals its numpy reference bit for bit (float64 and
  float32), also as plain Python under NUMBA_DISABLE_JIT=1 (a subprocess);
* LARS and LAMB (no torch counterpart) against the papers' formulas written out
  independently with numpy, their trust-ratio edge cases, and LARS == torch SGD
  when the ratio is 1;
* convergence, validation messages (torch's), state_bytes, flat buffers.
"""
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from minigrad.nn import Parameter
from minigrad.optim import flatten_parameters
from minigrad.optim.adafactor import Adafactor
from minigrad.optim.kernels import adafactor_kernel, lamb_kernel, lars_kernel, nadam_kernel, radam_kernel
from minigrad.optim.lamb import LAMB
from minigrad.optim.lars import LARS
from minigrad.optim.nadam import NAdam
from minigrad.optim.radam import RAdam

STEPS, RESUME_AT = 60, 30
SHAPES = [(3, 4), (5,), (2, 3, 2), (), (6, 1)]


@pytest.fixture
def torch64():
    """torch with float64 as default dtype (torch keeps NAdam's mu_product in it)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(old)


def _grad(x, t):
    """Gradient of a non-quadratic loss; the same function feeds both libraries."""
    return 2.0 * x + np.cos(3.0 * x) + 0.2 * np.sin(t + x) + 0.1 * t * (t % 3 == 0)


def _groups(params, kw):
    first = dict(kw)
    second = dict(kw, lr=kw.get("lr", 0.01) * 0.5)
    return [dict(first, params=params[:2]), dict(second, params=params[2:])]


def _run_parity(torch, name, kw, tol):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    ours = [Parameter(a.copy()) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    cls = {"NAdam": NAdam, "RAdam": RAdam, "Adafactor": Adafactor}[name]
    tkw = dict(kw, foreach=False)
    opt = cls(_groups(ours, {}), **kw)
    topt = getattr(torch.optim, name)(_groups(theirs, {}), **tkw)
    for t in range(STEPS):
        if t == RESUME_AT:  # resume into a fresh optimizer on the same parameters
            saved = opt.state_dict()
            opt = cls(_groups(ours, {}), **kw)
            opt.load_state_dict(saved)
        for i, (p, q) in enumerate(zip(ours, theirs)):
            if i == 1 and t % 7 == 3:  # no gradient: skipped by both
                p.grad, q.grad = None, None
                continue
            g = _grad(p.data, t)
            p.grad, q.grad = g, torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=tol, atol=tol)
        st, tst = opt.state[p], topt.state[q]
        assert set(st) == set(tst)
        for k, v in st.items():
            want = tst[k].numpy() if hasattr(tst[k], "numpy") else tst[k]
            np.testing.assert_allclose(v, want, rtol=tol, atol=tol * np.max(np.abs(want)))


def _combos(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


NADAM = _combos(weight_decay=[0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True],
                momentum_decay=[4e-3, 0.05])
RADAM = _combos(weight_decay=[0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True],
                betas=[(0.9, 0.999), (0.5, 0.9)])
ADAFACTOR = _combos(weight_decay=[0, 0.1], maximize=[False, True], eps=[(None, 1e-3), (1e-6, 0.5)],
                    d=[1.0, 3.0], beta2_decay=[-0.8, -0.3])


@pytest.mark.parametrize("kw", NADAM, ids=str)
def test_nadam_matches_torch(torch64, kw):
    _run_parity(torch64, "NAdam", dict(kw, lr=0.05), 1e-12)


@pytest.mark.parametrize("kw", RADAM, ids=str)
def test_radam_matches_torch(torch64, kw):
    # beta2=0.999: rho_t > 5 from step 6 on; beta2=0.9: from step 3 -- both branches are exercised
    _run_parity(torch64, "RAdam", dict(kw, lr=0.05), 1e-12)


@pytest.mark.parametrize("kw", ADAFACTOR, ids=str)
def test_adafactor_matches_torch(torch64, kw):
    _run_parity(torch64, "Adafactor", dict(kw, lr=0.05), 1e-12)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adafactor"])
def test_float32_close_to_torch(torch64, name):
    cls = {"NAdam": NAdam, "RAdam": RAdam, "Adafactor": Adafactor}[name]
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 5)).astype(np.float32)
    p, q = Parameter(a.copy()), torch64.tensor(a.copy(), requires_grad=True)
    opt, topt = cls([p], lr=0.01), getattr(torch64.optim, name)([q], lr=0.01, foreach=False)
    for t in range(20):
        g = _grad(p.data, t).astype(np.float32)
        p.grad, q.grad = g, torch64.tensor(g)
        opt.step()
        topt.step()
    assert p.data.dtype == np.float32
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------- kernels == reference
def _kernel_cases():
    """(label, step function, reference, state maker, keyword options, shape)."""
    two = lambda shape, dtype, rng: [np.zeros(shape, dtype), np.zeros(shape, dtype)]  # noqa: E731

    def factored(shape, dtype, rng):
        if len(shape) < 2:
            return [None, None, np.zeros(shape, dtype)]
        return [np.zeros(shape[:-1] + (1,), dtype), np.zeros(shape[:-2] + (1, shape[-1]), dtype), None]

    def buf(shape, dtype, rng):
        return [np.zeros(shape, dtype)]

    cases = []
    for kw in _combos(weight_decay=[0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True]):
        cases.append(("nadam", nadam_kernel.nadam_step, nadam_kernel.nadam_step_reference, two,
                      dict(kw, lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3), (5, 9)))
        cases.append(("radam", radam_kernel.radam_step, radam_kernel.radam_step_reference, two,
                      dict(kw, lr=0.05, beta1=0.6, beta2=0.9, eps=1e-8), (5, 9)))
    for shape, kw in itertools.product([(5, 9), (3, 5, 4), (1, 9), (37,), ()],
                                       _combos(weight_decay=[0, 0.1], maximize=[False, True],
                                               eps1=[None, 1e-3])):
        cases.append(("adafactor", adafactor_kernel.adafactor_step, adafactor_kernel.adafactor_step_reference,
                      factored, dict(kw, lr=0.05, beta2_decay=-0.8, eps2=1e-3, d=1.0), shape))
    for kw in _combos(momentum=[0, 0.9], weight_decay=[0, 0.1], maximize=[False, True], adapt=[True, False]):
        cases.append(("lars", lars_kernel.lars_step, lars_kernel.lars_step_reference, buf,
                      dict(kw, lr=0.5, dampening=0.2 if kw["momentum"] else 0, nesterov=False,
                           trust_coefficient=0.01, eps=1e-8),
                      (5, 9)))
    cases.append(("lars", lars_kernel.lars_step, lars_kernel.lars_step_reference, buf,
                  dict(lr=0.5, momentum=0.8, dampening=0, nesterov=True, weight_decay=0.01, maximize=False,
                       trust_coefficient=0.01, eps=1e-8), (37,)))
    for kw in _combos(weight_decay=[0, 0.1], maximize=[False, True], adapt=[True, False]):
        cases.append(("lamb", lamb_kernel.lamb_step, lamb_kernel.lamb_step_reference, two,
                      dict(kw, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-6, clamp_value=None), (5, 9)))
    cases.append(("lamb", lamb_kernel.lamb_step, lamb_kernel.lamb_step_reference, two,
                  dict(lr=0.01, beta1=0.5, beta2=0.9, eps=1e-6, weight_decay=0.01, maximize=False,
                       clamp_value=0.5), (37,)))
    return cases


KERNEL_CASES = _kernel_cases()


def _run_kernel(case, dtype, use_reference):
    label, step_fn, ref_fn, make_state, kw, shape = case
    fn = ref_fn if use_reference else step_fn
    rng = np.random.default_rng(5)
    param = rng.standard_normal(shape).astype(dtype)
    state = make_state(shape, dtype, rng)
    out = []
    for t in range(1, 5):
        grad = rng.standard_normal(shape).astype(dtype) * (10.0 if t == 2 else 1.0)
        before = grad.copy()
        opts = {k: v for k, v in kw.items()}
        if label == "lars":
            opts["first"] = t == 1
        else:
            opts["step"] = float(t)
        if label == "nadam":  # the running product of mu_i, as the optimizer keeps it
            opts["mu_product"] = float(np.prod([nadam_kernel.nadam_momentum(0.9, 4e-3, i) for i in range(1, t + 1)]))
        result = fn(param, grad, *state, **opts)
        assert np.array_equal(grad, before), "the gradient must not be modified"
        out.append(result)
    return [param] + [s for s in state if s is not None], out


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", KERNEL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(KERNEL_CASES)])
def test_kernel_equals_reference(case, dtype):
    got, got_ret = _run_kernel(case, dtype, use_reference=False)
    want, want_ret = _run_kernel(case, dtype, use_reference=True)
    for g, w in zip(got, want):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(g, w, strict=True)
    assert got_ret == want_ret  # the trust ratios of LARS / LAMB
    assert np.all(np.isfinite(got[0]))


_NO_JIT_SCRIPT = """
import importlib.util, sys
import numpy as np
import numba
assert numba.config.DISABLE_JIT
spec = importlib.util.spec_from_file_location("extra", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
for dtype in (np.float64, np.float32):
    for case in mod.KERNEL_CASES:
        mod.test_kernel_equals_reference(case, dtype)
print("checked", len(mod.KERNEL_CASES))
"""


def test_kernel_equals_reference_without_jit():
    """The same checks with NUMBA_DISABLE_JIT=1: the kernels as interpreted Python match too.

    A plain interpreter runs them (not pytest, whose start-up costs seconds).
    """
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run([sys.executable, "-c", _NO_JIT_SCRIPT, __file__], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.split() == ["checked", str(len(KERNEL_CASES))]


def test_parallel_kernels_equal_serial():
    """The threaded variants (one slice per thread) give the same bits as the serial loop."""
    rng = np.random.default_rng(3)
    n, dtype = 1003, np.float64
    p, g, m = (rng.standard_normal(n) for _ in range(3))
    v = np.abs(rng.standard_normal(n))
    runs = [
        (nadam_kernel.nadam_step_kernel, nadam_kernel.nadam_step_kernel_parallel, True,
         nadam_kernel.nadam_coefficients(0.1, 0.9, 0.999, 1e-8, 0.1, 4e-3, 3.0, 0.5, False, dtype)),
        (radam_kernel.radam_step_kernel, radam_kernel.radam_step_kernel_parallel, False,
         radam_kernel.radam_coefficients(0.1, 0.9, 0.9, 1e-8, 0.1, 9.0, True, dtype)),
    ]
    for serial, parallel, maximize, coefs in runs:
        a = [x.copy() for x in (p, g, m, v)]
        b = [x.copy() for x in (p, g, m, v)]
        serial(*a, maximize, *coefs, 0, n)
        parallel(*b, maximize, *coefs, 3)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, strict=True)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5), maximize=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.1]))
def test_adafactor_any_shape(torch64, shape, maximize, weight_decay):
    """Any shape: factored over the last two dimensions (or not), kernel == reference, == torch."""
    rng = np.random.default_rng(abs(hash(shape)) % 2**32)
    a = rng.standard_normal(shape)
    p, q = Parameter(a.copy()), torch64.tensor(a.copy(), requires_grad=True)
    opt = Adafactor([p], lr=0.05, maximize=maximize, weight_decay=weight_decay)
    topt = torch64.optim.Adafactor([q], lr=0.05, maximize=maximize, weight_decay=weight_decay, foreach=False)
    ref = a.copy()
    init = opt._init_state(a, opt.param_groups[0])  # fresh zero state of the right (factored) shapes
    ref_state = [init.get(k) for k in ("row_var", "col_var", "variance")]
    for t in range(1, 4):
        g = rng.standard_normal(shape) * t
        p.grad, q.grad = g, torch64.tensor(g)
        opt.step()
        topt.step()
        adafactor_kernel.adafactor_step_reference(ref, g, *ref_state, lr=0.05, beta2_decay=-0.8, eps1=None,
                                                  eps2=1e-3, d=1.0, weight_decay=weight_decay, step=float(t),
                                                  maximize=maximize)
    np.testing.assert_array_equal(p.data, ref)
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------- LARS / LAMB: the papers' formulas
def _lars_by_hand(ws, grads, lr, momentum, weight_decay, eta, eps):
    """You et al. 2017, Algorithm 1, with torch-SGD momentum (lr outside the buffer), one tensor."""
    w, v = ws.copy(), None
    for g in grads:
        wn, gn = np.linalg.norm(w), np.linalg.norm(g)
        local_lr = eta * wn / (gn + weight_decay * wn + eps) if wn > 0 and gn > 0 else 1.0
        d = local_lr * (g + weight_decay * w)
        v = d if v is None else momentum * v + d
        w = w - lr * v
    return w


def _lamb_by_hand(ws, grads, lr, b1, b2, eps, weight_decay):
    """You et al. 2019, Algorithm 2 (phi = identity), one tensor."""
    w, m, v = ws.copy(), np.zeros_like(ws), np.zeros_like(ws)
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        r = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        u = r + weight_decay * w
        wn, un = np.linalg.norm(w), np.linalg.norm(u)
        w = w - lr * (wn / un if wn > 0 and un > 0 else 1.0) * u
    return w


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.9, 0.05)])
def test_lars_follows_the_paper(momentum, weight_decay):
    rng = np.random.default_rng(11)
    w0 = [rng.standard_normal((4, 3)), rng.standard_normal(6)]
    grads = [[rng.standard_normal(a.shape) * s for s in (1.0, 50.0, 0.01)] for a in w0]
    params = [Parameter(a.copy()) for a in w0]
    opt = LARS(params, lr=0.5, momentum=momentum, weight_decay=weight_decay, trust_coefficient=0.02)
    for t in range(3):
        for p, g in zip(params, grads):
            p.grad = g[t]
        opt.step()
    for p, a, g in zip(params, w0, grads):
        np.testing.assert_allclose(p.data, _lars_by_hand(a, g, 0.5, momentum, weight_decay, 0.02, 1e-8),
                                   rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("weight_decay,betas", [(0.0, (0.9, 0.999)), (0.01, (0.9, 0.999)), (0.1, (0.5, 0.9))])
def test_lamb_follows_the_paper(weight_decay, betas):
    rng = np.random.default_rng(12)
    w0 = [rng.standard_normal((4, 3)), rng.standard_normal(6)]
    grads = [[rng.standard_normal(a.shape) * s for s in (1.0, 50.0, 0.01)] for a in w0]
    params = [Parameter(a.copy()) for a in w0]
    opt = LAMB([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], lr=0.05, betas=betas,
               weight_decay=weight_decay)
    for t in range(3):
        for p, g in zip(params, grads):
            p.grad = g[t]
        opt.step()
    for p, a, g, lr in zip(params, w0, grads, (0.05, 0.02)):
        np.testing.assert_allclose(p.data, _lamb_by_hand(a, g, lr, *betas, 1e-6, weight_decay),
                                   rtol=1e-13, atol=1e-15)


def test_lamb_step_size_is_lr_times_weight_norm():
    w = Parameter(np.array([[3.0, 0.0], [0.0, 4.0]]))
    opt = LAMB([w], lr=0.1, weight_decay=0.3)
    w.grad = np.array([[1e-4, -7.0], [2e3, 0.5]])
    opt.step()
    assert np.linalg.norm(w.data - np.diag([3.0, 4.0])) == pytest.approx(0.5, rel=1e-14)


def test_lamb_clamp_value():
    w = Parameter(np.array([3.0, 4.0]))
    opt = LAMB([w], lr=0.1, clamp_value=2.0)
    w.grad = np.array([1.0, 1.0])
    opt.step()
    assert np.linalg.norm(w.data - [3.0, 4.0]) == pytest.approx(0.1 * 2.0, rel=1e-14)


def test_lars_with_ratio_one_is_torch_sgd(torch64):
    """exclude_1d on vectors: no ratio, no weight decay -- exactly torch.optim.SGD's momentum rule."""
    rng = np.random.default_rng(2)
    for kw in [dict(momentum=0.9), dict(momentum=0.9, dampening=0.3), dict(momentum=0.8, nesterov=True),
               dict(momentum=0.0, maximize=True), dict(momentum=0.5, maximize=True)]:
        a = rng.standard_normal(7)
        p, q = Parameter(a.copy()), torch64.tensor(a.copy(), requires_grad=True)
        opt = LARS([p], lr=0.1, weight_decay=0.5, exclude_1d=True, **kw)
        topt = torch64.optim.SGD([q], lr=0.1, foreach=False, **kw)
        for t in range(20):
            g = _grad(p.data, t)
            p.grad, q.grad = g, torch64.tensor(g)
            opt.step()
            topt.step()
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_lars_exclude_1d_only_touches_vectors():
    rng = np.random.default_rng(4)
    W, b = Parameter(rng.standard_normal((3, 3))), Parameter(rng.standard_normal(3))
    W0, b0 = W.data.copy(), b.data.copy()
    gW, gb = rng.standard_normal((3, 3)), rng.standard_normal(3)
    opt = LARS([W, b], lr=0.5, momentum=0.0, weight_decay=0.1, trust_coefficient=0.01, exclude_1d=True)
    W.grad, b.grad = gW, gb
    opt.step()
    np.testing.assert_allclose(b.data, b0 - 0.5 * gb, rtol=1e-15)
    np.testing.assert_allclose(W.data, _lars_by_hand(W0, [gW], 0.5, 0.0, 0.1, 0.01, 1e-8), rtol=1e-14)


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_trust_ratio_is_one_for_zero_weights(cls):
    """A zero-initialised bias has ||w|| = 0: the ratio falls back to 1 (no 0/0, the tensor moves)."""
    w = Parameter(np.zeros(4))
    g = np.array([1.0, -2.0, 0.5, 0.0])
    opt = cls([w], lr=0.1, momentum=0.0) if cls is LARS else cls([w], lr=0.1, betas=(0.0, 0.0))
    w.grad = g
    opt.step()
    want = -0.1 * g if cls is LARS else -0.1 * g / (np.abs(g) + 1e-6)  # LAMB: Adam's direction, beta=0
    np.testing.assert_allclose(w.data, want, rtol=1e-15)


def test_trust_ratio_is_one_for_zero_gradient():
    ratio = lars_kernel.lars_trust_ratio
    assert ratio(2.0, 0.0, 0.001, 0.0, 1e-8) == 1.0
    assert ratio(0.0, 3.0, 0.001, 0.1, 1e-8) == 1.0
    assert ratio(2.0, 3.0, 0.01, 0.5, 0.0) == pytest.approx(0.01 * 2 / (3 + 1.0))
    assert lamb_kernel.lamb_trust_ratio(2.0, 0.0) == 1.0
    assert lamb_kernel.lamb_trust_ratio(0.0, 2.0) == 1.0
    assert lamb_kernel.lamb_trust_ratio(4.0, 2.0, clamp_value=1.0) == 0.5
    # LARS, zero gradient with weight decay: ratio 1, the step is lr * wd * w
    w = Parameter(np.array([[1.0, 2.0]]))
    opt = LARS([w], lr=0.5, momentum=0.0, weight_decay=0.1)
    w.grad = np.zeros((1, 2))
    opt.step()
    np.testing.assert_allclose(w.data, [[1.0 - 0.05, 2.0 - 0.1]], rtol=1e-15)
    # LAMB, zero gradient and no weight decay: ||u|| = 0, nothing moves, nothing becomes NaN
    w = Parameter(np.array([1.0, 2.0]))
    opt = LAMB([w], lr=0.5)
    w.grad = np.zeros(2)
    opt.step()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    assert np.all(np.isfinite(opt.state[w]["exp_avg_sq"]))


# ------------------------------------------------------------------- convergence
def _parabola(w):
    c = np.array([1.0, -2.0])
    return float(np.sum((w - c) ** 2)), 2 * (w - c)


def _rosenbrock(w):
    x, y = w
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x * x),
                                                            200 * (y - x * x)])


CONVERGENCE = [  # the recipes given in the class docstrings: (class, options, steps, parabola tol, Rosenbrock tol)
    (NAdam, dict(lr=0.02), 2000, 1e-8, 1e-3),
    (RAdam, dict(lr=0.01, betas=(0.9, 0.99)), 2000, 1e-8, 1e-3),
    (Adafactor, dict(lr=0.05), 2000, 1e-8, 0.1),
    (LARS, dict(), 3000, 1e-4, 2e-3),  # constant lr: the step stays ~ lr * eta * ||w||
    (LAMB, dict(lr=0.01), 3000, 1e-3, 0.05),  # constant lr: the step stays lr * ||w||
]


@pytest.mark.parametrize("cls,kw,steps,parabola_tol,rosen_tol", CONVERGENCE,
                         ids=[c[0].__name__ for c in CONVERGENCE])
def test_convergence(cls, kw, steps, parabola_tol, rosen_tol):
    for f, x0, tol in [(_parabola, [3.0, 1.0], parabola_tol), (_rosenbrock, [-1.5, 2.0], rosen_tol)]:
        w = Parameter(np.array(x0))
        opt = cls([w], **kw)
        start = f(w.data)[0]
        for _ in range(steps):
            w.grad = f(w.data)[1]
            opt.step()
        loss = f(w.data)[0]
        assert loss < tol and loss < start, (cls.__name__, f.__name__, loss)


# -------------------------------------------------------------------- validation
TORCH_CHECKED = [
    ("NAdam", dict(lr=-1.0)), ("NAdam", dict(eps=-1e-8)), ("NAdam", dict(betas=(1.0, 0.9))),
    ("NAdam", dict(betas=(0.9, -0.1))), ("NAdam", dict(weight_decay=-0.1)), ("NAdam", dict(momentum_decay=-1.0)),
    ("RAdam", dict(lr=-1.0)), ("RAdam", dict(eps=-1e-8)), ("RAdam", dict(betas=(-0.5, 0.9))),
    ("RAdam", dict(betas=(0.9, 1.5))), ("RAdam", dict(weight_decay=-0.1)),
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("name,kw", TORCH_CHECKED, ids=[f"{n}-{k}" for n, k in TORCH_CHECKED])
def test_validation_messages_match_torch(torch64, name, kw):
    cls = {"NAdam": NAdam, "RAdam": RAdam, "Adafactor": Adafactor}[name]
    with pytest.raises(ValueError) as theirs:
        getattr(torch64.optim, name)([torch64.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        cls([Parameter(np.zeros(2))], **kw)
    assert str(ours.value).startswith(str(theirs.value)), (str(ours.value), str(theirs.value))


@pytest.mark.parametrize("cls,kw,error,match", [
    (LARS, dict(lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (LARS, dict(momentum=-0.9), ValueError, "Invalid momentum value: -0.9"),
    (LARS, dict(weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (LARS, dict(trust_coefficient=-1e-3), ValueError, "Invalid trust_coefficient value: -0.001"),
    (LARS, dict(eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (LARS, dict(momentum=0.0, nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
    (LARS, dict(momentum=0.9, dampening=0.1, nesterov=True), ValueError, "zero dampening"),
    (LARS, dict(lr="0.1"), TypeError, "lr"),
    (LAMB, dict(lr=-1e-3), ValueError, "Invalid learning rate: -0.001"),
    (LAMB, dict(eps=-1e-6), ValueError, "Invalid epsilon value"),
    (LAMB, dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (LAMB, dict(betas=(0.9,)), ValueError, "pair"),
    (LAMB, dict(weight_decay=-0.01), ValueError, "Invalid weight_decay value: -0.01"),
    (LAMB, dict(clamp_value=0.0), ValueError, "Invalid clamp_value: 0.0"),
    (LAMB, dict(clamp_value="big"), TypeError, "clamp_value"),
    (NAdam, dict(lr=None), TypeError, "lr"),
    (NAdam, dict(differentiable=True), RuntimeError, "differentiable"),
    (RAdam, dict(capturable=True), RuntimeError, "capturable"),
    (Adafactor, dict(eps=1e-3), TypeError, "pair"),
    (Adafactor, dict(d="1"), TypeError, "d must be a real number"),
])
def test_bad_hyperparameters(cls, kw, error, match):
    with pytest.raises(error, match=match):
        cls([Parameter(np.zeros(2))], **kw)


# ------------------------------------------------------------- state and buffers
def test_state_bytes_adafactor_is_factored():
    W, b = Parameter(np.ones((300, 200))), Parameter(np.ones(200))
    T = Parameter(np.ones((4, 30, 20), dtype=np.float32))
    sizes = {}
    for cls in (Adafactor, NAdam, RAdam, LAMB, LARS):
        opt = cls([W, b, T])
        for p in (W, b, T):
            p.grad = np.ones_like(p.data)
        opt.step()
        sizes[cls.__name__] = opt.state_bytes()
    full = W.data.nbytes + b.data.nbytes + T.data.nbytes
    assert sizes["Adafactor"] == (300 + 200) * 8 + 200 * 8 + 4 * (30 + 20) * 4
    assert sizes["NAdam"] == sizes["RAdam"] == sizes["LAMB"] == 2 * full
    assert sizes["LARS"] == full  # the momentum buffer
    assert sizes["Adafactor"] < sizes["NAdam"] / 100
    assert LARS([W], momentum=0.0).state_bytes() == 0


def _train(cls, kw, flat, steps=12):
    rng = np.random.default_rng(9)
    params = [Parameter(rng.standard_normal(s)) for s in [(4, 3), (3,), (2, 2, 2)]]
    buffer = flatten_parameters(params) if flat else None
    opt = cls(params, **kw)
    for t in range(steps):
        for p in params:
            p.grad = _grad(p.data, t)
        opt.step()
    if flat:  # the parameters still live in the flat buffer
        assert all(np.shares_memory(p.data, buffer.data) for p in params)
    return [p.data.copy() for p in params], opt


@pytest.mark.parametrize("cls,kw", [(NAdam, dict(lr=0.05, weight_decay=0.1)), (RAdam, dict(lr=0.05)),
                                    (Adafactor, dict()), (LARS, dict(weight_decay=0.1)), (LAMB, dict(lr=0.05))])
def test_flat_buffers_give_the_same_bits(cls, kw):
    plain, _ = _train(cls, kw, flat=False)
    flat, opt = _train(cls, kw, flat=True)
    for a, b in zip(plain, flat):
        np.testing.assert_array_equal(a, b)
    if cls._supports_flat:  # element-wise: one kernel call for the whole buffer (norm-based: tensor by tensor)
        assert opt._flat_plans[0].ok


def test_load_state_dict_rejects_bad_state_and_changes_nothing():
    W = Parameter(np.ones((3, 4)))
    opt = Adafactor([W])
    W.grad = np.ones((3, 4))
    opt.step()
    good = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["row_var"] = np.zeros((4, 1))
    with pytest.raises(ValueError, match="row_var"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    del bad["state"][0]["col_var"]
    with pytest.raises(ValueError, match="col_var"):
        opt.load_state_dict(bad)
    np.testing.assert_array_equal(opt.state[W]["row_var"], good["state"][0]["row_var"])
    n = NAdam([W])
    n.step()
    sd = n.state_dict()
    sd["state"][0]["mu_product"] = "one"
    with pytest.raises(ValueError, match="mu_product"):
        n.load_state_dict(sd)
    assert n.state[W]["mu_product"] == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** 0.004))


def test_nadam_keeps_mu_product_per_parameter(torch64):
    """A parameter that starts later has its own product of mu_i, as in torch."""
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    ta, tb = (torch64.ones(2, requires_grad=True) for _ in range(2))
    opt, topt = NAdam([a, b], lr=0.1), torch64.optim.NAdam([ta, tb], lr=0.1, foreach=False)
    for t in range(8):
        a.grad, ta.grad = _grad(a.data, t), torch64.tensor(_grad(a.data, t))
        if t >= 3:
            b.grad, tb.grad = _grad(b.data, t), torch64.tensor(_grad(b.data, t))
        opt.step()
        topt.step()
    assert opt.state[a]["mu_product"] == pytest.approx(topt.state[ta]["mu_product"].item(), rel=1e-15)
    assert opt.state[b]["mu_product"] == pytest.approx(topt.state[tb]["mu_product"].item(), rel=1e-15)
    assert opt.state[a]["mu_product"] != opt.state[b]["mu_product"]
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-14)
