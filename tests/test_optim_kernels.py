"""Each optimizer kernel equals its plain-numpy reference bit for bit (float32 and float64).

The same file runs again in a subprocess with NUMBA_DISABLE_JIT=1 (last test), so
the kernels are also checked as plain Python.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from _nojit import rerun_without_jit

from minigrad.optim.kernels import (adadelta_kernel, adagrad_kernel, adam_kernel, adamax_kernel, rmsprop_kernel,
                                    sgd_kernel)

N = 301  # not a multiple of any vector width: the remainder loop is exercised too


def _arrays(rng, dtype, k, positive=()):
    out = []
    for i in range(k):
        a = rng.standard_normal(N).astype(dtype)
        out.append(np.abs(a) if i in positive else a)
    return out


# name -> (step, reference, number of state arrays, indices of non-negative states, option sets)
CASES = {
    "sgd": (sgd_kernel.sgd_step, sgd_kernel.sgd_step_reference, 1, (), [
        dict(lr=0.1, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False),
        dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False),
        dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1, nesterov=False, maximize=True),
        dict(lr=0.1, momentum=0.8, dampening=0, weight_decay=0.01, nesterov=True, maximize=False),
    ]),
    "adagrad": (adagrad_kernel.adagrad_step, adagrad_kernel.adagrad_step_reference, 1, (0,), [
        dict(lr=0.1, lr_decay=0, weight_decay=0, eps=1e-10, maximize=False),
        dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, eps=1e-3, maximize=True),
    ]),
    "rmsprop": (rmsprop_kernel.rmsprop_step, rmsprop_kernel.rmsprop_step_reference, 3, (0,), [
        dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False),
        dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.9, centered=True, maximize=False),
        dict(lr=0.01, alpha=0.3, eps=1e-4, weight_decay=0, momentum=0, centered=True, maximize=True),
    ]),
    "adadelta": (adadelta_kernel.adadelta_step, adadelta_kernel.adadelta_step_reference, 2, (0, 1), [
        dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
        dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1, maximize=True),
    ]),
    "adam": (adam_kernel.adam_step, adam_kernel.adam_step_reference, 3, (1, 2), [
        dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, amsgrad=False, maximize=False),
        dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, amsgrad=True, maximize=False),
        dict(lr=1e-2, beta1=0.3, beta2=0.9, eps=1e-3, weight_decay=0.1, amsgrad=False, maximize=True,
             decoupled_weight_decay=True),
        dict(lr=1e-2, beta1=0.6, beta2=0.99, eps=1e-8, weight_decay=0.05, amsgrad=True, maximize=True,
             decoupled_weight_decay=True),
    ]),
    "adamax": (adamax_kernel.adamax_step, adamax_kernel.adamax_step_reference, 2, (1,), [
        dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, maximize=False),
        dict(lr=2e-3, beta1=0.2, beta2=0.5, eps=1e-3, weight_decay=0.1, maximize=True),
    ]),
}


def _run(name, opts, dtype, which):
    step_fn, ref_fn, nstate, positive, _ = CASES[name]
    rng = np.random.default_rng(7)
    param, *state = _arrays(rng, dtype, 1 + nstate, positive=tuple(i + 1 for i in positive))
    if name == "rmsprop":  # a centered second moment is at least the squared mean
        state[0] += state[1] * state[1]
    fn = step_fn if which == "kernel" else ref_fn
    for t in range(1, 4):
        grad = rng.standard_normal(N).astype(dtype)
        kw = dict(opts)
        if name == "sgd":
            kw["first"] = t == 1
        if name in ("adagrad", "adam", "adamax"):
            kw["step"] = float(t)
        if name == "rmsprop":
            state_args = (state[0], state[1] if opts["centered"] else None, state[2] if opts["momentum"] else None)
        elif name == "adam":
            state_args = (state[0], state[1], state[2] if opts["amsgrad"] else None)
        elif name == "sgd":
            state_args = (state[0] if opts["momentum"] else None,)
        else:
            state_args = tuple(state)
        grad_before = grad.copy()
        fn(param, grad, *state_args, **kw)
        assert np.array_equal(grad, grad_before), "the gradient must not be modified"
    return [param] + state


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,index", [(n, i) for n, c in CASES.items() for i in range(len(c[4]))])
def test_kernel_equals_reference(name, index, dtype):
    opts = CASES[name][4][index]
    got = _run(name, opts, dtype, "kernel")
    want = _run(name, opts, dtype, "reference")
    for g, w in zip(got, want):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(g, w, strict=True)
    assert np.all(np.isfinite(got[0]))


def test_parallel_kernel_equals_serial():
    """The prange variant (one slice per thread) gives the same bits as the serial loop."""
    rng = np.random.default_rng(3)
    n = 1003
    for dtype in (np.float64, np.float32):
        p, g, m, v, vm = (rng.standard_normal(n).astype(dtype) for _ in range(5))
        v, vm = np.abs(v), np.abs(vm)
        c = adam_kernel.adam_coefficients(1e-2, 0.9, 0.999, 1e-8, 0.1, 3.0, False, dtype)
        serial = [a.copy() for a in (p, m, v, vm)]
        adam_kernel.adam_step_kernel(serial[0], g, serial[1], serial[2], serial[3], True, False, *c, 0, n)
        par = [a.copy() for a in (p, m, v, vm)]
        adam_kernel.adam_step_kernel_parallel(par[0], g, par[1], par[2], par[3], True, False, *c, 3)
        for a, b in zip(serial, par):
            np.testing.assert_array_equal(a, b, strict=True)
        b_serial, b_par, ps, pp = m.copy(), m.copy(), p.copy(), p.copy()
        cs = sgd_kernel.sgd_coefficients(0.1, 0.9, 0.1, 0.01, dtype)
        sgd_kernel.sgd_step_kernel(ps, g, b_serial, False, False, False, *cs, 0, n)
        sgd_kernel.sgd_step_kernel_parallel(pp, g, b_par, False, False, False, *cs, 3)
        np.testing.assert_array_equal(ps, pp, strict=True)
        np.testing.assert_array_equal(b_serial, b_par, strict=True)


def test_kernel_handles_multidimensional_contiguous_arrays():
    rng = np.random.default_rng(0)
    shape = (7, 5, 3)
    p, g = rng.standard_normal(shape), rng.standard_normal(shape)
    m, v = np.zeros(shape), np.zeros(shape)
    p2, m2, v2 = p.copy(), m.copy(), v.copy()
    kw = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, step=1.0, amsgrad=False, maximize=False)
    adam_kernel.adam_step(p, g, m, v, None, **kw)
    adam_kernel.adam_step_reference(p2, g, m2, v2, None, **kw)
    np.testing.assert_array_equal(p, p2)
    assert p.shape == shape


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already the NUMBA_DISABLE_JIT=1 run")
def test_kernels_as_plain_python():
    """Re-run this file with NUMBA_DISABLE_JIT=1: the kernels as interpreted Python match too."""
    rerun_without_jit(__file__, "not plain_python and not compiles_nothing", timeout=300)


def test_importing_minigrad_compiles_nothing():
    code = ("import sys, minigrad, minigrad.optim\n"
            "from numba.core.dispatcher import Dispatcher\n"
            "ks = [o for n, m in list(sys.modules.items()) if n.startswith('minigrad') and m is not None\n"
            "      for o in vars(m).values() if isinstance(o, Dispatcher)]\n"
            "print(len(ks), sum(len(k.signatures) for k in ks))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    kernels, compiled = map(int, out.stdout.split())
    assert kernels >= 12 and compiled == 0


def test_launch_times_both_variants_and_keeps_the_faster():
    from minigrad.optim.kernels.common import _EXPLORE_MAX, _Choice

    choice = _Choice()
    picks = []
    for _ in range(600):
        which = choice.pick()
        picks.append(which)
        choice.record(which, 5.0 if which else 1.0)  # threads are slower here
    assert picks[:4] == [0, 1, 0, 1]  # warm-up (untimed) then one timed call of each
    assert sum(picks) < 12 and choice.interval == _EXPLORE_MAX  # re-timed less and less often
    for _ in range(_EXPLORE_MAX + 100):  # the machine quiets down: threads become faster
        which = choice.pick()
        picks.append(which)
        choice.record(which, 1.0 if which else 5.0)
    assert all(picks[-100:])
    for k in range(1000):  # a burst of slow threaded calls (descheduled threads) does not stick
        which = choice.pick()
        picks.append(which)
        choice.record(which, (30.0 if 500 <= k < 504 else 1.0) if which else 5.0)
    assert sum(picks[-400:]) > 390


def test_optimizer_steps_through_either_variant_bit_identically(monkeypatch):
    """With the size threshold at 0, launch alternates serial and threaded kernels: same bits as numpy."""
    from minigrad import optim
    from minigrad.nn import Parameter
    from minigrad.optim.kernels import common

    monkeypatch.setattr(common, "PARALLEL_MIN_SIZE", 0)
    monkeypatch.setattr(common, "_CHOICES", {})
    rng = np.random.default_rng(5)
    p = Parameter(rng.standard_normal(2001))
    opt = optim.Adam([p], lr=0.01, amsgrad=True)
    ref, m, v, vmax = p.data.copy(), np.zeros(2001), np.zeros(2001), np.zeros(2001)
    for t in range(1, 9):
        g = rng.standard_normal(2001)
        p.grad = g
        opt.step()
        adam_kernel.adam_step_reference(ref, g, m, v, vmax, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                                        weight_decay=0, step=float(t), amsgrad=True, maximize=False)
        np.testing.assert_array_equal(p.data, ref)
    assert any(c.warm[1] for c in common._CHOICES.values())  # the threaded kernel did run
