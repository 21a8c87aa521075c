"""Backups, rollback, and a refused write put back (issue 14), against the lab."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from endpoints.drivers import polycom_lineproto as proto
from endpoints.lab.fleet import Lab, RoomSpec
from tests.conftest import cli

FLEET = [RoomSpec("ce", "SX20", "https", state="stale"), RoomSpec("tc", "SX80", "ssh", state="stale"),
         RoomSpec("group", "Group 550", "rest", state="stale"), RoomSpec("hdx", "HDX 7000", "telnet", state="stale")]


def run_folder(runs: Path, command: str) -> Path:
    return max(runs.glob(f"*-{command}"))


def settings(lab: Lab) -> dict[str, dict[str, Any]]:
    """Each simulated room's settings, by the path the backup names (Polycom line names: their
    config key in the firmware table, which the simulator keeps them by)."""
    found = {}
    for name, room in lab.rooms.items():
        snapshot = room.device.snapshot()
        found[name] = {**snapshot, **{n: snapshot[k] for n, k in proto.SETTINGS.items() if k in snapshot}}
    return found


def test_apply_keeps_a_backup_and_rollback_puts_every_value_back(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec(s.name, s.model, s.transport, state=s.state) for s in FLEET])
    runs = tmp_path / "runs"
    before = settings(lab)
    applied = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs), "--verify-timeout", "20")
    assert applied.exit_code == 0, applied.output
    folder = run_folder(runs, "apply")
    backup = json.loads((folder / "backup.json").read_text())["rooms"]
    assert set(backup) == set(lab.rooms)
    for name, entry in backup.items():
        for item in entry["settings"]:  # the value before the run, as the simulator held it
            assert before[name][item["path"]] == item["before"], (name, item)
        assert entry["secrets"] and all("password" in s.casefold() for s in entry["secrets"])
        assert not any("before" in str(s) for s in entry["secrets"])
    assert lab.admin_password not in (folder / "backup.json").read_text()

    written = {name: room.device.counters.writes for name, room in lab.rooms.items()}
    checked = cli("rollback", "-i", str(lab.inventory_path), "--run", str(folder), "--check", "--run-dir", str(runs),
                  "--report", str(tmp_path / "check.json"))
    assert checked.exit_code == 0, checked.output
    assert {name: room.device.counters.writes for name, room in lab.rooms.items()} == written
    assert all(h["status"] == "changed" for h in json.loads((tmp_path / "check.json").read_text())["hosts"].values())

    rolled = cli("rollback", "-i", str(lab.inventory_path), "--run", str(folder), "--run-dir", str(runs),
                 "--report", str(tmp_path / "back.json"), "--verify-timeout", "5")
    assert rolled.exit_code == 0, rolled.output
    after = settings(lab)
    report = json.loads((tmp_path / "back.json").read_text())["hosts"]
    for name, entry in backup.items():
        paths = {item["path"] for item in entry["settings"]}
        for path in paths:
            assert after[name][path] == before[name][path], (name, path)
        untouched = {k for k in before[name] if k not in paths and "password" not in k.casefold()
                     and k != "registration" and proto.NAME_OF_KEY.get(k) not in paths}
        assert {k: after[name][k] for k in untouched} == {k: before[name][k] for k in untouched}, name
        assert report[name]["restored"] and report[name]["not_restored"] == entry["secrets"]
        assert report[name]["registration"] is not None  # read and shown, not judged
    again = cli("rollback", "-i", str(lab.inventory_path), "--run", str(folder), "--run-dir", str(runs))
    assert again.exit_code == 0 and "changed" not in again.output.split("rollback:")[0]


def test_a_refused_write_puts_back_what_the_room_had_taken(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("hdx", "HDX 7000", "telnet", state="stale")])
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    # An operator profile whose last setting the firmware refuses (illegal parameters).
    (profiles / "broken.yaml").write_text(
        "name: broken-hdx\nextends: polycom-hdx\nsettings:\n"
        "  - setting: siptransportprotocol\n    value: SCTP\n    casefold: true\n")
    device = lab.rooms["hdx"].device
    before = settings(lab)["hdx"]
    result = cli("apply", "-i", str(lab.inventory_path), "--profiles", str(profiles), "--run-dir",
                 str(tmp_path / "runs"), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 2, result.output
    room = json.loads((tmp_path / "r.json").read_text())["hosts"]["hdx"]
    assert room["status"] == "failed" and "siptransportprotocol" in room["error"]
    assert room["restored"] and any("restored" in w for w in room["warnings"])
    after = settings(lab)["hdx"]
    changed = {k for k in before if before[k] != after[k] and "password" not in k.casefold()
               and k != "registration"}
    assert changed == set(), changed  # every earlier write of the run was put back
    written = device.counters.settings_written
    assert written.count("sipproxyserver") == 2  # written, then written back (last first)
