"""Benchmark: minigrad ``fit`` vs the same MLP in PyTorch (CPU), measured in the same process.

A 64-128-128-10 ReLU MLP on the standardized digits (80/20 stratified split),
Adam lr 1e-3, 20 epochs, at several batch sizes. For each batch size it prints
the milliseconds per epoch of

* ``bare``  -- the minigrad loop written by hand (forward, loss, zero_grad, backward, step),
* ``fit``   -- ``minigrad.train.fit`` with its progress bar and History,
* ``torch`` -- torch.optim.Adam (default, foreach) and ``fused=True``,

the ratios fit/torch and fit/bare, and the test accuracy after 20 epochs.
An epoch's time is the fastest of epochs 2..N (``--stat min``, robust when other
processes share the CPU) or their median (``--stat median``); epoch 1 includes warm-up.
Each variant is run ``--repeats`` times, the variants taking turns (bare, fit,
torch, fused, bare, ...), and the best run counts: a burst of load on a shared
machine then hits one run of a variant, not the variant.
``--blas-threads N`` limits numpy's BLAS pool (threadpoolctl) for the minigrad
runs; the default leaves it as the environment set it (``OPENBLAS_NUM_THREADS``).
minigrad's parameters are packed in one flat buffer (``optim.flatten_parameters``),
so the optimizer updates the whole model with one kernel call. Both libraries
start from the same weights and see the same batches in the same order.

Run:  python benchmarks/train_mlp.py [--batch-sizes 8 32 128 512] [--epochs 20]
      [--dtype float64|float32] [--stat min|median] [--repeats 3] [--torch-threads N]
      [--blas-threads N] [--profile]
      (the progress bars go to stderr)
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import math
import pstats
import statistics
import sys
import time

import numpy as np

import minigrad.functional as F
from minigrad import Tensor, nn, optim
from minigrad.data import DataLoader, StandardScaler, load_digits, train_test_split
from minigrad.train import accuracy, fit


def load_data(dtype):
    X, y = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, rng=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return (scaler.transform(Xtr).astype(dtype), ytr.astype(np.int64),
            scaler.transform(Xte).astype(dtype), yte.astype(np.int64))


def make_minigrad(dtype, batch_size, Xtr, ytr, seed=0):
    model = nn.MLP([64, 128, 128, 10], rng=seed, dtype=dtype)
    optim.flatten_parameters(model)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(Xtr, ytr, batch_size=batch_size, shuffle=True, rng=seed)
    return model, opt, loader


def test_accuracy_minigrad(model, Xte, yte):
    from minigrad import no_grad
    model.eval()
    with no_grad():
        acc = accuracy(model(Tensor(Xte)), yte)
    model.train()
    return acc


def run_bare(dtype, batch_size, epochs, data):
    Xtr, ytr, Xte, yte = data
    model, opt, loader = make_minigrad(dtype, batch_size, Xtr, ytr)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for X, y in loader:
            loss = F.cross_entropy(model(Tensor(X)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times, test_accuracy_minigrad(model, Xte, yte)


def run_fit(dtype, batch_size, epochs, data, progress=True):
    Xtr, ytr, Xte, yte = data
    model, opt, loader = make_minigrad(dtype, batch_size, Xtr, ytr)
    h = fit(model, F.cross_entropy, opt, loader, epochs, progress=progress)
    return h.epochs["time"], test_accuracy_minigrad(model, Xte, yte)


def run_torch(dtype, batch_size, epochs, data, fused):
    import torch
    Xtr, ytr, Xte, yte = data
    ref, _, loader = make_minigrad(dtype, batch_size, Xtr, ytr)   # same init, same batch order
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    layers = []
    for i, lin in enumerate(m for m in ref.modules() if isinstance(m, nn.Linear)):
        t = torch.nn.Linear(lin.in_features, lin.out_features, dtype=tdtype)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(lin.weight.data))
            t.bias.copy_(torch.from_numpy(lin.bias.data))
        layers += [t, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True if fused else None)
    loss_fn = torch.nn.functional.cross_entropy
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for X, y in loader:
            loss = loss_fn(model(torch.from_numpy(X)), torch.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = (model(torch.from_numpy(Xte)).argmax(1).numpy() == yte).mean()
    return times, float(acc)


def per_epoch(times, stat="min"):
    rest = times[1:] if len(times) > 1 else times
    return min(rest) if stat == "min" else statistics.median(rest)


def profile_fit(dtype, batch_size, data, epochs=5, top=18):
    prof = cProfile.Profile()
    Xtr, ytr, _, _ = data
    model, opt, loader = make_minigrad(dtype, batch_size, Xtr, ytr)
    fit(model, F.cross_entropy, opt, loader, 1, progress=False)          # warm-up (numba)
    prof.enable()
    fit(model, F.cross_entropy, opt, loader, epochs + 1, progress=False)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 128, 512])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--stat", choices=["min", "median"], default="min")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant (the best counts)")
    parser.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="numpy BLAS threads for the minigrad runs (threadpoolctl)")
    parser.add_argument("--profile", action="store_true", help="cProfile fit at batch 32")
    args = parser.parse_args(argv)
    import torch
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas():
        """The BLAS limit for the minigrad runs (a fresh context each time: limits apply when made)."""
        if args.blas_threads:
            return threadpool_limits(args.blas_threads, user_api="blas")
        return contextlib.nullcontext()

    dtype = np.dtype(args.dtype).type
    data = load_data(dtype)
    with blas():
        blas_threads = sorted({p["num_threads"] for p in threadpool_info()
                               if p["user_api"] == "blas" and "numpy" in p["filepath"]})
    print(f"digits: {len(data[0])} train / {len(data[2])} test, {args.dtype}, {args.epochs} epochs, "
          f"best of {args.repeats} runs; torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numpy BLAS {blas_threads} thread(s); ms per epoch, {args.stat} of epochs 2..")
    with blas():
        run_fit(dtype, 32, 2, data, progress=False)          # compile the numba kernels once
    header = (f"{'batch':>5} {'bare':>8} {'fit':>8} {'torch':>8} {'fused':>8} {'fit/torch':>9} "
              f"{'fit/fused':>9} {'fit/bare':>8}  acc fit / torch")
    rows = []
    for bs in args.batch_sizes:
        best = dict.fromkeys(("bare", "fit", "torch", "fused"), math.inf)
        for _ in range(args.repeats):
            with blas():
                bare, _ = run_bare(dtype, bs, args.epochs, data)
                fitt, acc = run_fit(dtype, bs, args.epochs, data)
            tt, tacc = run_torch(dtype, bs, args.epochs, data, fused=False)
            tf, _ = run_torch(dtype, bs, args.epochs, data, fused=True)
            for key, times in zip(best, (bare, fitt, tt, tf)):
                best[key] = min(best[key], per_epoch(times, args.stat))
        b, f, t, u = (1e3 * best[k] for k in ("bare", "fit", "torch", "fused"))
        rows.append(f"{bs:>5} {b:8.2f} {f:8.2f} {t:8.2f} {u:8.2f} {f / t:9.2f} {f / u:9.2f} "
                    f"{f / b - 1:+8.1%}  {acc:.3f} / {tacc:.3f}")
        sys.stderr.flush()
    print(header)
    print("\n".join(rows))
    print("targets: batch 32 fit/torch <= 0.5, fit/fused <= 0.7; batch 8 fit/torch <= 0.4; "
          "fit/bare <= +10%; accuracy >= 0.95")
    if args.profile:
        print(profile_fit(dtype, 32, data))


if __name__ == "__main__":
    main()
