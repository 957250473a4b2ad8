"""Benchmark: a fresh Python process runs ``import minigrad`` and its first Adam step (warm kernel cache).

The kernels are compiled on first use and cached on disk (``__pycache__`` next
to the kernel modules), so only the very first run on a machine pays for
compilation.  This script warms the cache once, then starts fresh processes
and reports, for each, the wall time of the whole process (interpreter start
to exit) and the time from the first line to the end of the first
``optimizer.step()``, split into ``import minigrad``, ``import minigrad.optim``
(numba) and the first step (numba loads its machinery and the cached kernel).

It also checks that importing minigrad compiles nothing (no numba dispatcher
has a compiled signature after the imports).

Run:  python benchmarks/import_time.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import time
t0 = time.perf_counter()
import numpy as np
import minigrad
t1 = time.perf_counter()
import minigrad.optim as optim
t2 = time.perf_counter()
import sys
from numba.core.dispatcher import Dispatcher
kernels = [obj for name, mod in list(sys.modules.items()) if name.startswith("minigrad") and mod is not None
           for obj in vars(mod).values() if isinstance(obj, Dispatcher)]
compiled = sum(len(k.signatures) for k in kernels)
p = minigrad.Parameter(np.ones(1000, dtype=np.float32))
p.grad = np.full(1000, 0.5, dtype=np.float32)
opt = optim.Adam([p], lr=1e-3)
opt.step()
t3 = time.perf_counter()
import json
print(json.dumps({"import_minigrad": t1 - t0, "import_optim": t2 - t1, "first_step": t3 - t2, "total": t3 - t0,
                  "compiled_at_import": compiled, "kernels": len(kernels)}))
"""


def run_child():
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["process_wall"] = wall
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    run_child()  # warm the kernel cache (compiles on a cold checkout)
    runs = [run_child() for _ in range(args.runs)]
    keys = ["import_minigrad", "import_optim", "first_step", "total", "process_wall"]
    print(f"{'':>18}" + "".join(f"{k:>17}" for k in keys))
    for name, fn in (("median", statistics.median), ("min", min)):
        print(f"{name:>18}" + "".join(f"{fn(r[k] for r in runs):16.3f}s" for k in keys))
    compiled = max(r["compiled_at_import"] for r in runs)
    assert runs[0]["kernels"] > 0, "no numba kernels found in the minigrad modules"
    best_total = min(r["total"] for r in runs)
    med_wall = statistics.median(r["process_wall"] for r in runs)
    print(f"\n  {'PASS' if compiled == 0 else 'FAIL'}  importing minigrad and minigrad.optim compiled "
          f"{compiled} of {runs[0]['kernels']} kernels (expected 0)")
    print(f"  {'PASS' if best_total < 0.8 else 'FAIL'}  import minigrad + first Adam step: "
          f"{best_total:.3f} s (best of {len(runs)}), median {statistics.median(r['total'] for r in runs):.3f} s; "
          f"target < 0.8 s  [whole process incl. interpreter start: median {med_wall:.3f} s]")


if __name__ == "__main__":
    main()
