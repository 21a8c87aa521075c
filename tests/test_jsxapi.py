"""Cisco's own xAPI client (npm `jsxapi` 6.0.0) drives lab codecs over SSH, as macros and
control scripts do on real ones: keyboard-interactive login, `echo off`,
`xpreferences outputmode json`, `| resultId="…"` tags, `xFeedback register/deregister`.

jsxapi is installed from npm once per machine into a temporary folder (shared by every
test worker through a lock). Skipped, with the reason, only when node or npm is absent.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.registration import MeetingService

VERSION = "6.0.0"
SCRIPT = Path(__file__).parent / "fixtures" / "jsxapi" / "drive.js"
PASSWORD = 'Jsx "Admin" 7'
SOFTWARE = {"SX10": "ce8.2.1.e9daf06", "SX20": "ce9.4.0.cd3c4c6"}


@pytest.fixture(scope="session")
def jsxapi_modules() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to install Cisco's jsxapi client (not found on PATH)")
    home = Path(tempfile.gettempdir()) / f"endpoints-jsxapi-{VERSION}"
    home.mkdir(exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install for every worker of the run
        installed = home / "node_modules" / "jsxapi" / "package.json"
        if not installed.exists() or json.loads(installed.read_text())["version"] != VERSION:
            result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save", f"jsxapi@{VERSION}"],
                                    cwd=home, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, f"npm install jsxapi@{VERSION} failed:\n{result.stderr[-2000:]}"
    return home / "node_modules"


@pytest.fixture(scope="module")
def loop() -> Iterator[LabLoop]:
    running = LabLoop()
    yield running
    running.stop()


@pytest.fixture
def codec(loop: LabLoop) -> Iterator[Any]:
    started: list[CiscoDevice] = []
    service = MeetingService(delay=0.2)

    def make(model: str) -> tuple[CiscoDevice, MeetingService]:
        device = CiscoDevice(f"room-{model.lower()}", model, SOFTWARE[model], service=service,
                             serial=f"FTT{model}JSX", admin_password=PASSWORD)
        loop.call(device.start({"ssh": free_port()}))
        started.append(device)
        return device, service

    yield make
    for device in started:
        loop.call(device.stop())


def drive(modules: Path, device: CiscoDevice, number: str, sip_password: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}  # no agent: jsxapi would try it
    env.update(NODE_PATH=str(modules), PORT=str(device.ports["ssh"]), PASSWORD=PASSWORD, NUMBER=number,
               SIP_PASSWORD=sip_password)
    result = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip(), result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, (report, result.stderr)
    return report


@pytest.mark.parametrize("model", ["SX10", "SX20"])
def test_jsxapi_reads_writes_and_follows_a_lab_codec(jsxapi_modules: Path, codec: Any, model: str) -> None:
    device, service = codec(model)
    number = "+99111612001" if model == "SX10" else "+99111612002"
    service.add_account(number, "Sip-Pw-31")
    report = drive(jsxapi_modules, device, number, "Sip-Pw-31")

    assert device.counters.auth_methods == ["keyboard-interactive"]  # jsxapi never offers plain password auth
    assert report["version"] == {"ok": SOFTWARE[model]}
    assert report["product"] == {"ok": model}
    assert report["registration_before"] == {"ok": "Inactive"}
    assert report["write_quotes"] == {"ok": None}
    assert report["read_quotes"] == {"ok": 'Room "A" 1'} and device.value("SIP DisplayName") == 'Room "A" 1'
    assert report["read_proxy"] == {"ok": ""}
    # the codec's own refusals, as jsxapi maps them (3: invalid path, 2: illegal value)
    assert report["bad_path"]["error"] == {"code": 3, "message": "No match on address expression.",
                                           "data": {"xpath": "Configuration/SIP/Bogus/Thing"}}
    assert report["bad_status_path"]["error"]["code"] == 3
    assert report["illegal_value"]["error"] == {"code": 2, "message": "Illegal value", "data": None}
    assert report["unknown_command"]["error"]["message"] == "Unknown command"
    assert device.value("SIP DefaultTransport") == "Tls"

    # feedback pushed by the codec, then deregistered
    statuses = [entry["Status"] for event in report["feedback"] for entry in _registrations(event)]
    assert "Registered" in statuses, report["feedback"]
    assert report["registration_after"] == {"ok": "Registered"}
    assert device.feedback_seen == ["register /Status/SIP/Registration", "deregister /Status/SIP/Registration"]
    assert device.counters.sessions_open == 0


def _registrations(event: Any) -> list[dict[str, Any]]:
    """jsxapi hands a `SIP Registration` listener the Registration array (or one entry)."""
    return event if isinstance(event, list) else [event]
