"""A room's visit keeps one device session from identify to verdict (issue 16).

While a room waits for registration it holds no worker slot, but keeps its connection and
its login: the registration polls go over them, and they end after the verdict. Counted,
not timed: the client's TCP connections (every `socket.connect`) and the simulators' own
count of logins and open sessions.
"""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from endpoints.lab.fleet import Lab, RoomSpec
from endpoints.profiles import ProfileSet
from tests.conftest import cli

ROOMS = [RoomSpec("cisco-http", "SX20", "http"), RoomSpec("cisco-https", "SX10", "https"),
         RoomSpec("cisco-ssh", "SX80", "ssh"), RoomSpec("group-rest", "Group 550", "rest")]


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every TCP connection this process opens, by address."""
    seen: list[Any] = []
    connect = socket.socket.connect

    def counted(self: socket.socket, address: Any) -> None:
        seen.append(address)
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    return seen


def test_a_verified_apply_takes_one_connection_and_one_login_per_room(make_lab: Any, tmp_path: Path,
                                                                      connects: list[Any]) -> None:
    lab: Lab = make_lab(ROOMS, delay=1.2)  # long enough for several polls per room
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    for device in lab.devices():
        assert device.counters.logins == 1, device.name
        assert device.counters.sessions_open == 0, device.name
    assert len(connects) == len(ROOMS), connects


def test_an_unverified_apply_ends_each_session_with_its_visit(make_lab: Any, tmp_path: Path,
                                                              connects: list[Any]) -> None:
    lab: Lab = make_lab(ROOMS[:2], delay=30.0)
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"), "--no-verify")
    assert result.exit_code == 0, result.output
    assert all(d.counters.sessions_open == 0 and d.counters.logins == 1 for d in lab.devices())


def settled_profiles(folder: Path, settle: float) -> Path:
    """Operator profiles that extend the built-in ones with `registration.settle`."""
    folder.mkdir()
    for name, profile in ProfileSet.load().profiles.items():
        spec = profile.registration
        registration = {"status": spec.status, "states": dict(spec.states), "settle": settle,
                        **({"reason": spec.reason} if spec.reason else {}), **({"via": spec.via} if spec.via else {})}
        (folder / f"site-{name}.yaml").write_text(yaml.safe_dump({"name": f"site-{name}", "extends": name,
                                                                  "registration": registration}))
    return folder


@pytest.mark.parametrize("settle", [None, 2.4])
def test_the_first_poll_waits_the_profiles_settle(make_lab: Any, tmp_path: Path, settle: float | None) -> None:
    # Registration comes 2 s after the write. Without `settle` polls start after 0.5 s and
    # back off (0.5, 1.1, 1.9, 2.9 s: several); with a settle past 2 s the first poll finds it.
    lab: Lab = make_lab([RoomSpec("cisco-http", "SX20", "http")], delay=2.0)
    extra = ["--profiles", str(settled_profiles(tmp_path / "profiles", settle))] if settle else []
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"), *extra)
    assert result.exit_code == 0, result.output
    (device,) = lab.devices()
    polls = device.counters.requests - 6  # session begin, /Status, /Configuration, putxml, read-back, end
    assert polls == 1 if settle else polls >= 2


def test_settle_must_be_a_number_of_seconds(tmp_path: Path) -> None:
    folder = settled_profiles(tmp_path / "profiles", 1.0)
    path = folder / "site-cisco-ce.yaml"
    path.write_text(path.read_text().replace("settle: 1.0", "settle: -1"))
    with pytest.raises(Exception, match="settle"):
        ProfileSet.load([folder])
