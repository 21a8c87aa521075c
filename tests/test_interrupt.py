"""Ctrl-C (or SIGTERM) mid-run: sessions closed, report and log written, non-zero exit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from endpoints.lab.fleet import Lab, RoomSpec


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_apply_closes_sessions_and_reports(make_lab, tmp_path: Path, signum: int) -> None:
    lab: Lab = make_lab([RoomSpec("slow-a", "SX20", "https"), RoomSpec("slow-b", "SX10", "http"),
                         RoomSpec("slow-c", "Group 550", "rest")], delay=60.0)
    report = tmp_path / "r.json"
    runs = tmp_path / "s" / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "endpoints", "apply", "-i", str(lab.inventory_path), "--report", str(report),
         "--run-dir", str(runs), "--verify-timeout", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    while sum(d.counters.writes for d in lab.devices()) < 3 * 6 and time.monotonic() < deadline:
        time.sleep(0.1)  # every room written: now all are waiting for registration
    time.sleep(0.5)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)
    assert process.returncode not in (0, None), output
    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    assert {h["status"] for h in data["hosts"].values()} == {"failed"}
    assert all("interrupted" in h["error"] for h in data["hosts"].values())
    assert all(d.counters.sessions_open == 0 for d in lab.devices())
    assert "verdict" in next(runs.glob("*-apply/events.jsonl")).read_text()
    assert next(runs.glob("*-apply/retry.txt")).read_text().split() == ["slow-a", "slow-b", "slow-c"]
