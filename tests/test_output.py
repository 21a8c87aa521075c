"""Output like the tools operators know (issue 11): each room as it finishes, check mode marked
everywhere, plain text for logs, run metadata in the report."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from endpoints.lab.fleet import Lab, RoomSpec
from tests.conftest import cli

ESCAPES = re.compile(r"\x1b\[|\r")


def endpoints(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "endpoints", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def test_each_room_is_printed_as_it_finishes(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("quick", "SX20", "https"), RoomSpec("slow", "SX20", "https")])
    lab.rooms["slow"].device.faults.slow = 1.5  # every reply of this room takes 1.5 s
    process = endpoints("facts", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"))
    assert process.stdout is not None
    first = process.stdout.readline()
    still_running = process.poll() is None
    rest, _ = process.communicate(timeout=120)
    assert "quick" in first and still_running, first  # printed while the slow room was still being read
    assert rest.index("slow") < rest.index("facts: 2 rooms")  # then the recap


def test_check_mode_is_marked_in_output_report_and_run_folder(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "https")])
    runs = tmp_path / "runs"
    result = cli("apply", "-i", str(lab.inventory_path), "--check", "--run-dir", str(runs),
                 "--report", str(tmp_path / "r.json"), "--limit", "r")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CHECK MODE")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["check"] is True and report["meta"]["check"] is True
    assert [p.name for p in runs.iterdir()][0].endswith("-apply-check")
    meta = report["meta"]
    assert meta["command"] == "apply" and meta["limit"] == "r" and meta["inventory"] == [str(lab.inventory_path)]
    assert meta["version"] and meta["started"] <= meta["finished"]
    room = report["hosts"]["r"]
    assert room["address"] == "127.0.0.1" and room["groups"] == ["building-a"]
    assert lab.rooms["r"].device.counters.writes == 0


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_a_dumb_terminal_get_plain_text(make_lab: Any, tmp_path: Path, env: dict[str, str]) -> None:
    lab: Lab = make_lab([RoomSpec(f"r{i}", "SX20", "https") for i in range(3)])
    process = endpoints("plan", "-i", str(lab.inventory_path), "--diff", "--run-dir", str(tmp_path / "runs"),
                        env={**env, "FORCE_COLOR": ""})
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "~ SIP URI: ''" in out  # --diff on plan: before and after
    assert not ESCAPES.search(out) and not ESCAPES.search(err), (out, err)


def test_one_room_is_one_room(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "https")])
    result = cli("facts", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"))
    assert "facts: 1 room " in result.output and "1 rooms" not in result.output


def test_every_command_has_an_example_in_its_help() -> None:
    for command in ("facts", "plan", "apply", "verify", "recover", "trust", "doctor", "rollback", "report"):
        shown = cli(command, "--help")
        assert shown.exit_code == 0 and "Example:" in shown.output and "endpoints " in shown.output, command
