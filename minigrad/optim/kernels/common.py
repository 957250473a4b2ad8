r"""What every optimizer kernel shares: the numba options and the serial/parallel choice.

Each ``<algo>_kernel.py`` holds two things side by side:

* ``<algo>_step_reference(...)`` -- the update written with plain numpy
  operations (readable, with temporaries), and
* ``<algo>_step_kernel(...)`` -- the same arithmetic, operation for operation,
  as one numba loop that reads each element of the parameter, gradient and
  state once and writes it back in place (no temporaries).

Both receive the *same* scalar coefficients, computed once in Python (in double
precision, as torch does) and cast to the parameter's dtype, so the two agree
bit for bit; the tests check it.

Why ``error_model="numpy"``: with numba's default ``error_model="python"`` a
division must check for zero and raise ``ZeroDivisionError``, which stops LLVM
from vectorizing the loop (4-8x slower).  With ``"numpy"`` a division by zero
gives ``inf``/``nan`` like numpy, the loop vectorizes, and the results are
unchanged.  ``fastmath=False`` keeps IEEE semantics (no reassociation, no fused
multiply-add), which is what makes the results reproducible.

The kernels update the index range ``[lo, hi)``.  They first *slice* their
arrays (``param = param[lo:hi]``, ...) and then loop over ``range(param.size)``:
a loop that starts at zero lets numba prove the index non-negative and drop
the negative-index (wraparound) check, which would otherwise block
vectorization -- ``for i in range(lo, hi)`` runs 5-8x slower.

Threads.  Each kernel has a ``*_parallel`` twin that cuts the range into one
slice per thread (``numba.prange``) and runs the serial kernel on each slice,
so both give the same bits.  Whether threads pay off depends on the size (a
parallel region costs microseconds to start) *and* on whether the other cores
are free: on a busy two-core machine one descheduled thread makes the whole
step wait for milliseconds.  So :func:`launch` measures instead of guessing:
below ``PARALLEL_MIN_SIZE`` elements it always runs the serial kernel; above,
it times both variants on the first calls for each size (one power of two
wide) and dtype, keeps the faster, and re-times the other now and then (less
and less often while it stays slower).  Set ``PARALLEL_MIN_SIZE`` very large to
never use threads.
"""
from __future__ import annotations

import time

import numba

__all__ = ["JIT_OPTIONS", "PARALLEL_OPTIONS", "PARALLEL_MIN_SIZE", "launch"]

JIT_OPTIONS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
PARALLEL_OPTIONS = dict(JIT_OPTIONS, parallel=True)

# Below this many elements the serial kernel runs: a parallel region costs ~5-10 us to start, and on
# two cores threads gain little under ~2e5 elements (Adam float32: 40 us serial vs ~25 us threaded at
# 1e5 on an idle machine, but milliseconds whenever another process holds a core).
PARALLEL_MIN_SIZE = 1 << 18

_EXPLORE_FIRST, _EXPLORE_MAX, _SAMPLES = 8, 1024, 5


class _Choice:
    """Recent timings of the serial (0) and parallel (1) variants for one (kernel, dtype, size) bucket."""

    __slots__ = ("samples", "warm", "calls", "explore_at", "interval", "exploring", "best")

    def __init__(self):
        self.samples = [[], []]  # the last few seconds-per-call of each variant
        self.warm = [False, False]  # the first call of a variant may compile or load it: not timed
        self.calls = 0
        self.explore_at = 0
        self.interval = _EXPLORE_FIRST
        self.exploring = False
        self.best = None

    def estimate(self, which):
        """Median of the recent timings (one unlucky call -- a descheduled thread -- does not count)."""
        s = sorted(self.samples[which])
        return s[len(s) // 2] if s else None

    def pick(self):
        serial, parallel = self.estimate(0), self.estimate(1)
        if serial is None or parallel is None:
            return 0 if serial is None and (self.warm[1] or not self.warm[0]) else 1
        best = 0 if serial <= parallel else 1
        if best != self.best:  # the ranking changed: check the loser again soon
            self.best, self.interval, self.explore_at = best, _EXPLORE_FIRST, self.calls + _EXPLORE_FIRST
        self.exploring = self.calls >= self.explore_at
        if self.exploring:  # now and then, re-time the slower variant
            self.explore_at = self.calls + self.interval
            self.interval = min(2 * self.interval, _EXPLORE_MAX)
            return 1 - best
        return best

    def record(self, which, seconds):
        self.calls += 1
        if not self.warm[which]:
            self.warm[which] = True
            return
        samples = self.samples[which]
        if self.exploring:  # a re-timed variant's old timings are stale
            samples.clear()
        samples.append(seconds)
        if len(samples) > _SAMPLES:
            del samples[0]
        self.exploring = False


_CHOICES = {}


def launch(kernel, kernel_parallel, n, *args):
    """Run ``kernel(*args, 0, n)`` or ``kernel_parallel(*args, num_threads)``, whichever is faster here.

    ``args[0]`` is the parameter array (its dtype is part of the choice).  Both
    variants compute the same bits; only the time differs.
    """
    if n < PARALLEL_MIN_SIZE or numba.config.NUMBA_NUM_THREADS < 2:
        kernel(*args, 0, n)
        return
    key = (kernel, args[0].dtype.num, n.bit_length())
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _CHOICES[key] = _Choice()
    which = choice.pick()
    start = time.perf_counter()
    if which:
        kernel_parallel(*args, numba.get_num_threads())
    else:
        kernel(*args, 0, n)
    choice.record(which, time.perf_counter() - start)
