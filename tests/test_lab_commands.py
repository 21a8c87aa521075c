"""`endpoints lab up|status|reset|down` and `endpoints demo`, as a user runs them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from endpoints.inventory import load_inventory


def endpoints(*words: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "endpoints", *words], capture_output=True, text=True, cwd=cwd,
                          timeout=240)


def test_lab_up_status_reset_down(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    started = endpoints("lab", "up", "--rooms", "9", "--detach", "--dir", str(folder), "--delay", "0.3")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        inventory = load_inventory(folder / "inventory.yaml")
        assert len(inventory.hosts) == 9
        models = {h.model for h in inventory.hosts.values()}
        assert {"SX10", "SX20", "SX80", "Group 550", "HDX 7000"} <= models
        assert {h.transport for h in inventory.hosts.values()} == {"http", "https", "ssh", "rest", "telnet"}
        assert all(h.device_credentials.password and h.device_credentials.password.source.startswith("file:")
                   for h in inventory.hosts.values())
        assert all(h.tls.pin for h in inventory.hosts.values() if h.transport in ("https", "rest"))
        second = endpoints("lab", "up", "--rooms", "2", "--detach", "--dir", str(folder))
        assert second.returncode == 1 and "already running" in second.stderr

        applied = endpoints("apply", "-i", str(folder / "inventory.yaml"), "--run-dir", str(tmp_path / "s" / "runs"))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        rooms = json.loads(endpoints("lab", "status", "--json", "--dir", str(folder)).stdout)
        assert {r["registration"] for r in rooms} == {"registered"}
        table = endpoints("lab", "status", "--dir", str(folder)).stdout
        assert "room-a001" in table and "registered" in table and "proxy=sip2-ec.huaweicloud.com:5061" in table

        reset = endpoints("lab", "reset", "room-a001", "--dir", str(folder))
        assert reset.returncode == 0, reset.stderr
        rooms = {r["room"]: r for r in json.loads(endpoints("lab", "status", "--json", "--dir", str(folder)).stdout)}
        assert rooms["room-a001"]["registration"] == "inactive"
        assert rooms["room-a002"]["registration"] == "registered"
        unknown = endpoints("lab", "reset", "room-zzz", "--dir", str(folder))
        assert unknown.returncode == 1 and "room-zzz" in unknown.stderr
    finally:
        down = endpoints("lab", "down", "--dir", str(folder))
    assert down.returncode == 0
    assert not (folder / "manifest.json").exists()
    gone = endpoints("lab", "status", "--dir", str(folder))
    assert gone.returncode == 1 and "no lab is running" in gone.stderr


def test_lab_from_a_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(yaml.safe_dump({"delay": 0.2, "rooms": [
        {"name": "boardroom", "model": "SX80", "transport": "ssh", "software": "TC7.3.6.b3d8e2c"},
        {"name": "old-hdx", "model": "HDX 6000", "transport": "telnet", "software": "3.1.5-5000"},
        {"name": "tc6", "model": "SX80", "transport": "https", "software": "TC6.3.1.a1b2c3d"},
        {"name": "no-dns", "model": "SX10", "transport": "http", "resolves_names": False},
    ]}))
    folder = tmp_path / "lab"
    assert endpoints("lab", "up", "--spec", str(spec), "--detach", "--dir", str(folder)).returncode == 0
    try:
        report = tmp_path / "r.json"
        result = endpoints("apply", "-i", str(folder / "inventory.yaml"), "--report", str(report),
                           "--run-dir", str(tmp_path / "s" / "runs"))
        hosts = json.loads(report.read_text())["hosts"]
        assert result.returncode == 2, result.stdout
        assert hosts["boardroom"]["profile"] == "cisco-tc" and hosts["boardroom"]["status"] == "changed"
        assert hosts["tc6"]["status"] == "failed" and "TC6.3.1" in hosts["tc6"]["error"]
        assert "not one endpoints supports" in hosts["tc6"]["advice"]
        assert hosts["no-dns"]["registration"] == {"state": "failed", "reason": "DNS lookup failed"}
        assert "resolve-proxy" in hosts["no-dns"]["advice"]
        old = hosts["old-hdx"]
        assert old["status"] == "changed" and "below the tested minimum 3.1.7" in old["advice"]
        assert "content sharing" in old["advice"]
    finally:
        endpoints("lab", "down", "--dir", str(folder))


def test_the_demo_runs_to_the_end(tmp_path: Path) -> None:
    result = endpoints("demo", "--keep", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    for part in ("endpoints plan", "endpoints apply", "403 Forbidden", "advice:", "demo complete",
                 "0 writes and 0 registration attempts"):
        assert part in output, part
    for secret in (tmp_path / "demo" / "lab" / "secrets").iterdir():
        assert secret.read_text() not in output


def test_devices_lock_logins_after_repeated_failures(make_lab) -> None:
    from endpoints.drivers import driver_class, family_of
    from endpoints.errors import AuthenticationFailed
    from endpoints.host import Credentials
    from endpoints.inventory import load_inventory
    from endpoints.lab.fleet import Lab, RoomSpec
    from endpoints.secrets import Secret

    lab: Lab = make_lab([RoomSpec("cisco", "SX20", "http"), RoomSpec("poly", "Group 550", "rest")])
    inventory = load_inventory(lab.inventory_path)
    for name, room in lab.rooms.items():
        room.device.lockout_after, room.device.lockout_seconds = 3, 0.5
        host = inventory.hosts[name]
        cls = driver_class(family_of(host.model or ""), host.transport or "")

        def login(password: str, cls=cls, host=host) -> bool:  # type: ignore[no-untyped-def]
            driver = cls(host, host.transport or "", credentials=Credentials("admin", Secret(password)), timeout=5)
            try:
                driver.open()
                return True
            except AuthenticationFailed:
                return False
            finally:
                driver.close()

        for _ in range(3):
            assert not login("wrong")
        assert room.device.logins_locked and room.device.counters.lockouts == 1
        assert not login(lab.admin_password), f"{name}: the right password is refused while locked"
        import time

        time.sleep(0.6)
        assert login(lab.admin_password), name


def test_the_readme_fleet_example_is_a_valid_spec(tmp_path: Path) -> None:
    import re

    from endpoints.lab.fleet import LabSpec

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"# fleet\.yaml.*?```", readme, re.S)
    assert block is not None
    spec_file = tmp_path / "fleet.yaml"
    spec_file.write_text(block.group(0).rstrip("`"))
    spec = LabSpec.load(spec_file)
    assert [r.name for r in spec.rooms] == ["a101-boardroom", "a102", "a201", "hk01", "a103"]
    assert spec.delay == 2.0 and spec.latency == 0.05


def test_lab_like_rehearses_a_real_inventory(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("""
all:
  vars:
    device_credentials: {username: admin, password: {env: NOT_SET_HERE}}
  children:
    campus:
      children:
        north:
          hosts:
            n-101: {address: 10.1.1.1, model: SX20, transport: https, sip: {number: "+99111700001", password: {env: X}}}
            n-102: {address: 10.1.1.2, model: Group 550, sip: {number: "+99111700002", password: {env: X},
                                                                 proxy: "159.138.44.101:5061"}}
        south:
          hosts:
            s-201: {address: 10.1.2.1, model: HDX 8000, transport: http,
                    sip: {number: "+99111700003", password: {env: X}, proxy: "sip.typo.example:5061"}}
""")
    folder = tmp_path / "lab"
    started = endpoints("lab", "up", "--like", str(real), "--detach", "--dir", str(folder), "--delay", "0.3")
    assert started.returncode == 0, started.stderr
    try:
        rehearsal = load_inventory(folder / "inventory.yaml")
        assert list(rehearsal.hosts) == ["n-101", "n-102", "s-201"]
        assert rehearsal.groups["campus"] == {"n-101", "n-102", "s-201"} and rehearsal.groups["south"] == {"s-201"}
        assert rehearsal.hosts["n-102"].transport == "rest"  # the profile's first choice, as for the real room
        assert all(h.address == "127.0.0.1" for h in rehearsal.hosts.values())
        report = tmp_path / "r.json"
        result = endpoints("apply", "-i", str(folder / "inventory.yaml"), "--limit", "campus", "--report", str(report),
                           "--run-dir", str(tmp_path / "s" / "runs"), "--verify-timeout", "4")
        hosts = json.loads(report.read_text())["hosts"]
        assert hosts["n-101"]["status"] == "changed" and hosts["n-102"]["status"] == "changed", result.stdout
        assert hosts["s-201"]["status"] == "failed"  # the rehearsal caught the typo in the proxy
        assert "not registered after 4 s" in hosts["s-201"]["error"] and hosts["s-201"]["advice"]
    finally:
        endpoints("lab", "down", "--dir", str(folder))
