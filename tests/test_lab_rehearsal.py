"""A lab as an operator rehearses with it: a first contact's inventory (nothing trusted),
the fingerprints in the manifest, a reset that changes them, the control port's guard,
and what each API says of a room's DNS servers and clock (for `endpoints doctor`)."""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import pytest
import yaml
from lxml import etree

from endpoints.lab import control
from endpoints.lab.fleet import Lab, RoomSpec
from endpoints.lab.identity import ssh_fingerprint

ROOMS = [RoomSpec("ce-https", "SX20", "https"), RoomSpec("ce-ssh", "SX10", "ssh"),
         RoomSpec("group-rest", "Group 550", "rest"), RoomSpec("hdx", "HDX 7000", "telnet")]


def presented_certificate(port: int) -> str:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).hexdigest()


def presented_host_key(port: int) -> str:
    async def exchange() -> str:
        key = await asyncssh.get_server_host_key("127.0.0.1", port)
        assert key is not None
        return ssh_fingerprint(key)

    return asyncio.run(exchange())


def hosts_of(lab: Lab) -> dict[str, Any]:
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    return {name: host for group in inventory["all"]["children"].values() for name, host in group["hosts"].items()}


def manifest(lab: Lab) -> dict[str, Any]:
    return dict(json.loads((lab.folder / "manifest.json").read_text()))


def test_an_untrusted_lab_looks_like_a_first_contact(tmp_path: Path) -> None:
    with Lab(tmp_path / "lab", _spec(ROOMS), trusted=False) as lab:
        hosts = hosts_of(lab)
        assert hosts["ce-https"]["tls_verify"] is True and hosts["group-rest"]["tls_verify"] is True
        assert yaml.safe_load(lab.inventory_path.read_text())["all"]["vars"]["known_hosts"] == "known_hosts"
        assert (lab.folder / "known_hosts").read_text() == ""
        rooms = manifest(lab)["rooms"]
        assert manifest(lab)["trusted"] is False
        for name in ("ce-https", "group-rest"):
            port = lab.rooms[name].ports["https"]
            assert rooms[name]["certificate"] == {"sha256": presented_certificate(port), "self_signed": True}
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(f"https://127.0.0.1:{port}/", verify=ssl.create_default_context())  # strict fails
        for name in ("ce-ssh", "group-rest"):
            key = rooms[name]["ssh_host_key"]
            assert key == {"type": "ssh-rsa", "fingerprint": presented_host_key(lab.rooms[name].ports["ssh"])}


def test_a_trusted_lab_pins_what_the_manifest_shows_and_a_reset_changes_it(tmp_path: Path) -> None:
    with Lab(tmp_path / "lab", _spec(ROOMS)) as lab:
        before = manifest(lab)["rooms"]["group-rest"]
        assert hosts_of(lab)["group-rest"]["tls_verify"] == f"sha256:{before['certificate']['sha256']}"
        assert f"[127.0.0.1]:{lab.rooms['group-rest'].ports['ssh']} ssh-rsa" in (lab.folder / "known_hosts").read_text()
        assert lab.loop is not None
        lab.loop.call(lab.reset("group-rest"))
        after = manifest(lab)["rooms"]["group-rest"]
        ports = lab.rooms["group-rest"].ports
        assert after["certificate"]["sha256"] != before["certificate"]["sha256"]
        assert after["ssh_host_key"]["fingerprint"] != before["ssh_host_key"]["fingerprint"]
        assert after["certificate"]["sha256"] == presented_certificate(ports["https"])
        assert after["ssh_host_key"]["fingerprint"] == presented_host_key(ports["ssh"])


def test_the_control_port_refuses_any_wrong_token_with_403(tmp_path: Path) -> None:
    with Lab(tmp_path / "lab", _spec(ROOMS[:1])) as lab:
        assert lab.loop is not None
        stop = asyncio.Event()
        served = lab.loop.call(control.serve_control(lab, stop))
        url = f"http://127.0.0.1:{served['port']}/status"
        for token in (b"wrong", "tök€n".encode(), b"\xff\xfe", b""):
            answer = httpx.get(url, headers={control.TOKEN_HEADER.encode(): token})
            assert answer.status_code == 403, token
        assert httpx.get(url, headers={control.TOKEN_HEADER: served["token"]}).status_code == 200


# --- what a room says of its DNS, clock and proxy (doctor) ------------------------------------------

DNS = ("127.0.0.53", "127.0.0.54")


def _doctor_lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "lab", _spec([
        RoomSpec("sx20", "SX20", "https", dns=DNS, clock_offset=-7200, state="registered"),
        RoomSpec("sx80", "SX80", "http", dns=DNS),
        RoomSpec("group", "Group 550", "rest", dns=DNS, clock_offset=3600),
        RoomSpec("hdx", "HDX 7000", "telnet", dns=DNS, clock_offset=600),
    ]))


def test_cisco_rooms_say_their_dns_clock_and_proxy_status(tmp_path: Path) -> None:
    with _doctor_lab(tmp_path) as lab:
        room = lab.rooms["sx20"]
        with httpx.Client(base_url=f"https://127.0.0.1:{room.ports['https']}", verify=False,
                          auth=("admin", lab.admin_password)) as http:
            def status(location: str) -> Any:
                return etree.fromstring(http.get("/getxml", params={"location": location}).content)

            network = status("/Status/Network")
            assert [s.findtext("Address") for s in network.findall("Network/DNS/Server")] == [*DNS, ""]
            clock = status("/Status/Time").findtext("Time/SystemTime")
            shown = datetime.datetime.strptime(clock, "%Y-%m-%dT%H:%M:%S%z")
            behind = datetime.datetime.now(datetime.UTC) - shown
            assert datetime.timedelta(seconds=7190) < behind < datetime.timedelta(seconds=7300)
            time.sleep(1.2)  # the registered room's boot registration
            assert status("/Status/SIP/Proxy").findtext("SIP/Proxy/Status") == "Active"
            configured = status("/Configuration/Network/DNS/Server")
            assert [s.findtext("Address") for s in configured.findall("Network/DNS/Server")] == ["", "", ""]  # DHCP
        tc = lab.rooms["sx80"]
        with httpx.Client(base_url=f"http://127.0.0.1:{tc.ports['http']}", auth=("admin", lab.admin_password)) as http:
            tc_status = etree.fromstring(http.get("/getxml", params={"location": "/Status/Network[1]/DNS"}).content)
        servers = tc_status.findall("Network/DNS/Server")
        assert [s.findtext("Address") for s in servers] == [*DNS, ""] and servers[0].get("item") == "1"


def test_polycom_rooms_say_their_dns_and_clock(tmp_path: Path) -> None:
    with _doctor_lab(tmp_path) as lab:
        group = lab.rooms["group"]
        with httpx.Client(base_url=f"https://127.0.0.1:{group.ports['https']}", verify=False) as http:
            login = http.post("/rest/session", json={"user": "admin", "password": lab.admin_password,
                                                     "action": "Login"})
            http.cookies.set("session_id", login.json()["session"]["sessionId"])
            names = [f"system.network.dnsserver[{n}]" for n in range(4)] + ["system.network.dnsserver0"]
            values = [v.get("value") for v in http.post("/rest/config", json={"names": names}).json()["vars"]]
            assert values == [*DNS, "", "", DNS[0]]
            system = http.get("/rest/system").json()
            ahead = system["systemTime"] / 1000 - datetime.datetime.now(datetime.UTC).timestamp()
            assert 3590 < ahead < 3700
        hdx = lab.rooms["hdx"]
        with socket.create_connection(("127.0.0.1", hdx.ports["telnet"]), timeout=3) as telnet:
            text = _until(telnet, b"Password: ")
            telnet.sendall(lab.admin_password.encode() + b"\r\n")
            banner = _until(telnet, b"-> ")
            telnet.sendall(b"dns get 1\r\n")
            first = _until(telnet, b"-> ")
            telnet.sendall(b"dns get 2\r\n")
            second = _until(telnet, b"-> ")
        assert text.endswith("Password: ")
        assert "dns 1 127.0.0.53\r\n" in first and "dns 2 127.0.0.54\r\n" in second
        local = next(line for line in banner.splitlines() if line.startswith("Local Time is: "))
        shown = datetime.datetime.strptime(local.removeprefix("Local Time is: "), "%a, %d %b %Y %H:%M:%S")
        ahead = shown.replace(tzinfo=datetime.UTC) - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(seconds=590) < ahead < datetime.timedelta(seconds=700)


def _until(sock: socket.socket, marker: bytes) -> str:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data.decode()


def _spec(rooms: list[RoomSpec]) -> Any:
    from endpoints.lab.fleet import LabSpec

    return LabSpec([RoomSpec(**{**r.__dict__}) for r in rooms], delay=0.2)
