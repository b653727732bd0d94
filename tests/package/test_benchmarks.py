"""The benchmark scripts run end to end (tiny sizes; the numbers are in docs/benchmarks.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_bench_grpo_smoke():
    pytest.importorskip("torch")
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_grpo.py"),
            "--batch",
            "1",
            "--seq",
            "4",
            "--vocab",
            "300",
            "--hidden",
            "8",
            "--repeats",
            "1",
            "--inputs",
            "logits",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line for line in out.stdout.splitlines() if line.startswith("| logits")]
    assert len(rows) >= 4 and any("| ours |" in row for row in rows)


@pytest.mark.slow
def test_bench_env_smoke():
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_env.py"), "--seeds", "1", "--repeats", "1", "--frames", "20"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ticks/s with text observations" in out.stdout and "frames/s" in out.stdout


@pytest.mark.slow
def test_bench_train_smoke():
    pytest.importorskip("transformers")
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_train.py"), "--tasks", "1", "--group", "2", "--baseline-episodes", "1",
         "--max-calls", "2"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    assert any("(baseline)" in r for r in rows) and any("(ours)" in r for r in rows) and "ratio" in rows[-1]


@pytest.mark.slow
def test_bench_sft_smoke():
    pytest.importorskip("transformers")
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_sft.py"), "--batch", "4", "--rows-per-pass", "2", "--steps", "1",
         "--repeats", "1"],
        capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| one pass (baseline) |") and rows[1].endswith("| 1.00x |")
    assert rows[2].startswith("| passes of 2 |")
