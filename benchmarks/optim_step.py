"""Benchmark: one optimizer step -- minigrad's numba kernels vs numpy vs torch, and memory bandwidth.

Part 1 -- one Adam / SGD-momentum step on a single parameter of 1e4 ... 1e7
elements (float32 and float64), timed for

* ``minigrad``       -- ``optimizer.step()`` (serial kernel for small sizes; for large ones
                        whichever of serial/threaded it has measured faster, see kernels/common.py),
* ``mg serial/par``  -- the serial kernel and the ``prange`` kernel called directly,
* ``numpy temp``     -- the numpy reference implementation (a temporary per operation),
* ``numpy inplace``  -- numpy ufuncs with ``out=`` into preallocated scratch arrays,
* ``torch foreach`` and ``torch fused`` -- torch.optim on CPU,

and, as the bandwidth yardstick, a STREAM-triad-like in-place loop ``a += s*b``
(numba, serial and threads, best of both).  Effective bandwidth counts the
bytes an update must move: Adam reads p, g, m, v and writes p, m, v (7 arrays);
SGD-momentum reads p, g, b and writes p, b (5); the triad reads a, b and writes a (3).

Part 2 -- a model of 200 tensors of 1,000 float32 numbers: minigrad with the
flat buffer (one kernel call), minigrad per tensor (200 calls), torch foreach
and fused.

Every time is the minimum over rounds of the mean time per call, the
variants being timed round-robin (each round times each variant once), so
that all see the same machine load; the minimum is the least disturbed
estimate.  Ratios are computed within this run.  The last lines print PASS/FAIL for the project's targets.

Run:  python benchmarks/optim_step.py [--quick] [--threads N]
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import torch

from minigrad import optim
from minigrad.nn import Parameter
from minigrad.optim.kernels import adam_kernel, common, sgd_kernel


# ----------------------------------------------------------------- helpers
def race(fns, rounds=7, min_round=0.02):
    """Time several variants round-robin: each round times every variant once (best round kept).

    On a shared machine the load changes from second to second; interleaving
    gives every variant the same conditions, so the ratios stay meaningful.
    """
    calls = {}
    for name, fn in fns.items():
        fn()  # warm up (compile, allocate state)
        t = time.perf_counter()
        fn()
        calls[name] = max(1, int(min_round / max(time.perf_counter() - t, 1e-7)))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(0.002)  # let the previous variant's thread pool stop spinning
            t = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / calls[name])
    return best


@numba.njit(fastmath=False, error_model="numpy")
def triad_serial(a, b, s):
    for i in range(a.size):
        a[i] += s * b[i]


@numba.njit(fastmath=False, error_model="numpy", parallel=True)
def triad_parallel(a, b, s):
    for i in numba.prange(a.size):
        a[i] += s * b[i]


def numpy_adam_inplace(p, g, m, v, tmp, step, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam with numpy ufuncs writing into existing arrays (one scratch array, no allocation)."""
    t = p.dtype.type
    bc1, bc2s = 1 - b1 ** step, (1 - b2 ** step) ** 0.5
    np.subtract(g, m, out=tmp)
    tmp *= t(1 - b1)
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= t(1 - b2)
    v *= t(b2)
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= t(bc2s)
    tmp += t(eps)
    np.divide(m, tmp, out=tmp)
    tmp *= t(-lr / bc1)
    p += tmp


def numpy_sgd_inplace(p, g, b, tmp, lr=1e-3, momentum=0.9):
    t = p.dtype.type
    b *= t(momentum)
    b += g
    np.multiply(b, t(-lr), out=tmp)
    p += tmp


def torch_opt(cls, tensor, **kw):
    try:
        return cls([tensor], **kw)
    except (RuntimeError, TypeError, ValueError):
        return None


# ------------------------------------------------------------- part 1
def bench_single(n, dtype, rounds):
    rng = np.random.default_rng(0)
    itemsize = np.dtype(dtype).itemsize
    p0 = rng.standard_normal(n).astype(dtype)
    g = (rng.standard_normal(n) * 1e-3).astype(dtype)
    nt = numba.get_num_threads()
    tmp = np.empty(n, dtype)
    fns = {}

    a, b = p0.copy(), g.copy()
    s = dtype(1e-9)
    fns["triad serial"] = lambda: triad_serial(a, b, s)
    fns["triad par"] = lambda: triad_parallel(a, b, s)

    # ---- Adam
    p = Parameter(p0.copy())
    p.grad = g
    fns["adam", "minigrad"] = optim.Adam([p], lr=1e-3).step
    c = adam_kernel.adam_coefficients(1e-3, 0.9, 0.999, 1e-8, 0, 10.0, False, dtype)
    pk, mk, vk = p0.copy(), np.zeros(n, dtype), np.zeros(n, dtype)
    fns["adam", "mg serial"] = lambda: adam_kernel.adam_step_kernel(pk, g, mk, vk, vk, False, False, *c, 0, n)
    fns["adam", "mg par"] = lambda: adam_kernel.adam_step_kernel_parallel(pk, g, mk, vk, vk, False, False, *c, nt)
    pr, mr, vr = p0.copy(), np.zeros(n, dtype), np.zeros(n, dtype)
    kw = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, step=10.0, amsgrad=False, maximize=False)
    fns["adam", "numpy temp"] = lambda: adam_kernel.adam_step_reference(pr, g, mr, vr, None, **kw)
    fns["adam", "numpy inplace"] = lambda: numpy_adam_inplace(pr, g, mr, vr, tmp, 10.0)
    for mode in ("foreach", "fused"):
        tt = torch.tensor(p0.copy(), requires_grad=True)
        tt.grad = torch.from_numpy(g)
        topt = torch_opt(torch.optim.Adam, tt, lr=1e-3, **{mode: True})
        if topt is not None:
            fns["adam", f"torch {mode}"] = topt.step

    # ---- SGD with momentum
    p2 = Parameter(p0.copy())
    p2.grad = g
    fns["sgd", "minigrad"] = optim.SGD([p2], lr=1e-3, momentum=0.9).step
    cs = sgd_kernel.sgd_coefficients(1e-3, 0.9, 0, 0, dtype)
    ps, bs = p0.copy(), np.zeros(n, dtype)
    fns["sgd", "mg serial"] = lambda: sgd_kernel.sgd_step_kernel(ps, g, bs, False, False, False, *cs, 0, n)
    fns["sgd", "mg par"] = lambda: sgd_kernel.sgd_step_kernel_parallel(ps, g, bs, False, False, False, *cs, nt)
    pq, bq = p0.copy(), np.zeros(n, dtype)
    kws = dict(lr=1e-3, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False, first=False)
    fns["sgd", "numpy temp"] = lambda: sgd_kernel.sgd_step_reference(pq, g, bq, **kws)
    fns["sgd", "numpy inplace"] = lambda: numpy_sgd_inplace(pq, g, bq, tmp)
    for mode in ("foreach", "fused"):
        tt = torch.tensor(p0.copy(), requires_grad=True)
        tt.grad = torch.from_numpy(g)
        topt = torch_opt(torch.optim.SGD, tt, lr=1e-3, momentum=0.9, **{mode: True})
        if topt is not None:
            fns["sgd", f"torch {mode}"] = topt.step

    times = race(fns, rounds)
    res = {"adam": dict.fromkeys(VARIANTS, float("nan")), "sgd": dict.fromkeys(VARIANTS, float("nan"))}
    for key, t in times.items():
        if isinstance(key, tuple):
            res[key[0]][key[1]] = t
    res["triad"] = min(times["triad serial"], times["triad par"])
    res["triad GB/s"] = 3 * n * itemsize / res["triad"] / 1e9
    return res


def fmt_time(t):
    if t != t:
        return "     n/a"
    if t < 1e-3:
        return f"{t * 1e6:6.1f}us"
    return f"{t * 1e3:6.2f}ms"


VARIANTS = ["minigrad", "mg serial", "mg par", "numpy temp", "numpy inplace", "torch foreach", "torch fused"]
STREAMS = {"adam": 7, "sgd": 5}


def print_single(results, dtype):
    for algo, label in (("adam", "Adam"), ("sgd", "SGD momentum=0.9")):
        print(f"\n{label}, {np.dtype(dtype).name}: time per step (ratio to torch fused) and effective GB/s")
        print(f"{'n':>6} " + " ".join(f"{v:>18}" for v in VARIANTS) + f" {'triad a+=s*b':>18} {'mg/triad BW':>11}")
        for n, res in results.items():
            r = res[algo]
            fused = r["torch fused"]
            cells = []
            for v in VARIANTS:
                ratio = r[v] / fused if fused == fused else float("nan")
                cells.append(f"{fmt_time(r[v])} ({ratio:5.2f}x)".rjust(18))
            itemsize = np.dtype(dtype).itemsize
            gbs = STREAMS[algo] * n * itemsize / r["minigrad"] / 1e9
            triad = f"{fmt_time(res['triad'])} {res['triad GB/s']:5.1f}GB/s"
            print(f"{n:>6.0e} " + " ".join(cells) + f" {triad:>18} {gbs / res['triad GB/s']:10.0%}"
                  f"  (minigrad {gbs:.1f} GB/s)")


# ------------------------------------------------------------- part 2
def bench_model(rounds, count=200, size=1000):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(size).astype(np.float32) for _ in range(count)]
    grads = [(rng.standard_normal(size) * 1e-3).astype(np.float32) for _ in range(count)]
    fns = {}

    flat_params = [Parameter(a.copy()) for a in arrays]
    for p, g in zip(flat_params, grads):
        p.grad = g.copy()
    optim.flatten_parameters(flat_params)
    opt = optim.Adam(flat_params, lr=1e-3)
    fns["minigrad flat"] = opt.step

    def fresh_grads_step():  # zero_grad(set_to_none=True) then new gradient arrays: copied into the buffer
        for p, g in zip(flat_params, grads):
            p.grad = g
        opt.step()
    fns["minigrad flat, fresh grads"] = fresh_grads_step

    params = [Parameter(a.copy()) for a in arrays]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    fns["minigrad per tensor"] = optim.Adam(params, lr=1e-3).step

    for mode in ("foreach", "fused"):
        ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        for t, g in zip(ts, grads):
            t.grad = torch.from_numpy(g.copy())
        fns[f"torch {mode}"] = torch.optim.Adam(ts, lr=1e-3, **{mode: True}).step
    return race(fns, rounds)


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and no 1e7 size")
    ap.add_argument("--threads", type=int, default=None, help="threads for numba and torch (default: all)")
    args = ap.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 7
    sizes = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    print(f"numba {numba.__version__} ({numba.get_num_threads()} threads, layer chosen at first parallel call), "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}; "
          f"minigrad runs serial kernels below {common.PARALLEL_MIN_SIZE} elements and, above, whichever of "
          f"serial/threaded it measured faster")

    all_results = {}
    for dtype in (np.float32, np.float64):
        all_results[dtype] = {n: bench_single(n, dtype, rounds) for n in sizes}
        print_single(all_results[dtype], dtype)
    print(f"\nnumba threading layer: {numba.threading_layer()}")

    model = bench_model(rounds)
    fused = model["torch fused"]
    print("\nA model of 200 float32 tensors of 1,000 elements, one Adam step:")
    for k, t in model.items():
        print(f"  {k:>28}: {fmt_time(t)}  ({t / fused:5.2f}x torch fused)")

    # ---------------------------------------------------------- targets
    print("\nTargets (float32, this run):")
    ok_all = True

    def report(ok, text):
        nonlocal ok_all
        ok_all &= ok
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")

    f32 = all_results[np.float32]
    for algo, label in (("adam", "Adam"), ("sgd", "SGD-momentum")):
        for n in sizes:
            if n < 10**5:
                continue
            r = f32[n][algo]
            report(r["minigrad"] <= r["torch fused"],
                   f"{label} at {n:.0e}: minigrad {fmt_time(r['minigrad'])} <= torch fused {fmt_time(r['torch fused'])}"
                   f" (ratio {r['minigrad'] / r['torch fused']:.2f})")
        if 10**7 in f32:
            res = f32[10**7]
            gbs = STREAMS[algo] * 10**7 * 4 / res[algo]["minigrad"] / 1e9
            report(gbs >= 0.9 * res["triad GB/s"],
                   f"{label} at 1e7: {gbs:.1f} GB/s >= 90% of the in-place triad's {res['triad GB/s']:.1f} GB/s "
                   f"({gbs / res['triad GB/s']:.0%})")
    report(model["minigrad flat"] <= 0.15 * fused,
           f"200x1000 model: flat step {fmt_time(model['minigrad flat'])} <= 0.15 x torch fused "
           f"{fmt_time(fused)} (ratio {model['minigrad flat'] / fused:.3f})")
    print("  (import + first step: see benchmarks/import_time.py)")
    print("ALL PASS" if ok_all else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
