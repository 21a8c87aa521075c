"""The simulated codec itself, checked against real recordings and the protocol notes,
through its sockets with plain clients (httpx, paramiko), not through our drivers."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from endpoints.host import Credentials, Host
from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.registration import MeetingService
from endpoints.secrets import Secret
from endpoints.transports.ssh import SshTransport

FIXTURES = Path(__file__).parent / "fixtures" / "cisco"
SOFTWARE = {"SX10": "ce8.2.1.e9daf06", "SX20": "ce9.4.0.cd3c4c6", "SX80": "TC7.3.6.b3d8e2c"}
PASSWORD = "Lab-Admin-Pw-2"
_numbers = itertools.count(800000)


@pytest.fixture(scope="module")
def service() -> MeetingService:
    return MeetingService(delay=0.2)


@pytest.fixture
def codec(lab: LabLoop, service: MeetingService) -> Iterator[Callable[..., CiscoDevice]]:
    started: list[CiscoDevice] = []

    def make(model: str = "SX20", protocols: tuple[str, ...] = ("http",), **options: Any) -> CiscoDevice:
        device = CiscoDevice(f"room-{model.lower()}", model, SOFTWARE[model], service=service,
                             serial="FTT18190LAB", admin_password=PASSWORD, **options)
        lab.call(device.start({p: free_port() for p in protocols}))
        started.append(device)
        return device

    yield make
    for device in started:
        lab.call(device.stop())


def client(device: CiscoDevice, password: str = PASSWORD) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{device.ports['http']}", auth=("admin", password), timeout=5)


def get(device: CiscoDevice, url: str, **params: str) -> etree._Element:
    with client(device) as http:
        response = http.get(url, params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content)


def put(device: CiscoDevice, body: str) -> etree._Element:
    with client(device) as http:
        response = http.post("/putxml", content=body.encode(), headers={"Content-Type": "text/xml"})
    assert response.status_code == 200  # refusals too: the body says what happened
    return etree.fromstring(response.content)


def shape(element: etree._Element, prefix: str = "") -> list[tuple[str, dict[str, str]]]:
    """Every element's path and attributes, in document order (values left out)."""
    rows = []
    for child in element:
        path = f"{prefix}/{child.tag}"
        rows.append((path, dict(child.attrib)))
        rows += shape(child, path)
    return rows


def shell(device: CiscoDevice, *, pty: bool, password: str = PASSWORD) -> tuple[SshTransport, Any]:
    host = Host("lab", "127.0.0.1", ssh_host_key="off", device_credentials=Credentials("admin", Secret(password)))
    ssh = SshTransport(host, device.ports["ssh"], host.device_credentials, timeout=5)
    ssh.open()
    return ssh, ssh.shell(pty=pty)


def read_until(channel: Any, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = channel.recv(65536)
        assert chunk, data
        data += chunk
    return data


def run(channel: Any, command: str, nl: bytes = b"\n") -> str:
    """Send one command line; its answer up to the terminator line."""
    channel.sendall(command.encode() + b"\n")
    data = b""
    while not any(data.endswith(end + nl) for end in (b"OK", b"ERROR", b"Command not recognized.")):
        chunk = channel.recv(65536)
        assert chunk, data
        data += chunk
    return data.decode()


# --- documents shaped like the real dumps -------------------------------------------------------

def test_ce_configuration_document_has_the_recorded_sx20_shape(codec: Callable[..., CiscoDevice]) -> None:
    real = etree.parse(str(FIXTURES / "sx20-ce9.1.4-configuration.xml")).getroot()
    simulated = get(codec("SX20"), "/configuration.xml")
    assert shape(simulated) == shape(real)  # same elements, order, item/maxOccurrence and valueSpaceRef
    assert dict(simulated.attrib) == {"product": "Cisco Codec", "version": "ce9.4.0.cd3c4c6", "apiVersion": "4"}


def test_ce_status_sip_subtree_has_the_recorded_shape(codec: Callable[..., CiscoDevice]) -> None:
    real = etree.parse(str(FIXTURES / "sx20-ce9.1.4-status.xml")).getroot()
    simulated = get(codec("SX10"), "/getxml", location="/Status/SIP")
    assert shape(simulated.find("SIP")) == shape(real.find("SIP"))
    system_unit = shape(get(codec("SX10"), "/getxml", location="Status/SystemUnit").find("SystemUnit"))
    recorded = [path for path, _ in shape(real.find("SystemUnit"))]
    assert [path for path, _ in system_unit] == [p for p in recorded if p in dict(system_unit)]
    assert simulated.find("SIP/Registration").attrib == {"item": "1", "maxOccurrence": "n"}


def test_tc_decorates_every_element_with_item(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX80")
    for url in ("/status.xml", "/configuration.xml"):
        document = get(device, url)
        assert all(e.get("item") for e in document.iter() if e is not document)
    uri = get(device, "/getxml", location="/Configuration/SIP/Profile[1]/URI")
    assert [dict(e.attrib) for e in uri.iter()][1:] == [
        {"item": "1"}, {"item": "1"}, {"item": "1", "valueSpaceRef": "/Valuespace/STR_0_255_NoFilt"}]
    assert get(device, "/getxml", location="/Status/SystemUnit/Software/Version").findtext(
        "SystemUnit/Software/Version") == "TC7.3.6.b3d8e2c"


def test_unknown_locations_answer_an_empty_document(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    for location in ("/Configuration/SIP/Profile", "/Status/Nothing/Here", "/Configuration/SIP/Proxy[5]"):
        empty = get(device, "/getxml", location=location)
        assert len(empty) == 0 and empty.get("version") == "ce9.4.0.cd3c4c6"


def test_valuespace_document_marks_hidden_values(codec: Callable[..., CiscoDevice]) -> None:
    spaces = get(codec("SX20"), "/valuespace.xml")
    assert spaces.findtext("PASSWORD_0_128_NoFilt/HiddenValue") == "True"
    assert [v.text for v in spaces.find("TTPAR_SIP_DEF_TRNSP")] == ["Auto", "TCP", "Tls", "UDP"]


def test_credentials_are_required(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    with httpx.Client(base_url=f"http://127.0.0.1:{device.ports['http']}") as http:
        response = http.get("/status.xml")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    with client(device, password="nope") as http:
        assert http.get("/configuration.xml").status_code == 401
    assert device.counters.logins_failed == 1  # a missing Authorization header is no failed login


# --- writes ------------------------------------------------------------------------------------------

def test_value_spaces_are_enforced_case_insensitively(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    ok = put(device, "<Configuration><SIP><DefaultTransport>tls</DefaultTransport></SIP>"
                     "<NetworkServices><SIP><Mode>off</Mode></SIP></NetworkServices></Configuration>")
    assert ok.find("Success") is not None
    assert device.value("SIP DefaultTransport") == "Tls" and device.value("NetworkServices SIP Mode") == "Off"
    refused = put(device, "<Configuration><SIP><DefaultTransport>SCTP</DefaultTransport>"
                          "<DisplayName>Room 1</DisplayName></SIP>"
                          "<Conference><DefaultCall><Rate>9999</Rate></DefaultCall></Conference></Configuration>")
    assert refused.find("Success") is None
    assert [(e.tag, e.text) for e in refused.iter() if e.get("error")] == [
        ("DefaultTransport", "Illegal value"), ("Rate", "Illegal value")]
    assert device.value("SIP DisplayName") == "Room 1"  # the legal leaf of the document was set
    assert device.counters.settings_written == ["SIP DefaultTransport", "NetworkServices SIP Mode", "SIP DisplayName"]


def test_an_unknown_path_refuses_the_whole_document(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    refused = put(device, "<Configuration><SIP><URI>a@b</URI><Profile item=\"1\"><URI>x</URI></Profile></SIP>"
                          "</Configuration>")
    assert refused.get("status") == "Error"
    assert refused.findtext("Reason") == "No match on address expression."
    assert refused.findtext("XPath") == "Configuration/SIP/Profile[1]/URI"
    assert device.value("SIP URI") == "" and device.counters.writes == 0
    # CE puts no index on single elements: the TC path is unknown there
    assert put(device, '<Configuration><Conference item="1"><DefaultCall><Protocol>Sip</Protocol></DefaultCall>'
                       "</Conference></Configuration>").get("status") == "Error"


def test_tc_takes_its_own_decoration_back(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX80")
    ok = put(device, '<Configuration><SIP item="1"><Profile item="1"><Authentication item="1">'
                     "<LoginName>user</LoginName></Authentication></Profile></SIP>"
                     '<Conference item="1"><DefaultCall><Protocol>sip</Protocol></DefaultCall></Conference>'
                     "</Configuration>")
    assert ok.find("Success") is not None
    assert device.value("SIP Profile 1 Authentication 1 LoginName") == "user"
    assert device.value("Conference 1 DefaultCall Protocol") == "Sip"


def test_passwords_read_back_as_stars(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    put(device, "<Configuration><SIP><Authentication><Password>Very-Secret-1</Password></Authentication></SIP>"
                "</Configuration>")
    assert get(device, "/getxml", location="/Configuration/SIP").findtext("SIP/Authentication/Password") == "***"
    assert device.snapshot()["SIP Authentication Password"] == "***"
    assert "Very-Secret-1" not in str(device.snapshot())


def test_commands(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    set_command = ('<Command><UserManagement><User><Passphrase><Set command="True"><NewPassphrase>n</NewPassphrase>'
                   "<Username>admin</Username><YourPassphrase>{}</YourPassphrase></Set></Passphrase></User>"
                   "</UserManagement></Command>")
    wrong = put(device, set_command.format("guess"))
    assert wrong.find("PassphraseSetResult").get("status") == "Error"
    assert put(device, "<Command><Standby><Activate/></Standby></Command>").findtext("ActionError/Reason") == \
        "No action detected in document"
    unknown = put(device, '<Command><SystemUnit><AdminPassword><Set command="True"><Password>x</Password></Set>'
                          "</AdminPassword></SystemUnit></Command>")  # TC's command is not on CE
    assert unknown.find("Result").get("status") == "Error"
    assert device.admin_password == PASSWORD
    assert put(device, set_command.format(PASSWORD)).find("PassphraseSetResult").get("status") == "OK"
    assert device.admin_password == "n"


# --- sessions -------------------------------------------------------------------------------------------

def test_ce_sessions_are_a_small_counted_pool(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20", session_limit=2)
    with client(device) as http:
        cookies = []
        for _ in range(2):
            begun = http.post("/xmlapi/session/begin")
            assert begun.status_code == 204
            cookies.append(begun.headers["set-cookie"].split(";")[0])
        assert len(cookies[0].split("=")[1]) == 64
        assert http.post("/xmlapi/session/begin").status_code == 503
        assert device.counters.sessions_open == 2
        with httpx.Client(base_url=http.base_url) as anonymous:
            status = anonymous.get("/status.xml", headers={"Cookie": cookies[0]})
            assert status.status_code == 200  # the cookie alone authenticates
            assert anonymous.post("/xmlapi/session/end", headers={"Cookie": cookies[0]}).status_code == 204
            assert anonymous.post("/xmlapi/session/end", headers={"Cookie": cookies[0]}).status_code == 200
            assert anonymous.get("/status.xml", headers={"Cookie": cookies[0]}).status_code == 401
    assert device.counters.sessions_open == 1 and device.counters.sessions_max == 2


def test_tc_has_no_session_endpoint(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX80")
    with client(device) as http:
        answer = http.post("/xmlapi/session/begin")
    assert answer.is_redirect and device.counters.sessions_open == 0


def test_http_mode_https_redirects_plain_http(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20", protocols=("http", "https"))
    device.preset({"NetworkServices HTTP Mode": "HTTPS"})
    with client(device) as http:
        answer = http.get("/status.xml")
    assert answer.is_redirect and answer.headers["Location"].startswith(f"https://127.0.0.1:{device.ports['https']}/")


def test_tc_http_mode_changes_at_the_next_boot(codec: Callable[..., CiscoDevice], lab: LabLoop) -> None:
    device = codec("SX80")
    put(device, "<Configuration><NetworkServices><HTTP><Mode>Off</Mode></HTTP></NetworkServices></Configuration>")
    with client(device) as http:
        assert http.get("/status.xml").status_code == 200  # "reboot required"
    lab.call(device.restart())
    with client(device) as http:
        assert http.get("/status.xml").is_redirect  # HTTPS is still on: plain HTTP is sent there


# --- faults -----------------------------------------------------------------------------------------------

def test_faults(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20")
    device.faults.http_503 = 1
    with client(device) as http:
        assert http.get("/status.xml").status_code == 503
        assert http.get("/status.xml").status_code == 200
    device.faults.drop = 1
    with client(device) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/status.xml")
    device.faults.slow = 0.2
    started = time.monotonic()
    with client(device) as http:
        assert http.get("/status.xml").status_code == 200
    assert time.monotonic() - started >= 0.2
    device.faults.slow = 0
    device.faults.refuse_login = True
    with client(device) as http:
        assert http.get("/status.xml").status_code == 401


# --- tshell ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, release", [
    ("SX10", "Cisco Codec Release ce 8.2.1 Final e9daf06 2016-06-28"),
    ("SX20", "Cisco Codec Release ce 9.4.0 cd3c4c6 2018-06-21"),
    ("SX80", "Cisco Codec Release TC7.3.6.b3d8e2c"),
])
def test_ssh_banner(codec: Callable[..., CiscoDevice], model: str, release: str) -> None:
    device = codec(model, protocols=("ssh",))
    ssh, channel = shell(device, pty=True)
    try:
        banner = read_until(channel, b"\r\nOK\r\n").decode()
        assert banner.splitlines()[:4] == ["Welcome to 127.0.0.1", release,
                                           f"SW Release Date: {release.split()[-1] if model != 'SX80' else '2016-05-19'}",
                                           "*r Login successful"]
    finally:
        ssh.close()
    ssh, channel = shell(device, pty=False)
    try:
        second = read_until(channel, b"\nOK\n").decode()
        channel.settimeout(0.3)
        try:
            while chunk := channel.recv(65536):
                second += chunk.decode()
        except TimeoutError:
            pass
        assert "\r" not in second
        assert ("Last login from" in second) == (model == "SX20")  # CE 9 prints it after OK
    finally:
        ssh.close()


def test_terminal_mode(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX20", protocols=("ssh",))
    ssh, channel = shell(device, pty=True)
    nl = b"\r\n"
    try:
        read_until(channel, b"\r\nOK\r\n")
        assert run(channel, 'xConfiguration SIP DisplayName: "Room \\"A\\" 1"', nl).endswith("** end\r\n\r\nOK\r\n")
        echo_off = run(channel, "echo off", nl)
        assert echo_off.startswith("echo off\r\n\x1b[?1034h\r\nOK")
        read = run(channel, "xConfiguration SIP DisplayName", nl)
        assert read == '*c xConfiguration SIP DisplayName: "Room \\"A\\" 1"\r\n** end\r\n\r\nOK\r\n'
        transport = run(channel, "xconfiguration sip defaulttransport: tls", nl)
        assert transport.endswith("OK\r\n") and device.value("SIP DefaultTransport") == "Tls"
        assert run(channel, "xConfiguration SIP DefaultTransport", nl).startswith(
            "*c xConfiguration SIP DefaultTransport: Tls\r\n")
        status = run(channel, "xStatus SIP Registration 1 Status | resultId=\"7\"", nl)
        assert status == "*s SIP Registration 1 Status: Inactive\r\n** end\r\n\r\nOK\r\n"
        bad = run(channel, "xConfiguration SIP DefaultTransport: Pigeon", nl)
        assert bad.splitlines()[:3] == ["*r Configuration (status=Error):", '*r Configuration Reason: "Illegal value"',
                                        '*r Configuration XPath: "Configuration/SIP/DefaultTransport"']
        assert bad.endswith("ERROR\r\n")
        missing = run(channel, "xStatus SIP Profile 1 Registration", nl)
        assert '*r Status Reason: "No match on address expression."' in missing and missing.endswith("ERROR\r\n")
        assert run(channel, "xBogus", nl) == "Command not recognized.\r\n"
        command = run(channel, f'xCommand UserManagement User Passphrase Set NewPassphrase: "n 2" '
                               f'Username: "admin" YourPassphrase: "{PASSWORD}"', nl)
        assert command == "*r PassphraseSetResult (status=OK):\r\n** end\r\n\r\nOK\r\n"
        assert device.admin_password == "n 2"
    finally:
        ssh.close()
    assert device.counters.settings_written == ["SIP DisplayName", "SIP DefaultTransport",
                                                "UserManagement User Passphrase"]


def test_wrong_ssh_password_is_counted(codec: Callable[..., CiscoDevice]) -> None:
    from endpoints.errors import AuthenticationFailed

    device = codec("SX80", protocols=("ssh",))
    with pytest.raises(AuthenticationFailed):
        shell(device, pty=False, password="guess")
    assert device.counters.logins_failed >= 1 and device.counters.sessions_open == 0


# --- registration -------------------------------------------------------------------------------------------

def registration(device: CiscoDevice) -> dict[str, str]:
    base = "SIP Profile 1 " if device.tc else "SIP "
    return {leaf.path.removeprefix(base): value for leaf, value in device.status([])
            if leaf.path.startswith(base) and ("Registration" in leaf.path or "Proxy" in leaf.path
                                               or leaf.path.endswith(("Authentication", "Secure")))}


def wait_registered_or_failed(device: CiscoDevice) -> dict[str, str]:
    deadline = time.monotonic() + 3
    while (state := registration(device))["Registration 1 Status"] == "Registering":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return state


@pytest.mark.parametrize("model", ["SX20", "SX80"])
def test_registration_outcomes(codec: Callable[..., CiscoDevice], service: MeetingService, model: str) -> None:
    device = codec(model)
    number = f"+99111{next(_numbers)}"
    service.add_account(number, "Right-Sip-Pw")
    p = "SIP Profile 1 " if device.tc else "SIP "
    user = "Authentication 1 LoginName" if device.tc else "Authentication UserName"
    password = "Authentication 1 Password" if device.tc else "Authentication Password"
    assert registration(device)["Registration 1 Status"] == "Inactive"
    assert registration(device)["Proxy 1 Status"] == "Off"
    device.preset({f"{p}URI": f"{number}@huaweicloud.com", f"{p}{user}": f"{number}@huaweicloud.com",
                   f"{p}{password}": "Right-Sip-Pw", f"{p}Proxy 1 Address": "sip.example.invalid:5061",
                   f"{p}DefaultTransport": "Tls"})
    failed = wait_registered_or_failed(device)
    assert (failed["Registration 1 Status"], failed["Registration 1 Reason"], failed["Proxy 1 Status"]) == \
        ("Failed", "DNS lookup failed", "DNSFailed")
    device.preset({f"{p}Proxy 1 Address": "sip2-ec.huaweicloud.com:5061", f"{p}DefaultTransport": "UDP"})
    assert wait_registered_or_failed(device)["Registration 1 Reason"] == "408 Request Timeout"
    attempts = device.registration.attempts
    device.preset({f"{p}DefaultTransport": "Tls"})
    done = wait_registered_or_failed(device)
    assert (done["Registration 1 Status"], done["Registration 1 URI"], done["Proxy 1 Status"]) == \
        ("Registered", f"{number}@huaweicloud.com", "Active")
    assert (done["Authentication"], done["Secure"]) == ("Digest", "True")
    device.preset({f"{p}DefaultTransport": "tls", f"{p}DisplayName": "Unchanged SIP"})
    assert registration(device)["Registration 1 Status"] == "Registered"  # no SIP change: no new REGISTER
    device.preset({"NetworkServices SIP Mode": "Off"})
    assert registration(device)["Registration 1 Status"] == "Inactive"
    assert device.registration.attempts == attempts + 1
    assert device.counters.writes == 0  # presets are not writes


def test_tc_proxy_discovery_auto_ignores_the_address(codec: Callable[..., CiscoDevice]) -> None:
    device = codec("SX80")
    device.preset({"SIP Profile 1 Proxy 1 Address": "sip2-ec.huaweicloud.com:5061"})
    assert device.sip_settings().proxy == "sip2-ec.huaweicloud.com:5061"
    device.preset({"SIP Profile 1 Proxy 1 Discovery": "Auto"})
    assert device.sip_settings().proxy == ""


# --- life cycle -----------------------------------------------------------------------------------------------

def test_preset_snapshot_and_factory_reset(codec: Callable[..., CiscoDevice], lab: LabLoop) -> None:
    device = codec("SX20", protocols=("http", "https", "ssh"))
    ports, pin, key = dict(device.ports), device.certificate.sha256, device.host_key.public_data
    device.preset({"SIP URI": "old@corp.example", "SIP DefaultTransport": "udp"})
    assert device.snapshot()["SIP URI"] == "old@corp.example" and device.snapshot()["SIP DefaultTransport"] == "UDP"
    with pytest.raises(ValueError, match="No match"):
        device.preset({"SIP Profile 1 URI": "x"})
    device.factory_reset()
    lab.call(device.restart())
    assert device.ports == ports and device.admin_password == ""
    assert device.snapshot()["SIP URI"] == "" and device.counters.sessions_open == 0
    assert device.certificate.sha256 != pin and device.host_key.public_data != key
    with httpx.Client(base_url=f"http://127.0.0.1:{ports['http']}", auth=("admin", "")) as http:
        assert http.get("/status.xml").status_code == 200  # factory default: admin, empty password


def test_http_rooms_are_light(lab: LabLoop, service: MeetingService) -> None:
    started = time.monotonic()
    devices = [CiscoDevice(f"room-{i}", "SX20", SOFTWARE["SX20"], service=service, serial=f"FTT{i:08d}")
               for i in range(100)]
    for device in devices:
        lab.call(device.start({"http": free_port()}))
    elapsed = time.monotonic() - started
    try:
        assert all(d._host_key is None for d in devices)  # no RSA key made for rooms without SSH
        assert elapsed < 5, elapsed
        with client(devices[-1], password="") as http:
            assert http.get("/getxml", params={"location": "/Status/SystemUnit"}).status_code == 200
    finally:
        for device in devices:
            lab.call(device.stop())
