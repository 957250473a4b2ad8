"""Re-run a test file's kernel tests with NUMBA_DISABLE_JIT=1, so the kernel bodies run as plain Python.

Coverage then sees the kernels' lines, and the interpreted source is checked against the
numpy references too (a kernel that only works compiled would be a bug waiting for a debugger).
"""
import os
import subprocess
import sys


def rerun_without_jit(test_file, select, timeout=600):
    """Run ``pytest test_file -k select`` in a subprocess with NUMBA_DISABLE_JIT=1; assert that it passed."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", test_file, "-q", "-x", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "-k", select],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
