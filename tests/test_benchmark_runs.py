"""The rollout benchmark keeps working (its times are read by people, never asserted).

What is asserted is counted, not timed: every room ends ok, no device session is left
open, and a Cisco room's visit (apply with verification) takes one connection and one
login however long it waits for registration (issue 16: at most 3 and 2).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "rollout.py"


def test_the_rollout_benchmark_runs_a_tiny_fleet(tmp_path: Path) -> None:
    recorded = (ROOT / "benchmarks" / "results.json").read_text()
    figures = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(BENCH), "--rooms", "4", "--latency", "0", "--delay", "0.2",
                           "--forks", "2", "--json", str(figures)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    (run,) = json.loads(figures.read_text()).values()
    assert (run["ok"], run["not_ok"], run["sessions_open"]) == (4, 0, 0), done.stdout
    assert run["connections_per_room"] <= 3 and run["logins_per_room"] <= 2, done.stdout
    assert "wall/bound" in done.stdout and "issue 16 targets" in done.stdout
    assert (ROOT / "benchmarks" / "results.json").read_text() == recorded  # an ad-hoc run is not recorded


def test_the_readme_table_comes_from_the_recorded_results(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    done = subprocess.run([sys.executable, str(BENCH), "--readme", str(readme)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())["scenarios"]
    text = readme.read_text()
    for name, figures in results.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {figures['wall']:.1f} s |" in row and f"| {figures['logins_per_room']:.2f} |" in row
    assert readme.read_text() == (ROOT / "README.md").read_text(), "README's Speed table is not regenerated"
