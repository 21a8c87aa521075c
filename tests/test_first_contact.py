"""First contact and recovery in a real building (issue 10): `endpoints trust`, a Group Series
room recovered over REST, the tool's memory wherever it runs from, one room never ending the run."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from endpoints.lab.fleet import Lab, LabSpec, RoomSpec
from tests.conftest import cli

FIRST = [
    RoomSpec("ce-ssh", "SX20", "ssh"),
    RoomSpec("ce-https", "SX10", "https"),
    RoomSpec("group-ssh", "Group 550", "ssh"),
    RoomSpec("hdx-telnet", "HDX 7000", "telnet"),
]


def untrusted_lab(tmp_path: Path, rooms: list[RoomSpec], name: str = "lab") -> Lab:
    lab = Lab(tmp_path / name, LabSpec(rooms, delay=0.3, trusted=False))
    lab.start()
    return lab


def report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["hosts"]


def writes(lab: Lab) -> dict[str, int]:
    return {name: room.device.counters.writes for name, room in lab.rooms.items()}


def test_trust_then_apply_on_a_building_never_met(tmp_path: Path) -> None:
    lab = untrusted_lab(tmp_path, FIRST)
    try:
        inventory, runs = str(lab.inventory_path), str(tmp_path / "runs")
        assert (lab.folder / "known_hosts").read_text() == ""
        refused = cli("apply", "-i", inventory, "--run-dir", runs, "--no-verify")
        assert refused.exit_code == 2, refused.output  # strict by default: nothing trusted yet
        assert {n: w for n, w in writes(lab).items() if n != "hdx-telnet"} == {"ce-ssh": 0, "ce-https": 0,
                                                                               "group-ssh": 0}

        shown = cli("trust", "-i", inventory, "--run-dir", runs, "--report", str(tmp_path / "t.json"))
        assert shown.exit_code == 0, shown.output
        keys = report(tmp_path / "t.json")
        manifest = json.loads((lab.folder / "manifest.json").read_text())["rooms"]
        ssh = keys["group-ssh"]["keys"][0]  # Group Series offers only ssh-rsa: it must work there
        assert ssh["state"] == "new" and ssh["type"].startswith("ssh-rsa") and not ssh["recorded"]
        assert ssh["fingerprint"] == manifest["group-ssh"]["ssh_host_key"]["fingerprint"]
        tls = keys["ce-https"]["keys"][0]
        assert tls["fingerprint"] == f"sha256:{manifest['ce-https']['certificate']['sha256']}"
        assert keys["hdx-telnet"].get("keys", []) == [] and "unencrypted" in keys["hdx-telnet"]["warnings"][0]
        assert (lab.folder / "known_hosts").read_text() == ""  # shown, not recorded

        accepted = cli("trust", "-i", inventory, "--run-dir", runs, "--accept")
        assert accepted.exit_code == 0, accepted.output
        known = subprocess.run(["ssh-keygen", "-lf", str(lab.folder / "known_hosts")], capture_output=True,
                               text=True, check=True).stdout  # OpenSSH reads what was written
        assert manifest["ce-ssh"]["ssh_host_key"]["fingerprint"] in known
        again = cli("trust", "-i", inventory, "--run-dir", runs, "--report", str(tmp_path / "t2.json"))
        assert again.exit_code == 0
        assert all(k["state"] == "known" for r in report(tmp_path / "t2.json").values() for k in r.get("keys", []))

        applied = cli("apply", "-i", inventory, "--run-dir", runs, "--report", str(tmp_path / "a.json"))
        assert applied.exit_code == 0, applied.output
        assert {r["registration"]["state"] for r in report(tmp_path / "a.json").values()} == {"registered"}

        # Later a key and a certificate change (no reset: the admin password stays).
        for name in ("ce-ssh", "ce-https"):
            device = lab.rooms[name].device
            device.renew_identity()
            assert lab.loop is not None
            lab.loop.call(device.restart())
        known_before, before = (lab.folder / "known_hosts").read_text(), writes(lab)
        changed = cli("trust", "-i", inventory, "--run-dir", runs, "--accept", "--report", str(tmp_path / "t3.json"))
        assert changed.exit_code == 2, changed.output
        found = report(tmp_path / "t3.json")
        for name in ("ce-ssh", "ce-https"):
            assert found[name]["status"] == "failed" and found[name]["keys"][0]["state"] == "changed", name
            assert "recover" in found[name]["advice"]
        assert (lab.folder / "known_hosts").read_text() == known_before  # nothing replaced
        failed = cli("apply", "-i", inventory, "--run-dir", runs, "--report", str(tmp_path / "a2.json"))
        assert failed.exit_code == 2
        assert {n: r["status"] for n, r in report(tmp_path / "a2.json").items() if n.startswith("ce-")} == \
            {"ce-ssh": "failed", "ce-https": "failed"}
        assert writes(lab) == before
    finally:
        lab.stop()


def test_a_reset_group_room_driven_over_rest_comes_back_out_of_the_wizard(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("g-rest", "Group 550", "rest", wizard_blocks_reads=False)])
    runs = str(tmp_path / "runs")
    assert cli("apply", "-i", str(lab.inventory_path), "--run-dir", runs).exit_code == 0
    room = lab.rooms["g-rest"].device
    old_key, old_cert = room.host_key.export_public_key().decode(), room.certificate.sha256
    assert lab.loop is not None
    lab.loop.call(lab.reset("g-rest"))
    assert room.certificate.sha256 != old_cert and room.host_key.export_public_key().decode() != old_key
    failed_logins = room.counters.logins_failed

    done = cli("recover", "-i", str(lab.inventory_path), "--run-dir", runs, "--report", str(tmp_path / "r.json"),
               "--verify-timeout", "30")
    assert done.exit_code == 0, done.output
    result = report(tmp_path / "r.json")["g-rest"]
    assert result["recovered"] and result["registration"]["state"] == "registered"
    assert room.oob is False and room.admin_password == lab.admin_password
    assert room.counters.logins_failed - failed_logins <= 1
    assert cli("apply", "-i", str(lab.inventory_path), "--run-dir", runs).exit_code == 0  # trusted from now on


def test_the_memory_holds_when_the_inventory_is_run_from_elsewhere(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("wrong", "SX20", "https", wrong_password=True)])
    inventory = str(lab.inventory_path)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    first = cli("apply", "-i", inventory, "--verify-timeout", "10", cwd=here)
    assert first.exit_code == 2
    device = lab.rooms["wrong"].device
    attempts, written = device.registration.attempts, device.counters.writes
    second = cli("apply", "-i", inventory, "--verify-timeout", "10", cwd=there)
    assert second.exit_code == 2
    assert "was not sent again" in second.output
    assert (device.registration.attempts, device.counters.writes) == (attempts, written)
    assert not (there / ".endpoints" / "history.json").exists()
    assert (Path(os.environ["ENDPOINTS_STATE_DIR"]) / "history.json").exists()


def test_a_first_run_with_no_memory_says_so(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("r", "SX20", "https")])
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"), "--no-verify")
    assert result.exit_code == 0 and "no memory of earlier runs" in result.output


def test_a_room_whose_device_reports_an_unknown_model_fails_alone(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("odd", "SX20", "https"), RoomSpec("fine", "SX10", "https")])
    odd = lab.rooms["odd"].device
    odd.software = "ce7.3.0.abcdef"  # no profile matches a CE 7 codec
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"),
                 "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 2, result.output
    found = report(tmp_path / "r.json")
    assert found["fine"]["status"] == "changed"
    assert found["odd"]["status"] == "failed" and "profile" in found["odd"]["advice"]
    assert "Traceback" not in result.output


def test_an_inventory_of_addresses_is_enough_to_start_with_facts(make_lab: Any, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "http"), RoomSpec("b", "HDX 7000", "http"),
                         RoomSpec("c", "Group 550", "telnet")])
    data = yaml.safe_load(lab.inventory_path.read_text())
    for group in data["all"]["children"].values():
        for host in group["hosts"].values():
            del host["model"]  # only the address, the transport and the ports
    inventory = lab.folder / "addresses.yaml"  # beside the lab's secrets, pins and known_hosts
    inventory.write_text(yaml.safe_dump(data))
    result = cli("facts", "-i", str(inventory), "--run-dir", str(tmp_path / "runs"), "--report", str(tmp_path / "f.json"))
    assert result.exit_code == 0, result.output
    assert {n: r["model"] for n, r in report(tmp_path / "f.json").items()} == \
        {"a": "SX20", "b": "HDX 7000", "c": "Group 550"}
