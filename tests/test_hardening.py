"""Hostile values, hostile devices, hostile input (issue 19): each defect with a test that
failed on the code before, over real sockets where a device is involved."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from endpoints.lab.fleet import Lab, LabSpec, RoomSpec
from tests.conftest import cli

DEVICE_KEYS = ("device_credentials",)


def hosts_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["hosts"]


def rewrite(lab: Lab, edit: Callable[[dict[str, Any]], None], name: str = "edited.yaml") -> Path:
    """The lab's inventory with an edit, beside it (so its relative secret files still work)."""
    data = yaml.safe_load(lab.inventory_path.read_text())
    edit(data)
    path = lab.folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def room_vars(data: dict[str, Any], name: str) -> dict[str, Any]:
    for group in data["all"]["children"].values():
        if name in group.get("hosts", {}):
            return group["hosts"][name]  # type: ignore[no-any-return]
    raise KeyError(name)


# --- 1. a line break in a value never runs a command ------------------------------------------

@pytest.mark.parametrize("model", ["Group 550", "HDX 7000"])
def test_a_line_break_in_the_device_password_is_refused_before_anything_is_sent(make_lab: Any, tmp_path: Path,
                                                                              model: str) -> None:
    lab: Lab = make_lab([RoomSpec("r", model, "telnet", state="registered")])
    device = lab.rooms["r"].device

    def inject(data: dict[str, Any]) -> None:
        room_vars(data, "r")["device_credentials"] = {
            "username": "admin", "password": "x\r\nsystemsetting sipenable False"}

    inventory = rewrite(lab, inject)
    before = (device.counters.requests, device.counters.logins_failed)
    settings = device.snapshot()
    for command in ("facts", "apply"):
        result = cli(command, "-i", str(inventory), "--run-dir", str(tmp_path / "runs"))
        assert result.exit_code == 1, result.output
        assert "device_credentials.password" in result.output and "\\x0d" in result.output
        assert f"{inventory}:" in result.output  # the file and the line
    assert (device.counters.requests, device.counters.logins_failed) == before  # nothing reached the device
    assert device.snapshot() == settings


@pytest.mark.parametrize(("key", "value"), [("display_name", "Room\rA"), ("display_name", "Room\x00A"),
                                            ("auth_username", "a\nsystemsetting sipenable False")])
def test_a_control_character_in_a_setting_value_is_refused_naming_its_key(make_lab: Any, tmp_path: Path,
                                                                         key: str, value: str) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "ssh"), RoomSpec("h", "SX20", "https")])

    def inject(data: dict[str, Any]) -> None:
        room_vars(data, "r")["sip"][key] = value

    result = cli("apply", "-i", str(rewrite(lab, inject)), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1, result.output
    assert f"key 'sip.{key}'" in result.output and "control character" in result.output
    assert all(room.device.counters.writes == 0 for room in lab.rooms.values())


# --- 2, 3, 12. devices that drip, hang or hang up: one deadline, one mapping -----------------

class Misbehaving:
    """A TCP server on loopback that accepts and then drips, stays silent, or hangs up."""

    def __init__(self, kind: str, greeting: bytes = b"") -> None:
        self.kind, self.greeting = kind, greeting
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close(): the test is over
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            if self.kind == "closes":
                return
            data = self.greeting
            while not self._stop.is_set():
                if self.kind == "drips":
                    try:
                        conn.sendall(data[:1] or b"x")
                    except OSError:
                        return
                    self.sent += 1
                    data = data[1:]
                time.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def misbehaving() -> Iterator[Callable[..., Misbehaving]]:
    made: list[Misbehaving] = []

    def make(kind: str, greeting: bytes = b"") -> Misbehaving:
        made.append(Misbehaving(kind, greeting))
        return made[-1]

    yield make
    for server in made:
        server.close()


GREETINGS = {"http": b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<xml>", "ssh": b"SSH-2.0-OpenSSH_9.0\r\n",
             "telnet": b"Password: ", "https": b""}
MODELS = {"http": "SX20", "ssh": "SX20", "telnet": "Group 550", "https": "SX20"}


def one_room_inventory(tmp_path: Path, transport: str, port: int) -> Path:
    protocol = "https" if transport == "https" else transport
    room = {"address": "127.0.0.1", "model": MODELS[transport], "transport": transport, "ports": {protocol: port},
            "ssh_host_key": "off", "tls_verify": False, "device_credentials": {"password": "dev-secret-1"},
            "sip": {"number": "+99111600001", "password": "sip-secret-1"}}
    path = tmp_path / f"{transport}.yaml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"room": room}}}))
    return path


@pytest.mark.parametrize("transport", ["http", "ssh", "telnet"])
def test_a_device_that_drips_its_answer_is_held_to_the_deadline(misbehaving: Any, tmp_path: Path,
                                                                 transport: str) -> None:
    server = misbehaving("drips", GREETINGS[transport] * 50)
    inventory = one_room_inventory(tmp_path, transport, server.port)
    started = time.monotonic()
    result = cli("facts", "-i", str(inventory), "--timeout", "1", "--run-dir", str(tmp_path / "runs"),
                 "--report", str(tmp_path / "r.json"))
    took = time.monotonic() - started
    room = hosts_of(tmp_path / "r.json")["room"]
    assert result.exit_code == 4 and room["status"] == "unreachable", result.output
    # three visits (two retries) of at most one total deadline each, plus their back-off: not one per byte
    assert took < 3 * 1 + 1.5 + 3, (took, server.sent)


@pytest.mark.parametrize("kind", ["silent", "closes"])
@pytest.mark.parametrize("transport", ["http", "https", "ssh", "telnet"])
def test_the_same_fault_is_unreachable_over_every_transport(misbehaving: Any, tmp_path: Path, transport: str,
                                                           kind: str) -> None:
    server = misbehaving(kind)
    inventory = one_room_inventory(tmp_path, transport, server.port)
    result = cli("facts", "-i", str(inventory), "--timeout", "1", "--run-dir", str(tmp_path / "runs"),
                 "--report", str(tmp_path / "r.json"))
    room = hosts_of(tmp_path / "r.json")["room"]
    assert (result.exit_code, room["status"]) == (4, "unreachable"), (room, result.output)
    assert "bug in endpoints" not in (room["advice"] or "")


def test_an_ssh_server_that_never_completes_the_handshake_is_unreachable_and_quiet(misbehaving: Any,
                                                                                   tmp_path: Path) -> None:
    server = misbehaving("silent")
    inventory = one_room_inventory(tmp_path, "ssh", server.port)
    done = subprocess.run([sys.executable, "-m", "endpoints", "facts", "-i", str(inventory), "--timeout", "1",
                           "--run-dir", str(tmp_path / "runs"), "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
    room = hosts_of(tmp_path / "r.json")["room"]
    assert done.returncode == 4 and room["status"] == "unreachable"
    assert "handshake" in room["error"] and room["advice"]
    assert "Traceback" not in done.stderr and "paramiko" not in done.stderr, done.stderr


# --- 7, 8. what a visit wrote is reported; a device that dies is not "the device says" -------------

def test_writes_of_a_visit_that_broke_off_are_reported(make_lab: Any, tmp_path: Path) -> None:
    lab = Lab(tmp_path / "lab", LabSpec([RoomSpec("r", "SX20", "https")], delay=0.3, boot_seconds=0.5))
    lab.start()
    try:
        device = lab.rooms["r"].device
        device.faults.reboot_after_write = True  # the codec takes the write, then restarts: the visit breaks off
        result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"),
                     "--report", str(tmp_path / "r.json"), "--verify-timeout", "20")
        room = hosts_of(tmp_path / "r.json")["r"]
        assert device.counters.writes >= 1
        assert room["status"] == "changed", (room, result.output)
        assert {c["setting"] for c in room["changes"]} >= {"SIP URI", "SIP Proxy 1 Address"}
        assert room["registration"]["state"] == "registered"  # verify survived the restart
    finally:
        lab.stop()


def test_a_device_that_stops_answering_while_it_registers_is_said_so(tmp_path: Path) -> None:
    lab = Lab(tmp_path / "lab", LabSpec([RoomSpec("r", "SX20", "https")], delay=0.3, boot_seconds=60))
    lab.start()
    try:
        lab.rooms["r"].device.faults.reboot_after_write = True
        cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"),
            "--report", str(tmp_path / "r.json"), "--verify-timeout", "3")
        room = hosts_of(tmp_path / "r.json")["r"]
        assert room["status"] == "unreachable", room
        assert "stopped answering" in room["error"] and "5061" not in room["advice"]
        assert "device says" not in room["error"]
    finally:
        lab.stop()


# --- 9. output paths are checked before any device is touched ----------------------------------

@pytest.mark.parametrize("option", ["--report", "--html", "--csv", "--run-dir"])
def test_a_bad_output_path_stops_the_run_before_any_write(make_lab: Any, tmp_path: Path, option: str) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "https")])
    folder = tmp_path / "a-folder"
    folder.mkdir()
    target = tmp_path / "a-file" if option == "--run-dir" else folder
    target.touch() if option == "--run-dir" else None
    args = ["apply", "-i", str(lab.inventory_path), option, str(target)]
    if option != "--run-dir":
        args += ["--run-dir", str(tmp_path / "runs")]
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert option in result.output
    assert lab.rooms["r"].device.counters.writes == 0


# --- 10. an operator's own setting does not send the SIP password -------------------------------

def test_an_operator_setting_alone_does_not_re_register(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "https", state="registered")])
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "site.yaml").write_text(
        "name: site-ce\nextends: cisco-ce\nsettings:\n  - setting: SystemUnit Name\n    value: '{host.name}-new'\n")
    device = lab.rooms["r"].device
    assert cli("verify", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs")).exit_code == 0
    attempts = device.registration.attempts  # the preset's registration, seen once
    result = cli("apply", "-i", str(lab.inventory_path), "--profiles", str(profiles), "--run-dir",
                 str(tmp_path / "runs"), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    room = hosts_of(tmp_path / "r.json")["r"]
    assert [c["setting"] for c in room["changes"]] == ["SystemUnit Name"]
    assert device.registration.attempts == attempts
    assert "SIP Authentication Password" not in device.counters.settings_written


# --- 12. an interrupted run: the rooms never reached are skipped --------------------------------

def test_rooms_never_reached_by_an_interrupted_run_are_skipped(make_lab: Any, tmp_path: Path) -> None:
    rooms = [RoomSpec(f"r{i}", "SX20", "https") for i in range(6)]
    lab: Lab = make_lab(rooms, delay=60.0)
    for device in lab.devices():
        device.faults.slow = 0.3  # a visit takes seconds: one fork cannot reach every room before the signal
    report = tmp_path / "r.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "endpoints", "apply", "-i", str(lab.inventory_path), "--report", str(report),
         "--run-dir", str(tmp_path / "runs"), "--forks", "1", "--verify-timeout", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    while sum(d.counters.writes for d in lab.devices()) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(2)
    output, _ = process.communicate(timeout=60)
    data = json.loads(report.read_text())
    statuses = [h["status"] for h in data["hosts"].values()]
    assert "skipped" in statuses, statuses
    assert data["summary"]["skipped"] == statuses.count("skipped")
    assert all(h["status"] == "failed" for h in data["hosts"].values() if h["status"] != "skipped"
               and h["error"]), data["hosts"]
    assert process.returncode == 2, output


# --- 11. input that slipped through ------------------------------------------------------------

@pytest.mark.parametrize("option", [("--timeout", "0"), ("--timeout", "-1"), ("--verify-timeout", "-5"),
                                    ("--verify-timeout", "0")])
def test_a_timeout_must_be_positive(tmp_path: Path, option: tuple[str, str]) -> None:
    inventory = tmp_path / "i.yaml"
    inventory.write_text("all:\n  hosts:\n    r: {address: 127.0.0.1, model: SX20}\n")
    result = cli("apply", "-i", str(inventory), *option, "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1 and option[0] in result.output
    assert not (tmp_path / "runs").exists()


def test_an_unknown_profile_names_the_file_line_and_key(tmp_path: Path) -> None:
    inventory = tmp_path / "i.yaml"
    inventory.write_text("all:\n  hosts:\n    r:\n      address: 127.0.0.1\n      model: SX20\n      profile: nope\n"
                         "      sip: {number: '+99111600001', password: s3cret-s1p}\n")
    result = cli("plan", "-i", str(inventory), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1
    assert f"{inventory}:6" in result.output and "key 'profile'" in result.output and "nope" in result.output
