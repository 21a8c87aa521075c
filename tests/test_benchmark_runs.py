"""The rollout benchmark keeps working (its numbers are read by people, never asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_rollout_benchmark_runs_a_tiny_fleet() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "rollout.py"), "--rooms", "4", "--latency", "0",
                           "--delay", "0.2", "--forks", "2", "--first-poll", "0.1"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    row = done.stdout.strip().splitlines()[-1].split()
    assert row[0] == "2" and row[-2:] == ["4", "0"], done.stdout  # forks, then 4 rooms ok and 0 not ok
