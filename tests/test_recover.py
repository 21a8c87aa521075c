"""`endpoints recover`: rooms just factory reset come back; nothing else is touched or trusted."""
from __future__ import annotations

import json
from pathlib import Path

from endpoints.lab.fleet import Lab, RoomSpec
from tests.conftest import cli

FLEET = [
    RoomSpec("ce-https", "SX20", "https"),
    RoomSpec("tc-ssh", "SX80", "ssh"),
    RoomSpec("group-ssh", "Group 550", "ssh"),
    RoomSpec("ce-ssh", "SX10", "ssh"),
    RoomSpec("group-rest", "Group 550", "rest"),
    RoomSpec("hdx-telnet", "HDX 7000", "telnet"),
    RoomSpec("tc-http", "SX80", "http"),
]


def hosts(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())["hosts"]


def reset(lab: Lab, name: str) -> None:
    assert lab.loop is not None
    lab.loop.call(lab.reset(name))


def apply_all(lab: Lab, runs: Path) -> None:
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs))
    assert result.exit_code == 0, result.output


def test_recover_brings_back_exactly_the_reset_rooms(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec(s.name, s.model, s.transport) for s in FLEET])
    runs = tmp_path / "state" / "runs"
    apply_all(lab, runs)
    was_reset = ("ce-https", "tc-ssh", "group-ssh", "tc-http", "group-rest", "hdx-telnet")
    for name in was_reset:
        reset(lab, name)
        assert lab.rooms[name].device.admin_password != lab.admin_password
    before = {n: (r.device.counters.writes, r.device.counters.logins_failed) for n, r in lab.rooms.items()}

    result = cli("recover", "-i", str(lab.inventory_path), "--report", str(tmp_path / "r.json"),
                 "--run-dir", str(runs), "--verify-timeout", "30")
    assert result.exit_code == 0, result.output
    report = hosts(tmp_path / "r.json")
    for name, room in lab.rooms.items():
        writes, failed_logins = before[name]
        if name in was_reset:
            assert report[name]["status"] == "changed" and report[name]["recovered"], (name, report[name])
            assert report[name]["registration"]["state"] == "registered", name
            assert room.device.admin_password == lab.admin_password, name
            assert room.device.counters.logins_failed - failed_logins <= 1, name
        else:
            assert report[name]["status"] == "ok" and not report[name]["recovered"], (name, report[name])
            assert room.device.counters.writes == writes, name
            assert room.device.counters.logins_failed == failed_logins, name
    # The renewed key and certificate are trusted from now on, by apply too.
    again = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs))
    assert again.exit_code == 0, again.output
    events = "".join(p.read_text() for p in runs.glob("*-recover/events.jsonl"))
    assert "recover-trust" in events


def test_a_changed_key_on_a_room_not_reset_stays_a_hard_failure(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("impostor-ssh", "SX20", "ssh"), RoomSpec("impostor-https", "SX10", "https")])
    runs = tmp_path / "state" / "runs"
    apply_all(lab, runs)
    for room in lab.rooms.values():  # new key and certificate, but the admin password stays
        room.device.renew_identity()
        assert lab.loop is not None
        lab.loop.call(room.device.restart())  # type: ignore[attr-defined]
    known_hosts = (lab.folder / "known_hosts").read_text()
    writes = {name: room.device.counters.writes for name, room in lab.rooms.items()}
    for command in ("apply", "recover"):
        result = cli(command, "-i", str(lab.inventory_path), "--report", str(tmp_path / f"{command}.json"),
                     "--run-dir", str(runs))
        assert result.exit_code == 2, result.output
        for name, host in hosts(tmp_path / f"{command}.json").items():
            assert host["status"] == "failed" and not host["recovered"], (command, name)
            assert "recover" in host["error"] or "not factory reset" in host["error"], host["error"]
    report = hosts(tmp_path / "recover.json")
    assert all("not factory reset" in h["error"] for h in report.values())
    assert (lab.folder / "known_hosts").read_text() == known_hosts
    assert {name: room.device.counters.writes for name, room in lab.rooms.items()} == writes


def test_recover_pushes_the_operators_whole_profile(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("ce-room", "SX20", "https"), RoomSpec("tc-room", "SX80", "ssh")])
    mine = tmp_path / "profiles"
    mine.mkdir()
    (mine / "acme-ce.yaml").write_text("name: acme-ce\nextends: cisco-ce\nsettings:\n"
                                       "  - setting: SystemUnit Name\n    value: '{host.name}'\n"
                                       "  - setting: Time Zone\n    value: Europe/Berlin\n")
    (mine / "acme-tc.yaml").write_text("name: acme-tc\nextends: cisco-tc\nsettings:\n"
                                       "  - setting: SystemUnit Name\n    value: '{host.name}'\n"
                                       "  - setting: NetworkServices NTP Address\n    value: ntp.example.com\n")
    runs = tmp_path / "state" / "runs"
    first = cli("apply", "-i", str(lab.inventory_path), "--profiles", str(mine), "--run-dir", str(runs))
    assert first.exit_code == 0, first.output
    for name in lab.rooms:
        reset(lab, name)
    result = cli("recover", "-i", str(lab.inventory_path), "--profiles", str(mine), "--report",
                 str(tmp_path / "r.json"), "--run-dir", str(runs))
    assert result.exit_code == 0, result.output
    report = hosts(tmp_path / "r.json")
    assert report["ce-room"]["profile"] == "acme-ce" and report["tc-room"]["profile"] == "acme-tc"
    ce, tc = lab.rooms["ce-room"].device, lab.rooms["tc-room"].device
    assert ce.value("SystemUnit Name") == "ce-room" and ce.value("Time Zone") == "Europe/Berlin"  # type: ignore[attr-defined]
    assert tc.value("SystemUnit Name") == "tc-room"  # type: ignore[attr-defined]
    assert tc.value("NetworkServices NTP Address") == "ntp.example.com"  # type: ignore[attr-defined]
    assert all(h["recovered"] and h["registration"]["state"] == "registered" for h in report.values())


def test_operator_settings_on_polycom_use_the_firmwares_own_commands(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("group", "Group 550", "ssh"), RoomSpec("hdx", "HDX 7000", "http"),
                         RoomSpec("rest", "Group 550", "rest")])
    mine = tmp_path / "profiles"
    mine.mkdir()
    for base in ("polycom-group", "polycom-hdx"):
        (mine / f"acme-{base}.yaml").write_text(
            f"name: acme-{base}\nextends: {base}\nsettings:\n"
            "  - setting: systemname\n    value: 'ACME {host.name}'\n    via: {rest: system.info.systemname}\n")
    runs = tmp_path / "state" / "runs"
    result = cli("apply", "-i", str(lab.inventory_path), "--profiles", str(mine), "--report", str(tmp_path / "r.json"),
                 "--run-dir", str(runs))
    assert result.exit_code == 0, result.output
    for name, room in lab.rooms.items():
        assert room.device.value("system.info.systemname") == f"ACME {name}", name  # type: ignore[attr-defined]
    changes = {n: [c["setting"] for c in h["changes"]] for n, h in hosts(tmp_path / "r.json").items()}
    assert all("systemname" in found for found in changes.values()), changes
    again = cli("apply", "-i", str(lab.inventory_path), "--profiles", str(mine), "--report",
                str(tmp_path / "r2.json"), "--run-dir", str(runs))
    assert {h["status"] for h in hosts(tmp_path / "r2.json").values()} == {"ok"}, again.output


def test_a_reset_polycom_without_serial_fails_alone_with_a_clear_message(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("group", "Group 550", "ssh"), RoomSpec("cisco", "SX20", "http")])
    runs = tmp_path / "state" / "runs"
    apply_all(lab, runs)
    reset(lab, "group")
    reset(lab, "cisco")
    inventory = lab.folder / "no-serial.yaml"
    inventory.write_text("\n".join(line for line in lab.inventory_path.read_text().splitlines()
                                   if not line.strip().startswith("serial:")) + "\n")
    result = cli("recover", "-i", str(inventory), "--report", str(tmp_path / "r.json"), "--run-dir", str(runs))
    report = hosts(tmp_path / "r.json")
    assert report["cisco"]["status"] == "changed" and report["cisco"]["recovered"], result.output
    assert report["group"]["status"] == "failed" and "serial" in report["group"]["error"]
    assert report["group"]["advice"].startswith("Fix this room's entry")
