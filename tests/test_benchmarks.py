"""The benchmark scripts run end to end (tiny settings; they print timings and assert none)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(script, *args, timeout=300):
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def test_train_mlp_prints_a_row_per_batch_size():
    pytest.importorskip("torch")
    text = _run("train_mlp.py", "--batch-sizes", "64", "--epochs", "2", "--repeats", "1", "--blas-threads", "1")
    assert "numpy BLAS [1] thread(s)" in text and "best of 1 runs" in text
    row = next(line for line in text.splitlines() if line.split()[:1] == ["64"])
    ratios = [float(x) for x in row.split()[5:7]]
    assert all(r > 0 for r in ratios)
    acc = re.search(r"(\d\.\d{3}) / (\d\.\d{3})$", row)
    assert acc and float(acc.group(1)) > 0.5          # two epochs already learn the digits


def test_import_time_runs():
    text = _run("import_time.py", "--runs", "1")
    assert re.search(r"\d", text)
