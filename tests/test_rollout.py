"""The whole job against the lab over real sockets: every model, every transport."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from endpoints.lab.fleet import Lab, RoomSpec
from endpoints.lab.net import free_port
from tests.conftest import cli

EVERY_API = [
    RoomSpec("sx10-https", "SX10", "https"),
    RoomSpec("sx10-ssh", "SX10", "ssh"),
    RoomSpec("sx20-http", "SX20", "http"),
    RoomSpec("sx20-ssh", "SX20", "ssh", state="stale"),
    RoomSpec("sx80-https", "SX80", "https"),
    RoomSpec("sx80-ssh", "SX80", "ssh"),
    RoomSpec("g550-rest", "Group 550", "rest"),
    RoomSpec("g550-ssh", "Group 550", "ssh", state="stale"),
    RoomSpec("g550-telnet", "Group 550", "telnet"),
    RoomSpec("hdx7000-telnet", "HDX 7000", "telnet"),
    RoomSpec("hdx8000-http", "HDX 8000", "http"),
    RoomSpec("sx20-ok", "SX20", "https", state="registered"),
]


def counts(lab: Lab) -> tuple[int, int]:
    devices = list(lab.devices())
    return sum(d.counters.writes for d in devices), sum(d.registration.attempts for d in devices)


def report(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())


def test_a_mixed_fleet_goes_from_factory_to_registered_and_stays_put(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec(s.name, s.model, s.transport, state=s.state) for s in EVERY_API])
    runs = tmp_path / "state" / "runs"
    facts = cli("facts", "-i", str(lab.inventory_path), "--report", str(tmp_path / "facts.json"), "--run-dir", str(runs))
    assert facts.exit_code == 0, facts.output
    for name, host in report(tmp_path / "facts.json")["hosts"].items():
        room = lab.rooms[name]
        assert (host["model"], host["serial"]) == (room.spec.model, room.spec.serial), name
        assert host["software"] and host["profile"] and host["settings"], name
    plan = cli("plan", "-i", str(lab.inventory_path), "--report", str(tmp_path / "plan.json"), "--run-dir", str(runs))
    assert plan.exit_code == 0, plan.output
    planned = report(tmp_path / "plan.json")["hosts"]
    assert {n for n, h in planned.items() if h["status"] == "changed"} == {s.name for s in EVERY_API} - {"sx20-ok"}
    assert counts(lab)[0] == 0

    first = cli("apply", "-i", str(lab.inventory_path), "--report", str(tmp_path / "first.json"),
                "--run-dir", str(runs), "--verify-timeout", "30")
    assert first.exit_code == 0, first.output
    hosts = report(tmp_path / "first.json")["hosts"]
    for name, host in hosts.items():
        assert host["registration"] == {"state": "registered", "reason": ""}, (name, host)
        assert host["status"] == ("ok" if name == "sx20-ok" else "changed"), (name, host)
    for room in lab.rooms.values():
        phase, _ = room.device.registration.view()
        assert phase == "registered", room.spec.name

    writes, attempts = counts(lab)
    second = cli("apply", "-i", str(lab.inventory_path), "--report", str(tmp_path / "second.json"),
                 "--run-dir", str(runs))
    assert second.exit_code == 0, second.output
    assert {h["status"] for h in report(tmp_path / "second.json")["hosts"].values()} == {"ok"}
    assert counts(lab) == (writes, attempts), "a second apply must write nothing and register nobody"
    assert all(d.counters.sessions_open == 0 for d in lab.devices())
    verify = cli("verify", "-i", str(lab.inventory_path), "--report", str(tmp_path / "verify.json"),
                 "--run-dir", str(runs))
    assert verify.exit_code == 0, verify.output
    assert {h["registration"]["state"] for h in report(tmp_path / "verify.json")["hosts"].values()} == {"registered"}
    assert counts(lab) == (writes, attempts)


def test_wrong_sip_password_fails_with_advice_after_exactly_one_attempt(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("bad", "SX20", "https", wrong_password=True), RoomSpec("good", "SX10", "http")])
    runs = tmp_path / "state" / "runs"
    result = cli("apply", "-i", str(lab.inventory_path), "--report", str(tmp_path / "r.json"), "--run-dir", str(runs))
    assert result.exit_code == 2, result.output
    bad = report(tmp_path / "r.json")["hosts"]["bad"]
    assert bad["status"] == "failed"
    assert bad["registration"]["state"] == "failed" and "403" in bad["registration"]["reason"]
    assert "sip.password" in bad["advice"] and "lock" in bad["advice"]
    assert lab.rooms["bad"].device.registration.attempts == 1
    writes = lab.rooms["bad"].device.counters.writes
    # Again, with the same wrong password: the tool does not hammer the number into a lock.
    again = cli("apply", "-i", str(lab.inventory_path), "--report", str(tmp_path / "r2.json"), "--run-dir", str(runs))
    assert again.exit_code == 2
    assert lab.rooms["bad"].device.registration.attempts == 1
    assert lab.rooms["bad"].device.counters.writes == writes
    assert "not sent again" in report(tmp_path / "r2.json")["hosts"]["bad"]["error"]
    retry = next(runs.glob("*-apply/retry.txt")).read_text().split()
    assert retry == ["bad"]


def test_refused_connection_is_unreachable_and_the_run_goes_on(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("good", "SX20", "http")])
    text = lab.inventory_path.read_text()
    dead = free_port()
    text += (f"    dead-room:\n      hosts:\n        room-dead:\n          address: 127.0.0.1\n"
             f"          model: SX20\n          transport: http\n          ports: {{http: {dead}}}\n"
             f"          sip: {{number: '+99111999999', password: x}}\n")
    inventory = lab.folder / "with-dead.yaml"
    inventory.write_text(text)
    result = cli("apply", "-i", str(inventory), "--report", str(tmp_path / "r.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 4, result.output
    hosts = report(tmp_path / "r.json")["hosts"]
    assert hosts["room-dead"]["status"] == "unreachable" and hosts["room-dead"]["advice"]
    assert hosts["good"]["status"] == "changed"


def test_plan_and_check_change_nothing_and_mask_secrets(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "https"), RoomSpec("b", "Group 550", "rest")])
    secrets = [p.read_text() for p in (lab.folder / "secrets").iterdir()]
    runs = tmp_path / "s" / "runs"
    plan = cli("plan", "-i", str(lab.inventory_path), "--report", str(tmp_path / "plan.json"), "--run-dir", str(runs))
    check = cli("apply", "--check", "--diff", "-i", str(lab.inventory_path), "--run-dir", str(runs))
    assert plan.exit_code == 0 and check.exit_code == 0, plan.output + check.output
    assert counts(lab) == (0, 0)
    changes = report(tmp_path / "plan.json")["hosts"]["a"]["changes"]
    assert {"setting": "SIP Proxy 1 Address", "before": "", "after": "sip2-ec.huaweicloud.com:5061"} in changes
    password = next(c for c in changes if c["after"] == "********")
    assert password["before"] == "********" and password["reason"] == "other SIP settings change"
    everything = plan.output + check.output + "".join(p.read_text() for p in runs.rglob("*") if p.is_file())
    for secret in secrets:
        assert secret not in everything
    assert "********" in check.output


def test_verify_reads_registration_only(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "https", state="registered"), RoomSpec("b", "SX10", "ssh")])
    result = cli("verify", "-i", str(lab.inventory_path), "--report", str(tmp_path / "v.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 2, result.output
    hosts = report(tmp_path / "v.json")["hosts"]
    assert hosts["a"]["status"] == "ok" and hosts["a"]["registration"]["state"] == "registered"
    assert hosts["b"]["status"] == "failed" and hosts["b"]["registration"]["state"] == "unregistered"
    assert counts(lab)[0] == 0


def test_facts_reads_identity_and_settings(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX80", "ssh"), RoomSpec("b", "HDX 7000", "telnet")])
    result = cli("facts", "-i", str(lab.inventory_path), "--report", str(tmp_path / "f.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 0, result.output
    hosts = report(tmp_path / "f.json")["hosts"]
    assert hosts["a"]["model"] == "SX80" and hosts["a"]["software"].startswith("TC7.3")
    assert hosts["a"]["profile"] == "cisco-tc" and hosts["b"]["profile"] == "polycom-hdx"
    assert hosts["a"]["settings"] and hosts["b"]["settings"]
    assert counts(lab) == (0, 0)


def test_event_log_records_reads_writes_and_timings_without_secrets(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "ssh")])
    runs = tmp_path / "s" / "runs"
    cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs))
    log = next(runs.glob("*-apply/events.jsonl")).read_text()
    events = [json.loads(line) for line in log.splitlines()]
    kinds = {e["event"] for e in events}
    assert {"connect", "identity", "read", "diff", "write", "registration", "verdict"} <= kinds
    write = next(e for e in events if e["event"] == "write")
    assert write["settings"]["SIP Authentication Password"] == "********"
    assert all("elapsed" in e for e in events)
    for secret in (lab.folder / "secrets").iterdir():
        assert secret.read_text() not in log


def test_bad_inventory_exits_1_naming_the_key_and_touches_nothing(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "http")])
    broken = lab.folder / "broken.yaml"
    broken.write_text(lab.inventory_path.read_text().replace("address:", "adress:"))
    result = cli("apply", "-i", str(broken), "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 1
    assert "adress" in result.output and "broken.yaml:" in result.output
    assert counts(lab) == (0, 0)


@pytest.mark.parametrize("pattern, expected", [("building-a", {"a", "b"}), ("a", {"a"}), ("all:!a", {"b"})])
def test_limit_selects_rooms(make_lab, tmp_path: Path, pattern: str, expected: set[str]) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX20", "http"), RoomSpec("b", "SX10", "http")])
    result = cli("plan", "-i", str(lab.inventory_path), "--limit", pattern, "--report", str(tmp_path / "p.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 0, result.output
    assert set(report(tmp_path / "p.json")["hosts"]) == expected


def test_transient_faults_are_retried_and_a_lasting_one_is_reported(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("busy", "SX20", "https"), RoomSpec("flaky", "SX10", "http"),
                         RoomSpec("down", "SX20", "http")])
    lab.rooms["busy"].device.faults.http_503 = 5  # more than the driver's own 503 retries
    lab.rooms["flaky"].device.faults.drop = 1  # the first request is cut off
    lab.rooms["down"].device.faults.http_503 = 10_000  # busy for good
    result = cli("apply", "-i", str(lab.inventory_path), "--report", str(tmp_path / "r.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    hosts = report(tmp_path / "r.json")["hosts"]
    assert hosts["busy"]["status"] == "changed" and hosts["flaky"]["status"] == "changed", result.output
    assert hosts["down"]["status"] == "failed" and "503" in hosts["down"]["error"]
    assert hosts["down"]["advice"]
    assert result.exit_code == 2
    events = next((tmp_path / "s" / "runs").glob("*-apply/events.jsonl")).read_text()
    assert events.count('"host": "down", "event": "connect"') == 3  # first try and two retries


def test_a_model_mismatch_is_noted_and_the_detected_software_decides(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("a", "SX80", "ssh")])  # runs TC 7
    inventory = lab.folder / "wrong-model.yaml"
    inventory.write_text(lab.inventory_path.read_text().replace("model: SX80", "model: SX20"))
    result = cli("plan", "-i", str(inventory), "--report", str(tmp_path / "p.json"),
                 "--run-dir", str(tmp_path / "s" / "runs"))
    assert result.exit_code == 0, result.output
    host = report(tmp_path / "p.json")["hosts"]["a"]
    assert host["profile"] == "cisco-tc" and host["model"] == "SX80"
    assert "the inventory says SX20; the device reports SX80" in host["warnings"]


def test_a_network_failure_does_not_hold_back_the_next_try(make_lab, tmp_path: Path) -> None:
    lab: Lab = make_lab([RoomSpec("no-dns", "SX20", "http", resolves_names=False)])
    runs = tmp_path / "s" / "runs"
    first = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs))
    assert first.exit_code == 2 and "DNS lookup failed" in first.output
    writes = lab.rooms["no-dns"].device.counters.writes
    cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs), "--report", str(tmp_path / "r.json"))
    # The service never saw the first try, so sending the password again cannot lock the number.
    changes = report(tmp_path / "r.json")["hosts"]["no-dns"]["changes"]
    assert [c["reason"] for c in changes] == ["registration is failed"]
    assert lab.rooms["no-dns"].device.counters.writes == writes + 1
