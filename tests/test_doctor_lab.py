"""`lab up --sip`: a Kamailio for the lab, so that doctor can be rehearsed end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kamailio.servers import require_kamailio

from endpoints.desired import Proxy
from endpoints.doctor import check_proxies, exit_code, proxies_of
from endpoints.inventory import load_inventory
from endpoints.lab import sip_server
from endpoints.lab.fleet import Lab, LabSpec, RoomSpec
from tests.conftest import cli

ROOMS = [RoomSpec("sx20-https", "SX20", "https"),
         RoomSpec("g550-rest", "Group 550", "rest", resolves_names=False),
         RoomSpec("sx80-ok", "SX80", "http", state="registered"),
         RoomSpec("hdx-old", "HDX 7000", "telnet", sip={"proxy": "vcs.corp.example:5061"})]


def test_doctor_passes_against_the_labs_proxy_and_the_rooms_register_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_kamailio()
    folder = tmp_path / "lab"
    proxy = sip_server.start_lab_proxy(folder)
    try:
        with Lab(folder, LabSpec(list(ROOMS), delay=0.3), proxy=proxy.proxy) as lab:
            inventory = load_inventory(lab.inventory_path)
            expected = Proxy("127.0.0.1", proxy.server.port)
            assert proxies_of(inventory.hosts.values()) == {expected: [r.name for r in ROOMS]}

            monkeypatch.setenv("SSL_CERT_FILE", str(proxy.ca_path))
            monkeypatch.delenv("SSL_CERT_DIR", raising=False)
            [report] = check_proxies(proxies_of(inventory.hosts.values()), timeout=5)
            assert exit_code([report]) == 0, report.checks
            assert report.checks[-1].detail.startswith("SIP/2.0 200 OK")

            runs = tmp_path / "runs"
            applied = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs),
                          "--report", str(tmp_path / "apply.json"), "--verify-timeout", "30")
            assert applied.exit_code == 0, applied.output
            hosts = json.loads((tmp_path / "apply.json").read_text())["hosts"]
            assert {name: h["registration"]["state"] for name, h in hosts.items()} == \
                {r.name: "registered" for r in ROOMS}  # the service expects the lab's proxy, even without DNS
            assert hosts["sx80-ok"]["status"] == "ok"  # its preset already carries the lab's proxy
    finally:
        proxy.stop()


def test_without_a_lab_proxy_the_lab_is_what_it_was(tmp_path: Path) -> None:
    lab = Lab(tmp_path / "lab", LabSpec([RoomSpec("hdx-old", "HDX 7000", "telnet", sip={"proxy": "vcs.corp.example:5061"})]))
    text = yaml.safe_load(lab.inventory_text())
    assert text["all"]["vars"]["sip"]["proxy"] == "sip2-ec.huaweicloud.com:5061"
    assert lab.service.proxies == ("sip2-ec.huaweicloud.com:5061", "159.138.44.101:5061")


def test_lab_up_sip_detached_prints_how_to_run_doctor_and_down_stops_kamailio(tmp_path: Path) -> None:
    require_kamailio()
    folder = tmp_path / "lab"
    run = [sys.executable, "-m", "endpoints", "lab"]
    started = subprocess.run([*run, "up", "--rooms", "2", "--sip", "--detach", "--dir", str(folder)],
                             capture_output=True, text=True, timeout=240)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        pid = int((folder / "sip" / "kamailio.pid").read_text().strip())
        inventory = yaml.safe_load((folder / "inventory.yaml").read_text())
        proxy = inventory["all"]["vars"]["sip"]["proxy"]
        assert proxy.startswith("127.0.0.1:")
        hint = f"try: SSL_CERT_FILE={folder / 'sip' / 'ca.pem'} endpoints doctor -i {folder / 'inventory.yaml'}"
        assert hint in started.stdout
        log = (folder / "lab.log").read_text()
        assert hint in log and f"sip: Kamailio {proxy}" in log
        os.kill(pid, 0)  # Kamailio runs
    finally:
        down = subprocess.run([*run, "down", "--dir", str(folder)], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_lab_up_sip_without_kamailio_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sip_server, "kamailio_binary", lambda: None)
    result = cli("lab", "up", "--sip", "--rooms", "1", "--dir", str(tmp_path / "lab"))
    assert result.exit_code == 1
    assert "needs Kamailio, which is not installed" in result.output and "apt-get install" in result.output
    assert not (tmp_path / "lab" / "inventory.yaml").exists()


def test_endpoints_doctor_on_the_lab_checks_the_rooms_and_the_proxy(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole command: each room's own word (DNS, clock, proxy status), then the proxy's path."""
    require_kamailio()
    folder = tmp_path / "lab"
    proxy = sip_server.start_lab_proxy(folder)
    rooms = [RoomSpec("ce", "SX20", "https", dns=("10.0.0.53",)), RoomSpec("tc", "SX80", "ssh"),
             RoomSpec("group", "Group 550", "rest"), RoomSpec("late", "SX10", "https", clock_offset=3600.0)]
    try:
        with Lab(folder, LabSpec(rooms, delay=0.3), proxy=proxy.proxy) as lab:
            monkeypatch.setenv("SSL_CERT_FILE", str(proxy.ca_path))
            monkeypatch.delenv("SSL_CERT_DIR", raising=False)
            writes = {n: r.device.counters.writes for n, r in lab.rooms.items()}
            result = cli("doctor", "-i", str(lab.inventory_path), "--run-dir", str(tmp_path / "runs"),
                         "--report", str(tmp_path / "d.json"))
            assert result.exit_code == 2, result.output  # the room with a wrong clock
            report = json.loads((tmp_path / "d.json").read_text())
            checks = {name: {c["name"]: c for c in h["checks"]} for name, h in report["hosts"].items()}
            assert checks["ce"]["clock"]["passed"] and "10.0.0.53" in checks["ce"]["dns servers"]["detail"]
            assert not checks["late"]["clock"]["passed"] and checks["late"]["clock"]["advice"]
            assert report["hosts"]["late"]["status"] == "failed"
            assert checks["group"]["dns servers"]["passed"] or checks["group"]["dns servers"]["skipped"]
            [path] = report["proxies"]
            assert {c["name"].split()[0]: c["passed"] for c in path["checks"]} == \
                {"dns": True, "tcp": True, "tls": True, "sip": True}
            assert {n: r.device.counters.writes for n, r in lab.rooms.items()} == writes  # changes nothing
    finally:
        proxy.stop()
