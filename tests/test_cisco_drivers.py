"""The Cisco drivers (HTTP, HTTPS, SSH) against simulated SX10/SX20/SX80 over loopback."""
from __future__ import annotations

import base64
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from endpoints.desired import desired_state
from endpoints.drivers import driver_class
from endpoints.drivers.base import Driver, Write
from endpoints.drivers.cisco_http import HttpXapi
from endpoints.drivers.cisco_ssh import ShellXapi
from endpoints.errors import (
    AuthenticationFailed,
    DeviceBusy,
    HostKeyChanged,
    HostKeyUnknown,
    SettingRefused,
    TLSVerifyFailed,
    Transient,
    Unsupported,
)
from endpoints.host import Credentials, Host, SipVars, TlsPolicy
from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.net import LabLoop, free_port, known_hosts_line
from endpoints.lab.registration import MeetingService
from endpoints.profiles import Profile, ProfileSet
from endpoints.secrets import Secret

SOFTWARE = {"SX10": "ce8.2.1.e9daf06", "SX20": "ce9.4.0.cd3c4c6", "SX80": "TC7.3.6.b3d8e2c"}
TRANSPORTS = ("http", "https", "ssh")
DEVICE_PASSWORD = "Dev1ce-Pass-Qx7"
_numbers = itertools.count(700000)


@pytest.fixture(scope="module")
def service() -> MeetingService:
    return MeetingService(delay=0.25)


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load()


@dataclass
class Room:
    device: CiscoDevice
    ports: dict[str, int]
    number: str
    sip_password: str
    known_hosts: Path

    @property
    def uri(self) -> str:
        return f"{self.number}@huaweicloud.com"

    def host(self, *, password: str = DEVICE_PASSWORD, sip_password: str | None = None,
             tls: TlsPolicy | None = None) -> Host:
        return Host(self.device.name, "127.0.0.1", model=self.device.model, ports=dict(self.ports),
                    device_credentials=Credentials("admin", Secret(password)),
                    sip=SipVars(number=self.number, password=Secret(sip_password or self.sip_password)),
                    tls=tls or TlsPolicy(pin=self.device.certificate.sha256), known_hosts=self.known_hosts)

    def driver(self, transport: str, **options: Any) -> Driver:
        host_options = {k: options.pop(k) for k in ("password", "tls") if k in options}
        return driver_class("cisco", transport)(self.host(**host_options), transport, timeout=5, **options)


@pytest.fixture
def make_room(lab: LabLoop, service: MeetingService, tmp_path: Path) -> Iterator[Callable[..., Room]]:
    rooms: list[Room] = []

    def make(model: str = "SX20", protocols: tuple[str, ...] = TRANSPORTS, **options: Any) -> Room:
        number = f"+99111{next(_numbers)}"
        sip_password = f"Sip-Secret-{number[-4:]}-zz"
        service.add_account(number, sip_password)
        device = CiscoDevice(f"room-{number[-4:]}", model, SOFTWARE[model], service=service,
                             serial=f"FTT{number[-6:]}", admin_password=DEVICE_PASSWORD, **options)
        ports = {protocol: free_port() for protocol in protocols}
        lab.call(device.start(ports))
        known = tmp_path / f"known_hosts-{number}"
        known.write_text(known_hosts_line(device.host_key, ports["ssh"]) if "ssh" in ports else "")
        room = Room(device, ports, number, sip_password, known)
        rooms.append(room)
        return room

    yield make
    for room in rooms:
        lab.call(room.device.stop())


def profile_of(room: Room, profiles: ProfileSet) -> Profile:
    return profiles.get("cisco-tc" if room.device.tc else "cisco-ce")


def huawei_writes(room: Room, profile: Profile, transport: str, sip_password: str | None = None) -> list[Write]:
    host = room.host(sip_password=sip_password)
    return [Write(setting.path_for(transport), value) for setting, value in profile.render(desired_state(host), host)]


def wait_for(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def registration(room: Room, profile: Profile, transport: str) -> dict[str, str | None]:
    status, reason = profile.registration.paths_for(transport)
    uri = status.replace("Status", "URI")
    with room.driver(transport) as driver:  # a new session per poll, as the engine polls
        return driver.status([status, reason or "", uri])


def no_sessions(room: Room) -> bool:
    return room.device.counters.sessions_open == 0


# --- the whole job, per model and transport --------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("model", list(SOFTWARE))
def test_huawei_settings_register_the_room(make_room: Callable[..., Room], profiles: ProfileSet, model: str,
                                          transport: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    room = make_room(model)
    device, profile = room.device, profile_of(room, profiles)
    status_path, reason_path = profile.registration.paths_for(transport)
    readable = [s for s in profile.settings if not s.secret]
    writes = huawei_writes(room, profile, transport)

    with room.driver(transport) as driver:
        identity = driver.identity()
        assert (identity.model, identity.software, identity.serial) == (model, SOFTWARE[model], device.serial)
        assert profile.matches(identity)
        before = driver.read([s.setting for s in readable])
        assert None not in before.values()  # every profile path exists on this firmware
        assert driver.status([status_path])[status_path] == "Inactive"
        attempts = device.registration.attempts
        driver.write(writes)
        after = driver.read([s.setting for s in readable])
        assert driver.status([status_path])[status_path] == "Registering"
    for write in writes:
        if write.path in after:  # everything but the password reads back (in the device's spelling)
            assert (after[write.path] or "").casefold() == str(write.value).casefold()
    transport_path = next(path for path in after if path.endswith("DefaultTransport"))
    assert after[transport_path] == "Tls"

    wait_for(lambda: registration(room, profile, transport)[status_path] == "Registered")
    final = registration(room, profile, transport)
    assert final[status_path.replace("Status", "URI")] == room.uri and final[reason_path or ""] == ""
    assert device.registration.attempts == attempts + 1  # one batch, one REGISTER

    wrong = [w for w in huawei_writes(room, profile, transport, sip_password="Not-The-Sip-Pw-3")
             if isinstance(w.value, Secret)]
    with room.driver(transport) as driver:
        driver.write(wrong)
    wait_for(lambda: registration(room, profile, transport)[status_path] == "Failed")
    assert registration(room, profile, transport)[reason_path or ""] == "403 Forbidden"
    assert device.registration.attempts == attempts + 2

    wait_for(lambda: no_sessions(room))
    basic = base64.b64encode(f"admin:{DEVICE_PASSWORD}".encode()).decode()
    for secret in (room.sip_password, "Not-The-Sip-Pw-3", DEVICE_PASSWORD, basic):
        assert secret not in caplog.text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_refused_secret_stays_secret(make_room: Callable[..., Room], transport: str,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    room = make_room("SX20")
    too_long = "Leaky-Secret-" + "x" * 200  # beyond PASSWORD_0_128: the device refuses it
    with room.driver(transport) as driver, pytest.raises(SettingRefused) as refused:
        driver.write([Write("SIP Authentication Password", Secret(too_long))])
    assert refused.value.path == "SIP Authentication Password"
    assert "Leaky-Secret" not in str(refused.value) and "Leaky-Secret" not in repr(refused.value)
    assert "Leaky-Secret" not in caplog.text


# --- refusals and absent paths ---------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("model", ["SX20", "SX80"])
def test_value_outside_the_value_space_is_refused_with_its_path(make_room: Callable[..., Room], model: str,
                                                                transport: str) -> None:
    room = make_room(model)
    path = "SIP Profile 1 DefaultTransport" if model == "SX80" else "SIP DefaultTransport"
    with room.driver(transport) as driver:
        driver.write([Write(path, "tls")])  # literals are case-insensitive, stored canonically
        assert driver.read([path])[path] == "Tls"
        with pytest.raises(SettingRefused) as refused:
            driver.write([Write(path, "Carrier-Pigeon")])
        assert refused.value.path == path and "Illegal value" in str(refused.value)
        assert driver.read([path])[path] == "Tls"
    wait_for(lambda: no_sessions(room))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("model", ["SX20", "SX80"])
def test_paths_of_the_other_family_are_absent(make_room: Callable[..., Room], model: str, transport: str) -> None:
    room = make_room(model)
    foreign = "SIP URI" if model == "SX80" else "SIP Profile 1 URI"
    # TC's XML decorates every element with item="1", so an index left out of a TC path
    # cannot be told from a single element there; CE's XML tells them apart.
    indexed = "Conference 1 DefaultCall Protocol"
    with room.driver(transport) as driver:
        assert driver.read([foreign, "Bogus Node Leaf"]) == {foreign: None, "Bogus Node Leaf": None}
        if model == "SX20":
            assert driver.read([indexed]) == {indexed: None}
        assert driver.status(["SIP Registration 7 Status"])["SIP Registration 7 Status"] is None
        with pytest.raises(SettingRefused) as refused:
            driver.write([Write(foreign, "x@y")])
        assert refused.value.path == foreign and "No match on address expression" in refused.value.reason
    assert room.device.counters.writes == 0


def test_a_refused_batch_names_the_first_refused_path_in_write_order(make_room: Callable[..., Room]) -> None:
    room = make_room("SX20", protocols=("http",))
    with room.driver("http") as driver, pytest.raises(SettingRefused) as refused:
        driver.write([Write("SIP URI", "a@b"), Write("SIP Proxy 1 Address", "x" * 300),
                      Write("SIP DefaultTransport", "Smoke")])
    assert refused.value.path == "SIP Proxy 1 Address"


# --- logins ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_device_password_is_an_authentication_failure(make_room: Callable[..., Room], transport: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    room = make_room("SX80" if transport == "http" else "SX20")
    with pytest.raises(AuthenticationFailed) as failure:
        room.driver(transport, password="Wrong-Dev-Pw-55").open()
    assert "Wrong-Dev-Pw-55" not in str(failure.value) and "Wrong-Dev-Pw-55" not in caplog.text
    assert room.device.counters.logins_failed >= 1
    wait_for(lambda: no_sessions(room))


def test_refused_login_fault(make_room: Callable[..., Room]) -> None:
    room = make_room("SX10", protocols=("https",))
    room.device.faults.refuse_login = True
    with pytest.raises(AuthenticationFailed):
        room.driver("https").open()


def test_tc_has_no_sessions_and_authenticates_every_request(make_room: Callable[..., Room]) -> None:
    room = make_room("SX80", protocols=("https",))
    with room.driver("https") as driver:
        assert driver.identity().software.startswith("TC7")
        assert room.device.counters.sessions_open == 0
    assert room.device.counters.sessions_max == 0


# --- sessions never leak -------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["http", "https"])
def test_sessions_end_on_every_path_out(make_room: Callable[..., Room], transport: str) -> None:
    room = make_room("SX20", protocols=(transport,))
    counters = room.device.counters
    with room.driver(transport) as driver:
        driver.identity()
        assert counters.sessions_open == 1
    assert counters.sessions_open == 0
    with pytest.raises(RuntimeError), room.driver(transport):
        raise RuntimeError("the engine failed mid-run")
    assert counters.sessions_open == 0
    with pytest.raises(SettingRefused), room.driver(transport) as driver:
        driver.write([Write("SIP DefaultTransport", "Smoke")])
    assert counters.sessions_open == 0
    with pytest.raises(KeyboardInterrupt), room.driver(transport) as driver:
        raise KeyboardInterrupt
    assert counters.sessions_open == 0
    assert counters.sessions_max == 1


def test_a_full_session_pool_is_busy_and_says_why(make_room: Callable[..., Room],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HttpXapi, "busy_backoff", 0.01)
    room = make_room("SX20", protocols=("http",), session_limit=4)
    leaked = [room.driver("http") for _ in range(4)]
    for driver in leaked:
        driver.open()  # other clients that never end their sessions
    with pytest.raises(DeviceBusy, match="XMLAPI session"):
        room.driver("http").open()
    for driver in leaked:
        driver.close()
    assert room.device.counters.sessions_open == 0
    with room.driver("http") as driver:
        assert driver.identity().model == "SX20"


def test_a_session_lost_to_a_reboot_is_reopened(make_room: Callable[..., Room], lab: LabLoop) -> None:
    room = make_room("SX20", protocols=("http",))
    with room.driver("http") as driver:
        driver.identity()
        lab.call(room.device.restart())
        assert driver.read(["SIP ListenPort"]) == {"SIP ListenPort": "On"}
    assert room.device.counters.sessions_open == 0


# --- busy devices, broken connections ------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["http", "https"])
def test_503_is_retried_with_backoff_then_busy(make_room: Callable[..., Room], transport: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HttpXapi, "busy_backoff", 0.01)
    room = make_room("SX20", protocols=(transport,))
    room.device.faults.http_503 = 2
    with room.driver(transport) as driver:
        assert driver.identity().model == "SX20"
    room.device.faults.http_503 = 50
    with pytest.raises(DeviceBusy, match="503"):
        room.driver(transport).open()
    assert room.device.faults.http_503 == 50 - 1 - HttpXapi.busy_retries
    room.device.faults.http_503 = 0
    assert no_sessions(room)


def test_dropped_request_is_transient(make_room: Callable[..., Room]) -> None:
    room = make_room("SX10", protocols=("http",))
    room.device.faults.drop = 1
    with pytest.raises(Transient):
        room.driver("http").open()


def test_dropped_ssh_session_is_transient(make_room: Callable[..., Room]) -> None:
    room = make_room("SX10", protocols=("ssh",))
    room.device.faults.drop = 1
    with pytest.raises(Transient):
        room.driver("ssh").open()


def test_slow_device_within_the_timeout(make_room: Callable[..., Room]) -> None:
    room = make_room("SX80", protocols=("ssh",))
    room.device.faults.slow = 0.05
    with room.driver("ssh") as driver:
        assert driver.identity().model == "SX80"


def test_https_only_codec_names_the_fix(make_room: Callable[..., Room]) -> None:
    room = make_room("SX20", protocols=("http", "https"))
    room.device.preset({"NetworkServices HTTP Mode": "HTTPS"})
    with pytest.raises(Unsupported, match="transport: https"):
        room.driver("http").open()
    with room.driver("https") as driver:
        assert driver.read(["NetworkServices HTTP Mode"]) == {"NetworkServices HTTP Mode": "HTTPS"}
    assert no_sessions(room)


# --- trust ---------------------------------------------------------------------------------------

def test_certificate_pin_mismatch(make_room: Callable[..., Room]) -> None:
    room = make_room("SX20", protocols=("https",))
    with pytest.raises(TLSVerifyFailed) as failure:
        room.driver("https", tls=TlsPolicy(pin="ab" * 32)).open()
    assert room.device.certificate.sha256 in str(failure.value)
    assert room.device.counters.sessions_max == 0 and room.device.counters.logins_failed == 0


def test_ssh_host_key_unknown_and_changed(make_room: Callable[..., Room]) -> None:
    room = make_room("SX80", protocols=("ssh",))
    line = room.known_hosts.read_text()
    room.known_hosts.write_text("")
    with pytest.raises(HostKeyUnknown, match="accept-new"):
        room.driver("ssh").open()
    room.known_hosts.write_text(line.replace(line.split()[2], line.split()[2][:-8] + "AAAAAAAA"))
    with pytest.raises(HostKeyChanged, match="endpoints recover"):
        room.driver("ssh").open()
    assert room.device.counters.logins_failed == 0  # no password was offered


# --- admin password and factory reset ------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("model", ["SX10", "SX80"])
def test_set_admin_password(make_room: Callable[..., Room], model: str, transport: str,
                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    room = make_room(model)
    with room.driver(transport) as driver:
        driver.set_admin_password(Secret("New-Admin-Pw-81"))
        assert driver.identity().model == model  # the session goes on with the new password
    assert room.device.admin_password == "New-Admin-Pw-81"
    with pytest.raises(AuthenticationFailed):
        room.driver(transport).open()
    with room.driver(transport, password="New-Admin-Pw-81") as driver:
        driver.identity()
    assert "New-Admin-Pw-81" not in caplog.text and DEVICE_PASSWORD not in caplog.text
    wait_for(lambda: no_sessions(room))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_factory_reset_room_is_recovered_with_the_factory_login(make_room: Callable[..., Room], lab: LabLoop,
                                                                transport: str) -> None:
    room = make_room("SX20")
    old_pin = room.device.certificate.sha256
    room.device.factory_reset()
    lab.call(room.device.restart())
    expected_error = {"ssh": HostKeyChanged, "https": TLSVerifyFailed, "http": AuthenticationFailed}[transport]
    with pytest.raises(expected_error):
        room.driver(transport, tls=TlsPolicy(pin=old_pin)).open()
    factory = room.driver(transport, password="", trust_changed_key=transport != "http",
                          tls=TlsPolicy(pin=old_pin))
    with factory:
        factory.set_admin_password(Secret(DEVICE_PASSWORD))
        if transport == "ssh":
            assert factory.key_changed and factory.accepted_keys[-1] == \
                known_hosts_line(room.device.host_key, room.ports["ssh"]).strip()
        if transport == "https":
            assert factory.key_changed and factory.accepted_keys[-1] == f"sha256:{room.device.certificate.sha256}"
    assert room.device.admin_password == DEVICE_PASSWORD
    wait_for(lambda: no_sessions(room))


def test_ssh_driver_behind_a_pty(make_room: Callable[..., Room], monkeypatch: pytest.MonkeyPatch) -> None:
    """With a PTY the codec ends lines in CR LF; the driver reads both forms."""
    monkeypatch.setattr(ShellXapi, "pty", True)
    room = make_room("SX80", protocols=("ssh",))
    with room.driver("ssh") as driver:
        driver.write([Write("SIP Profile 1 DisplayName", 'Room "B" 2')])
        assert driver.read(["SIP Profile 1 DisplayName"]) == {"SIP Profile 1 DisplayName": 'Room "B" 2'}
        assert driver.identity().model == "SX80"
