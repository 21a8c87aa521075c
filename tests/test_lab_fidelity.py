"""Lab behaviours of issue 18 and issue 10 item 2, over real sockets with plain clients:
tshell output modes, reboots (Cisco and Polycom), the Group Series REST session pool,
registration retries, factory resets that renew every key, and the REST way out of the
first-boot wizard."""
from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import asyncssh
import httpx
import paramiko
import pytest

from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.identity import ssh_fingerprint
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.polycom import PolycomDevice
from endpoints.lab.registration import MeetingService

PASSWORD = "Lab-Fidelity-Pw-9"
SERIAL = "8215274422C5CV"


@pytest.fixture(scope="module")
def loop() -> Iterator[LabLoop]:
    running = LabLoop()
    yield running
    running.stop()


@pytest.fixture
def devices(loop: LabLoop) -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for device in started:
        loop.call(device.stop())


def cisco(loop: LabLoop, devices: list[Any], model: str = "SX20", *protocols: str,
          service: MeetingService | None = None, software: str = "ce9.4.0.cd3c4c6") -> CiscoDevice:
    device = CiscoDevice(f"c{len(devices)}", model, software, service=service or MeetingService(delay=0.1),
                         serial="FTT1819FID", admin_password=PASSWORD)
    device.boot_seconds = 0.5
    loop.call(device.start({p: free_port() for p in protocols or ("http",)}))
    devices.append(device)
    return device


def polycom(loop: LabLoop, devices: list[Any], model: str, *protocols: str) -> PolycomDevice:
    device = PolycomDevice(f"p{len(devices)}", model, "6.2.0-670021" if "Group" in model else "3.1.7-59104",
                           service=MeetingService(delay=0.1), serial=SERIAL, admin_password=PASSWORD)
    device.boot_seconds = 0.5
    loop.call(device.start({p: free_port() for p in protocols}))
    devices.append(device)
    return device


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Shell:
    """A paramiko shell without PTY (as jsxapi opens it): LF line ends."""

    def __init__(self, port: int, password: str = PASSWORD) -> None:
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.client.connect("127.0.0.1", port, "admin", password, allow_agent=False, look_for_keys=False,
                            timeout=5)
        transport = self.client.get_transport()
        assert transport is not None
        self.channel = transport.open_session()
        self.channel.invoke_shell()  # no get_pty(): no PTY, LF line ends
        self.channel.settimeout(5)
        self.read_until(b"\nOK\n")

    def read_until(self, marker: bytes) -> str:
        data = b""
        while marker not in data:
            chunk = self.channel.recv(65536)
            assert chunk, data
            data += chunk
        return data.decode()

    def send(self, line: str, until: bytes) -> str:
        self.channel.sendall(line.encode() + b"\n")
        return self.read_until(until)

    def close(self) -> None:
        self.client.close()


# --- tshell output modes -----------------------------------------------------------------------

def test_tshell_xml_and_json_modes_echo_result_ids(loop: LabLoop, devices: list[Any]) -> None:
    device = cisco(loop, devices, "SX20", "ssh")
    shell = Shell(device.ports["ssh"])
    try:
        shell.send("echo off", b"OK\n")
        assert shell.send("xPreferences outputmode xml", b"</XmlDoc>\n") == '<XmlDoc resultId="">\n</XmlDoc>\n'
        xml = shell.send('xStatus SIP Registration 1 Status | resultId="r1"', b"</XmlDoc>\n")
        assert xml.startswith('<XmlDoc resultId="r1">') and "<Status>Inactive</Status>" in xml
        assert '<Registration item="1" maxOccurrence="n">' in xml
        assert shell.send("xpreferences outputmode json", b"{}\n") == "{}\n"
        status = json.loads(shell.send('xStatus SystemUnit ProductId | resultId="r2"', b"\n}\n"))
        assert status == {"Status": {"SystemUnit": {"ProductId": {"Value": "Cisco TelePresence SX20"}}},
                          "ResultId": "r2"}
        config = json.loads(shell.send('xConfiguration SIP DefaultTransport | resultId="r3"', b"\n}\n"))
        assert config["Configuration"]["SIP"]["DefaultTransport"] == {
            "valueSpaceRef": "/Valuespace/TTPAR_SIP_DEF_TRNSP", "Value": "Auto"}
        proxy = json.loads(shell.send('xConfiguration SIP Proxy 2 Address | resultId="r4"', b"\n}\n"))
        assert proxy["Configuration"]["SIP"]["Proxy"] == [
            {"id": "2", "Address": {"valueSpaceRef": "/Valuespace/STR_0_255_NoFilt", "Value": ""}}]
        written = json.loads(shell.send('xConfiguration SIP DisplayName: "a \\"b\\"" | resultId="r5"', b"\n}\n"))
        assert written == {"ResultId": "r5"} and device.value("SIP DisplayName") == 'a "b"'
        assert shell.send("xBogus", b"recognized.\n") == "Command not recognized.\n"
    finally:
        shell.close()


def test_tc_has_no_json_mode(loop: LabLoop, devices: list[Any]) -> None:
    device = cisco(loop, devices, "SX80", "ssh", software="TC7.3.6.b3d8e2c")
    shell = Shell(device.ports["ssh"])
    try:
        answer = shell.send("xPreferences outputmode json", b"ERROR\n")
        assert "(status=Error)" in answer
        assert shell.send("xStatus SIP Profile 1 Registration 1 Status", b"OK\n").startswith(
            "xStatus SIP Profile 1 Registration 1 Status\n*s SIP Profile 1 Registration 1 Status: Inactive")
    finally:
        shell.close()


# --- reboots ----------------------------------------------------------------------------------------

def test_cisco_boot_command_takes_the_codec_away_and_back(loop: LabLoop, devices: list[Any]) -> None:
    device = cisco(loop, devices, "SX20", "ssh", "http")
    shell = Shell(device.ports["ssh"])
    assert "(status=OK)" in shell.send("xCommand SystemUnit Boot", b"OK\n")
    wait_for(lambda: shell.channel.closed or shell.channel.exit_status_ready())  # the session is lost
    shell.close()
    wait_for(lambda: refused(device.ports["http"]), 2)  # away
    wait_for(lambda: not refused(device.ports["http"]), 5)  # and back after boot_seconds
    assert device.counters.reboots == 1 and device.counters.sessions_open == 0


def test_reboot_after_write_fault_and_the_boot_registration(loop: LabLoop, devices: list[Any]) -> None:
    service = MeetingService(delay=0.1)
    service.add_account("+99111612777", "Sip-1")
    device = cisco(loop, devices, "SX20", "http", service=service)
    uri = "+99111612777@huaweicloud.com"
    device.preset({"SIP URI": uri, "SIP Authentication UserName": uri, "SIP Authentication Password": "Sip-1",
                   "SIP DefaultTransport": "Tls"})
    device.faults.reboot_after_write = True
    base = f"http://127.0.0.1:{device.ports['http']}"
    body = ("<Configuration><SIP><Proxy item=\"1\"><Address>sip2-ec.huaweicloud.com:5061</Address></Proxy></SIP>"
            "</Configuration>")
    answer = httpx.post(f"{base}/putxml", content=body, auth=("admin", PASSWORD))
    assert answer.status_code == 200 and "<Success/>" in answer.text  # the write is taken, then the codec goes
    wait_for(lambda: refused(device.ports["http"]), 2)
    wait_for(lambda: not refused(device.ports["http"]), 5)
    assert device.value("SIP Proxy 1 Address") == "sip2-ec.huaweicloud.com:5061"  # kept across the reboot
    wait_for(lambda: device.registration.view() == ("registered", None), 3)  # it registers as it boots


def test_polycom_reboot_now_ends_sessions_and_comes_back(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "Group 550", "telnet", "https")
    telnet = socket.create_connection(("127.0.0.1", device.ports["telnet"]), timeout=3)
    _read(telnet, b"Password: ")
    telnet.sendall(PASSWORD.encode() + b"\r\n")
    _read(telnet, b"-> ")
    telnet.sendall(b"reboot now\r\n")
    reply = _read_all(telnet)
    assert "reboot now\r\n" in reply  # the command's words, then the connection drops
    telnet.close()
    wait_for(lambda: refused(device.ports["telnet"]) and refused(device.ports["https"]), 2)
    wait_for(lambda: not refused(device.ports["telnet"]), 5)
    wait_for(lambda: device.counters.sessions_open == 0, 5)  # the dropped session's handler ends on the loop
    assert device.counters.reboots == 1


def test_polycom_resetsystem_deletesystemsettings_is_a_factory_reset(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "Group 550", "ssh")
    device.preset({"sipusername": "room@example.com"})
    key = ssh_fingerprint(device.host_key)

    async def reset() -> str:
        # asyncssh as the client: Group Series offers only `ssh-rsa`, which paramiko 3 refuses
        async with asyncssh.connect("127.0.0.1", device.ports["ssh"], username="admin", password=PASSWORD,
                                    known_hosts=None, agent_path=None, client_keys=None) as conn:
            process = await conn.create_process(term_type="vt100")
            text = ""
            while not text.endswith("-> "):
                text += await process.stdout.read(4096)
            process.stdin.write("resetsystem deletesystemsettings\r")
            rest = await asyncio.wait_for(process.stdout.read(), 3)  # to the end: the unit hangs up
            return str(rest)

    assert "resetsystem" in asyncio.run(reset())
    wait_for(lambda: not refused(device.ports["ssh"]) and device.counters.reboots == 1, 5)
    assert device.oob and device.admin_password == SERIAL and device.value("comm.nics.sipnic.sipusername") == ""
    assert ssh_fingerprint(device.host_key) != key


def test_rest_reboot(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "Group 550", "http")
    base = f"http://127.0.0.1:{device.ports['http']}"
    session = httpx.post(f"{base}/rest/session", json={"user": "admin", "password": PASSWORD, "action": "Login"})
    cookies = {"session_id": session.json()["session"]["sessionId"]}
    assert httpx.post(f"{base}/rest/system/reboot", json={"action": "reboot"}, cookies=cookies).status_code == 200
    wait_for(lambda: refused(device.ports["http"]), 2)
    wait_for(lambda: not refused(device.ports["http"]), 5)
    assert httpx.get(f"{base}/rest/system", cookies=cookies).status_code == 401  # sessions died with it
    assert device.rest_sessions == {}


def _read(sock: socket.socket, marker: bytes) -> str:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data.decode()


def _read_all(sock: socket.socket) -> str:
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data.decode()


# --- the Group Series REST session pool ------------------------------------------------------------

def test_rest_session_pool_and_its_error(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "Group 550", "https")
    device.rest_session_limit, device.rest_session_idle = 2, 0.5
    base = f"https://127.0.0.1:{device.ports['https']}"
    with httpx.Client(base_url=base, verify=False) as http:
        login = {"user": "admin", "password": PASSWORD, "action": "Login"}
        sessions = [http.post("/rest/session", json=login).json()["session"]["sessionId"] for _ in range(2)]
        full = http.post("/rest/session", json=login)
        assert full.status_code == 412 and "SessionAlreadyActive" in full.text
        assert http.delete("/rest/session", cookies={"session_id": sessions[0]}).status_code == 204
        assert http.post("/rest/session", json=login).status_code == 200  # a logout frees one
        time.sleep(0.6)  # idle sessions end
        assert http.get("/rest/system", cookies={"session_id": sessions[1]}).status_code == 401
        assert http.post("/rest/session", json=login).status_code == 200
    assert device.counters.sessions_open == 1


# --- registration retries ------------------------------------------------------------------------------

def test_a_password_fixed_at_the_service_registers_at_the_next_retry(loop: LabLoop, devices: list[Any]) -> None:
    service = MeetingService(delay=0.1, retry_interval=0.4, refresh_interval=0.3)
    service.add_account("+99111612888", "Service-Pw")
    device = cisco(loop, devices, "SX20", "http", service=service)
    uri = "+99111612888@huaweicloud.com"
    device.preset({"SIP URI": uri, "SIP Authentication UserName": uri, "SIP Authentication Password": "Room-Pw",
                   "SIP Proxy 1 Address": "sip2-ec.huaweicloud.com:5061", "SIP DefaultTransport": "Tls"})
    base = f"http://127.0.0.1:{device.ports['http']}"

    def status() -> str:
        text = httpx.get(f"{base}/getxml", params={"location": "/Status/SIP/Registration"},
                         auth=("admin", PASSWORD)).text
        return "Registered" if "<Status>Registered</Status>" in text else "Failed" if "Failed" in text else text

    wait_for(lambda: status() == "Failed", 2)
    time.sleep(0.5)
    assert status() == "Failed" and device.registration.attempts >= 2  # the codec keeps retrying
    service.set_password("+99111612888", "Room-Pw")  # the administrator fixes it at the service
    wait_for(lambda: status() == "Registered", 3)
    attempts = device.registration.attempts
    time.sleep(0.8)
    assert status() == "Registered" and device.registration.attempts > attempts  # refreshed, still registered
    service.set_password("+99111612888", "Changed-Again")
    wait_for(lambda: status() == "Failed", 3)  # the next refresh fails


# --- factory reset and the wizard ---------------------------------------------------------------------

def presented_certificate(port: int) -> str:
    import hashlib

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).hexdigest()


def presented_host_key(port: int) -> str:
    """The host key the server offers, from a key exchange without login (as `trust` does)."""

    async def exchange() -> str:
        key = await asyncssh.get_server_host_key("127.0.0.1", port)
        assert key is not None
        return ssh_fingerprint(key)

    return asyncio.run(exchange())


def test_factory_reset_renews_every_key_and_restarts_every_server(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "Group 550", "https", "ssh")
    before = presented_certificate(device.ports["https"]), presented_host_key(device.ports["ssh"])
    assert before == (device.certificate.sha256, ssh_fingerprint(device.host_key))
    device.factory_reset()  # from another thread, as `lab reset` does through the control port
    after = presented_certificate(device.ports["https"]), presented_host_key(device.ports["ssh"])
    assert after[0] != before[0] and after[1] != before[1]  # both, on the servers themselves
    assert after == (device.certificate.sha256, ssh_fingerprint(device.host_key))


@pytest.mark.parametrize("blocks_reads", [True, False])
def test_leaving_the_wizard_over_rest(loop: LabLoop, devices: list[Any], blocks_reads: bool) -> None:
    device = polycom(loop, devices, "Group 550", "https")
    device.factory_reset()
    device.wizard_blocks_reads = blocks_reads
    with httpx.Client(base_url=f"https://127.0.0.1:{device.ports['https']}", verify=False) as http:
        login = http.post("/rest/session", json={"user": "admin", "password": SERIAL, "action": "Login"})
        http.cookies.set("session_id", login.json()["session"]["sessionId"])

        def config(**body: Any) -> list[dict[str, str]]:
            answer = http.post("/rest/config", json=body)
            assert answer.status_code == 200
            vars_: list[dict[str, str]] = answer.json()["vars"]
            return vars_

        write = config(vars=[{"name": "comm.nics.sipnic.sipusername", "value": "a@b"}])
        assert write[0]["result"] == "PERMISSION_DENIED" and device.value("comm.nics.sipnic.sipusername") == ""
        read = config(names=["comm.callpreference.sipenable", "system.info.outofbox"])
        assert read[0]["result"] == ("PERMISSION_DENIED" if blocks_reads else "NOERROR")
        assert read[1] == {"name": "system.info.outofbox", "value": "True", "result": "NOERROR"}
        left = config(vars=[{"name": "system.info.outofbox", "value": "False"}])
        assert left[0]["result"] == "NOERROR" and not device.oob
        assert config(vars=[{"name": "comm.nics.sipnic.sipusername", "value": "a@b"}])[0]["result"] == "NOERROR"


def test_line_writes_in_the_wizard_are_permission_denied(loop: LabLoop, devices: list[Any]) -> None:
    device = polycom(loop, devices, "HDX 7000", "telnet")
    device.factory_reset()
    device.wizard_blocks_reads = False
    device.restart_after_oobcomplete = False  # to see the write after it on the same session
    telnet = socket.create_connection(("127.0.0.1", device.ports["telnet"]), timeout=3)
    _read(telnet, b"Password: ")
    telnet.sendall(SERIAL.encode() + b"\r\n")
    _read(telnet, b"-> ")
    exchanges = [("systemsetting sipusername a@b", "error: Permission Denied"),
                 ("systemsetting get sipenable", "systemsetting sipenable True"),  # reads pass with this knob
                 ("oobcomplete", "oobcomplete"),
                 ("systemsetting sipusername a@b", "systemsetting sipusername a@b")]
    for command, expected in exchanges:
        telnet.sendall(command.encode() + b"\r\n")
        lines = [line for line in _read(telnet, b"-> ").replace("\n\r", "\r\n").split("\r\n") if line]
        assert lines[1] == expected, command  # after HDX's echo
    telnet.close()
