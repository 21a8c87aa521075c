"""The simulated Polycom units on the wire, as a raw client sees them."""
from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from endpoints.errors import ProtocolError, Transient
from endpoints.host import Credentials, Host
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.polycom import PolycomDevice
from endpoints.lab.registration import MeetingService
from endpoints.secrets import Secret
from endpoints.transports.base import Deadline
from endpoints.transports.ssh import SshTransport
from endpoints.transports.telnet import TelnetTransport

PASSWORD = "Adm1n-Secret-4412"


@pytest.fixture
def devices(lab: LabLoop) -> Iterator[list[PolycomDevice]]:
    started: list[PolycomDevice] = []
    yield started
    for device in started:
        lab.call(device.stop())


def start(lab: LabLoop, devices: list[PolycomDevice], model: str, *protocols: str) -> PolycomDevice:
    device = PolycomDevice(f"sim-{len(devices)}", model, "6.2.0-670021" if "Group" in model else "3.1.7-59104",
                           service=MeetingService(delay=0.05), serial="8215274422C5CV", admin_password=PASSWORD)
    lab.call(device.start({p: free_port() for p in protocols}))
    devices.append(device)
    return device


def read_until(telnet: TelnetTransport, marker: str, seconds: float = 2.0) -> str:
    text, deadline = "", Deadline(seconds)
    while marker not in text:
        try:
            data = telnet.read(deadline)
        except Transient:
            break
        if not data:
            break
        text += data.decode("utf-8", "replace")
    return text


def test_hdx_telnet_prompt_banner_echo_and_firmware_errors(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "HDX 7000", "telnet")
    telnet = TelnetTransport("127.0.0.1", device.ports["telnet"], timeout=2)
    telnet.open()
    assert read_until(telnet, "Password: ").endswith("Password: ")  # no newline after the prompt
    telnet.write(f"{PASSWORD}\r\n".encode())
    greeting = read_until(telnet, "-> ")
    assert "Hi, my name is : sim-0\r\n" in greeting and "Model: HDX 7000\r\n" in greeting
    exchanges = {
        "vers": 'vers\n\rversion "Release - 3.1.7-59104"\r\n-> ',  # abbreviation; HDX echo ends LF CR
        "frobnicate": "frobnicate\n\rerror: command not found\r\n-> ",
        "systemsetting sipenable": "systemsetting sipenable\n\r"
                                   "error: command needs more parameters to execute successfully\r\n-> ",
        'systemsetting sipusername "open': 'systemsetting sipusername "open\n\r'
                                          "error: command contains unterminated quoted string\r\n-> ",
        "systemsetting get sipfoo": 'systemsetting get sipfoo\n\r error: sub command "sipfoo" not found\r\n-> ',
        "systemsetting sipproxyserver": 'systemsetting sipproxyserver\n\rsystemsetting sipproxyserver ""\r\n-> ',
        "serialnum 1": "serialnum 1\n\rerror: command has illegal parameters\r\n-> ",
    }
    for command, expected in exchanges.items():
        telnet.write(f"{command}\r\n".encode())
        assert read_until(telnet, "-> ") == expected
    telnet.close()
    assert device.counters.writes == 1  # the clearing set


def test_wrong_telnet_password_asks_again_then_hangs_up(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "Group 550", "telnet")
    telnet = TelnetTransport("127.0.0.1", device.ports["telnet"], timeout=2)
    telnet.open()
    for _ in range(3):
        assert read_until(telnet, "Password: ").endswith("Password: ")
        telnet.write(b"nope\r\n")
    assert read_until(telnet, "never", 0.5) == "\r\n"
    assert telnet.read(Deadline(0.5)) == b""
    assert device.counters.logins_failed == 3


def _ssh(device: PolycomDevice, algorithms: tuple[str, ...]) -> SshTransport:
    host = Host("sim", "127.0.0.1", ssh_host_key="off")
    return SshTransport(host, device.ports["ssh"], Credentials("admin", Secret(PASSWORD)), timeout=2,
                        host_key_algs=algorithms)


def test_group_ssh_offers_only_ssh_rsa_and_ends_lines_crcrlf(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "Group 550", "ssh")
    with pytest.raises(ProtocolError):
        _ssh(device, ("rsa-sha2-256", "rsa-sha2-512", "ssh-ed25519")).open()
    ssh = _ssh(device, ("ssh-rsa",))
    ssh.open()
    channel = ssh.shell(pty=True)
    data = b""
    deadline = time.monotonic() + 2
    while not data.endswith(b"-> ") and time.monotonic() < deadline:
        data += channel.recv(4096)
    channel.send(b"systemsetting get model\r")
    reply = b""
    while not reply.endswith(b"-> ") and time.monotonic() < deadline + 2:
        reply += channel.recv(4096)
    ssh.close()
    assert b"SNMP Enabled: True\r\r\n" in data
    assert reply == b'systemsetting get model\r\r\nsystemsetting model "RealPresence Group 550"\r\r\n-> '


def test_rest_needs_a_session(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "Group 550", "http")
    base = f"http://127.0.0.1:{device.ports['http']}"
    assert httpx.get(f"{base}/rest/system").status_code == 401
    login = httpx.post(f"{base}/rest/session", json={"user": "admin", "password": PASSWORD, "action": "Login"})
    session = login.json()["session"]["sessionId"]
    cookies = {"session_id": session}
    answer = httpx.post(f"{base}/rest/config", cookies=cookies, json={"names": ["comm.nics.sipnic.siptransportprotocol"]})
    assert answer.json()["vars"] == [{"name": "comm.nics.sipnic.siptransportprotocol", "value": "Auto",
                                      "result": "NOERROR"}]
    status = httpx.get(f"{base}/rest/system/status", cookies=cookies).json()
    assert {"name": "system.status.sipserver", "languageTag": "SIP_SERVER", "state": ["off"]} in status
    assert httpx.delete(f"{base}/rest/session", cookies=cookies).status_code == 204
    assert device.rest_sessions == {}


def test_hdx_web_wants_digest(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "HDX 7000", "http")
    url = f"http://127.0.0.1:{device.ports['http']}/systemstatus.xml"
    assert httpx.get(url, auth=httpx.BasicAuth("admin", PASSWORD)).status_code == 401
    answer = httpx.get(url, auth=httpx.DigestAuth("admin", PASSWORD))
    assert answer.status_code == 200 and "<SIP_REGISTER>" in answer.text
    assert device.counters.logins_failed == 1


def test_preset_snapshot_and_factory_reset(lab: LabLoop, devices: list[PolycomDevice]) -> None:
    device = start(lab, devices, "Group 550", "telnet")
    old_key = device.host_key.export_public_key()
    device.preset({"sipusername": "a@b.example", "comm.nics.sipnic.sippassword": "pw", "siptransportprotocol": "tls"})
    assert device.counters.writes == 0
    assert device.value("comm.nics.sipnic.siptransportprotocol") == "TLS"  # stored canonical
    snapshot = device.snapshot()
    assert snapshot["comm.nics.sipnic.sippassword"] == "***" and "pw" not in str(snapshot.values())
    device.factory_reset()
    assert device.admin_password == device.serial and device.oob
    assert device.value("comm.nics.sipnic.sipusername") == ""
    assert device.host_key.export_public_key() != old_key
    with pytest.raises(ValueError):
        device.preset({"siptransportprotocol": "SCTP"})


def test_the_simulator_runs_on_the_same_firmware_data_as_the_fixtures() -> None:
    from pathlib import Path

    from endpoints.lab import polycom_table

    fixtures = Path(__file__).parent / "fixtures" / "polycom"
    for name in ("legacycommands.txt", "legacyresults.txt", "exportConfiguration.profile"):
        assert (polycom_table.DATA / name).read_bytes() == (fixtures / name).read_bytes(), name


def test_profiles_name_the_config_keys_of_the_firmware_table() -> None:
    from endpoints.lab import polycom_table
    from endpoints.profiles import ProfileSet

    group = ProfileSet.load().get("polycom-group")
    for setting in group.settings:
        spec = polycom_table.table().spelled(("systemsetting", setting.setting))
        assert spec is not None and spec.kind == "setconfig", setting.setting
        assert setting.via["rest"] == spec.config_key
