"""Polycom drivers against the simulated Group 550 and HDX 7000, over real loopback sockets.

Group 550 over rest, ssh and telnet; HDX 7000 over telnet and http. The last test checks
every command the drivers sent against the firmware's own command table.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from endpoints.desired import desired_state
from endpoints.drivers import driver_class, family_of
from endpoints.drivers.base import Driver, Write
from endpoints.errors import AuthenticationFailed, DeviceBusy, SettingRefused, Transient, Unreachable
from endpoints.host import Credentials, Host, SipVars, TlsPolicy
from endpoints.lab.net import LabLoop, free_port, known_hosts_line
from endpoints.lab.polycom import PolycomDevice
from endpoints.lab.registration import MeetingService
from endpoints.profiles import Profile, ProfileSet
from endpoints.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "polycom"
NUMBER = "+99111612345"
URI = f"{NUMBER}@huaweicloud.com"
SIP_PASSWORD = "Sip-Secret-7731"
ADMIN_PASSWORD = "Adm1n-Secret-4412"
GAP = 0.005
PROTOCOL = {"rest": "https", "ssh": "ssh", "telnet": "telnet", "http": "http"}
CASES = [("Group 550", "rest"), ("Group 550", "ssh"), ("Group 550", "telnet"),
         ("HDX 7000", "telnet"), ("HDX 7000", "http")]
LINE_CASES = [c for c in CASES if c[1] in ("ssh", "telnet")]
SENT: list[str] = []  # every line command the simulated devices received in this module


@pytest.fixture(scope="module")
def service() -> MeetingService:
    service = MeetingService(delay=0.2, lock_after=10_000)  # wrong-password tests must not lock the number
    service.add_account(NUMBER, SIP_PASSWORD)
    return service


@dataclass
class Room:
    device: PolycomDevice
    transport: str
    host: Host
    profile: Profile
    drivers: list[Driver] = field(default_factory=list)

    def driver(self, password: str | None = ADMIN_PASSWORD, **options: Any) -> Driver:
        cls = driver_class(family_of(self.device.model), self.transport)
        if self.transport != "http":
            options.setdefault("command_gap", GAP)
        credentials = Credentials("admin", Secret(password) if password is not None else None)
        driver = cls(self.host, self.transport, credentials=credentials, timeout=5, **options)
        self.drivers.append(driver)
        return driver


def _host(device: PolycomDevice, transport: str, tmp_path: Path, sip_password: str) -> Host:
    port = device.ports[PROTOCOL[transport]]
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(device.host_key, port))
    return Host(name=device.name, address="127.0.0.1", model=device.model, transport=transport,
                ports={PROTOCOL[transport]: port}, serial=device.serial,
                tls=TlsPolicy(pin=device.certificate.sha256), known_hosts=known,
                sip=SipVars(number=NUMBER, password=Secret(sip_password)))


@pytest.fixture
def make_room(lab: LabLoop, service: MeetingService, tmp_path: Path) -> Iterator[Any]:
    rooms: list[Room] = []

    def make(model: str, transport: str, *, sip_password: str = SIP_PASSWORD) -> Room:
        software = "6.2.0-670021" if model.startswith("Group") else "3.1.7-59104"
        serial = f"82{len(rooms):02d}{int(time.time() * 1000) % 10**8:08d}CV"
        device = PolycomDevice(f"room-{len(rooms)}", model, software, service=service, serial=serial,
                               admin_password=ADMIN_PASSWORD)
        lab.call(device.start({PROTOCOL[transport]: free_port()}))
        family = family_of(model)
        profile = ProfileSet.load().get(family)
        room = Room(device, transport, _host(device, transport, tmp_path, sip_password), profile)
        rooms.append(room)
        return room

    yield make
    for room in rooms:
        for driver in room.drivers:
            driver.close()
        SENT.extend(room.device.commands_seen)
        lab.call(room.device.stop())


def huawei_writes(room: Room) -> list[Write]:
    rendered = room.profile.render(desired_state(room.host), room.host)
    return [Write(setting.path_for(room.transport), value) for setting, value in rendered]


def registration(room: Room, driver: Driver) -> str:
    status_path, _ = room.profile.registration.paths_for(room.transport)
    return room.profile.registration.interpret(driver.status([status_path]), room.transport).state


def wait_for(room: Room, driver: Driver, wanted: str, seconds: float = 3.0) -> str:
    deadline = time.monotonic() + seconds
    state = registration(room, driver)
    while state != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
        state = registration(room, driver)
    return state


# --- identity, read, write, registration -----------------------------------------------------

@pytest.mark.parametrize(("model", "transport"), CASES)
def test_identity(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    with room.driver() as driver:
        identity = driver.identity()
    assert identity.vendor == "polycom"
    assert identity.model == model
    assert identity.software == room.device.software.removeprefix("Release - ")
    assert identity.serial == room.device.serial
    assert room.profile.matches(identity)
    assert model in identity.product


@pytest.mark.parametrize(("model", "transport"), CASES)
def test_huawei_settings_register_the_right_account(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    writes = huawei_writes(room)
    with room.driver() as driver:
        before = room.device.registration.attempts
        driver.write(writes)
        readable = [w for w in writes if not isinstance(w.value, Secret)]
        values = driver.read([w.path for w in readable])
        for write in readable:
            assert (values[write.path] or "").casefold() == str(write.value).casefold(), write.path
        assert wait_for(room, driver, "registered") == "registered"
    settings = room.device.sip_settings()
    assert (settings.uri, settings.auth_username, settings.password) == (URI, URI, SIP_PASSWORD)
    assert (settings.transport, settings.proxy, settings.registrar) == (
        "tls", "sip2-ec.huaweicloud.com:5061", "huaweicloud.com")
    assert room.device.registration.attempts - before == 1
    assert room.device.counters.writes == len(writes)
    assert room.device.counters.settings_written[0] == "sipenable"


@pytest.mark.parametrize(("model", "transport"), CASES)
def test_wrong_sip_password_is_one_failed_attempt(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport, sip_password="not-the-password")
    with room.driver() as driver:
        before = room.device.registration.attempts
        driver.write(huawei_writes(room))
        time.sleep(0.35)
        raw = driver.status([room.profile.registration.paths_for(transport)[0]])
        assert registration(room, driver) == "unregistered"
    assert set(raw.values()) <= {"offline", "down"}
    assert room.device.registration.view() == ("failed", "auth")
    assert room.device.registration.attempts - before == 1


@pytest.mark.parametrize(("model", "transport"), CASES)
def test_read_of_an_unknown_setting_is_none(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    path = "comm.nics.sipnic.nosuchsetting" if transport == "rest" else "nosuchsetting"
    with room.driver() as driver:
        assert driver.read([path]) == {path: None}


# --- failures ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "transport"), CASES)
def test_wrong_device_password_is_authentication_failed(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    with pytest.raises(AuthenticationFailed) as raised:
        room.driver("wrong-password").open()
    assert "wrong-password" not in str(raised.value)
    assert room.device.counters.logins_failed >= 1


@pytest.mark.parametrize(("model", "transport"), CASES)
def test_refused_connection_is_unreachable(make_room: Any, lab: LabLoop, model: str, transport: str) -> None:
    room = make_room(model, transport)
    lab.call(room.device.stop())
    with pytest.raises(Unreachable):
        room.driver().open()


@pytest.mark.parametrize(("model", "transport"), [c for c in CASES if c[1] == "telnet"])
def test_dropped_connection_is_unreachable(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    room.device.faults.drop = 1
    with pytest.raises(Unreachable):
        room.driver().open()
    with room.driver() as driver:  # the next connection is served
        assert driver.identity().serial == room.device.serial


@pytest.mark.parametrize(("model", "transport"), CASES)
def test_refused_value_names_the_setting_and_the_device_reason(make_room: Any, model: str,
                                                                transport: str) -> None:
    room = make_room(model, transport)
    path = "comm.nics.sipnic.siptransportprotocol" if transport == "rest" else "siptransportprotocol"
    with room.driver() as driver, pytest.raises(SettingRefused) as refused:
        driver.write([Write(path, "SCTP"), Write("sipenable", "True")])
    assert refused.value.path == path
    expected = "INVALIDVALUE" if transport == "rest" else "error: command has illegal parameters"
    assert refused.value.reason == expected
    assert room.device.counters.settings_written == []  # nothing after the refusal was sent


@pytest.mark.parametrize(("model", "transport"), LINE_CASES + [("HDX 7000", "http")])
def test_value_with_a_quote_is_refused_before_sending(make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    with room.driver() as driver, pytest.raises(SettingRefused):
        driver.write([Write("sipusername", 'a"b')])
    assert room.device.counters.writes == 0


@pytest.mark.parametrize(("model", "transport"), LINE_CASES)
def test_replayed_banners_and_lagging_replies_do_not_confuse_the_driver(
        make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    room.device.faults.banner_replay = True
    room.device.faults.lag = True
    room.device.lag_seconds = 0.02
    writes = huawei_writes(room)
    with room.driver() as driver:
        identity = driver.identity()
        driver.write(writes)
        readable = [w for w in writes if not isinstance(w.value, Secret)]
        values = driver.read([w.path for w in readable])
        assert wait_for(room, driver, "registered") == "registered"
    assert identity.serial == room.device.serial and identity.model == model
    assert values == {w.path: str(w.value) for w in readable}
    assert room.device.sip_settings().password == SIP_PASSWORD


@pytest.mark.parametrize(("model", "transport"), LINE_CASES)
def test_a_reply_that_arrives_after_the_next_command_is_not_taken_for_its_reply(
        make_room: Any, model: str, transport: str) -> None:
    room = make_room(model, transport)
    room.device.preset({"sipusername": "old@corp.example", "sipproxyserver": "proxy.corp.example:5061"})
    with room.driver() as driver:
        session = driver._session  # type: ignore[attr-defined]
        room.device.faults.lag = True
        room.device.lag_seconds = 0.5
        session.timeout = 0.15
        with pytest.raises(Transient):
            driver.read(["sipusername"])  # its reply comes only with the next command
        session.timeout = 5
        assert driver.read(["sipproxyserver"]) == {"sipproxyserver": "proxy.corp.example:5061"}
        room.device.faults.lag = False
        assert driver.read(["sipusername"]) == {"sipusername": "old@corp.example"}


# --- secrets ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "transport"), CASES)
def test_secrets_never_in_logs_reprs_or_errors(make_room: Any, caplog: pytest.LogCaptureFixture,
                                               model: str, transport: str) -> None:
    caplog.set_level(logging.DEBUG)
    room = make_room(model, transport)
    texts = []
    with room.driver() as driver:
        driver.write(huawei_writes(room))
        driver.status([room.profile.registration.paths_for(transport)[0]])
        texts.append(repr(driver))
        try:
            driver.write([Write("siptransportprotocol" if transport != "rest"
                                else "comm.nics.sipnic.siptransportprotocol", "SCTP")])
        except SettingRefused as exc:
            texts.append(str(exc))
    try:
        room.driver(ADMIN_PASSWORD + "x").open()
    except AuthenticationFailed as exc:
        texts.append(str(exc))
    everything = caplog.text + "\n".join(texts)
    assert "sippassword" in caplog.text or transport == "rest" or "a_apicommand" in caplog.text
    for secret in (SIP_PASSWORD, ADMIN_PASSWORD):
        assert secret not in everything


# --- REST sessions ------------------------------------------------------------------------------------

def test_rest_logs_out_on_every_path(make_room: Any) -> None:
    room = make_room("Group 550", "rest")
    with room.driver() as driver:
        driver.identity()
        assert len(room.device.rest_sessions) == 1
    assert room.device.rest_sessions == {}

    with pytest.raises(SettingRefused), room.driver() as driver:
        driver.write([Write("comm.nics.sipnic.siptransportprotocol", "SCTP")])
    assert room.device.rest_sessions == {}

    driver = room.driver()
    with pytest.raises(KeyboardInterrupt), driver:
        original = driver._call  # type: ignore[attr-defined]

        def interrupted(*args: Any, **kwargs: Any) -> Any:
            original(*args, **kwargs)
            raise KeyboardInterrupt

        driver._call = interrupted  # type: ignore[attr-defined]
        driver.read(["comm.nics.sipnic.sipusername"])
    assert room.device.rest_sessions == {}
    assert room.device.counters.sessions_open == 0


def test_rest_session_ended_by_the_device_is_authentication_failed(make_room: Any) -> None:
    room = make_room("Group 550", "rest")
    with room.driver() as driver:
        room.device.rest_sessions.clear()
        with pytest.raises(AuthenticationFailed):
            driver.identity()


def test_rest_busy_device_is_busy_and_retryable(make_room: Any) -> None:
    room = make_room("Group 550", "rest")
    with room.driver() as driver:
        room.device.faults.http_503 = 1
        with pytest.raises(DeviceBusy) as busy:
            driver.status(["system.status.sipserver"])
        assert busy.value.retryable


# --- factory reset: first-boot wizard and the admin password -------------------------------------------

@pytest.mark.parametrize("wizard_blocks_reads", [True, False])
@pytest.mark.parametrize(("model", "transport"), CASES)
def test_recovery_after_factory_reset(make_room: Any, lab: LabLoop, model: str, transport: str,
                                      wizard_blocks_reads: bool) -> None:
    """Whether the wizard lets reads through is UNSURE: the driver finishes it either way, and a
    write refused in it is the device's `Permission Denied`."""
    room = make_room(model, transport)
    room.device.wizard_blocks_reads = wizard_blocks_reads
    room.device.boot_seconds = 0.3  # HDX restarts after oobcomplete
    if transport == "rest":  # the wizard is finished over the line API (SSH)
        lab.call(room.device.stop())
        lab.call(room.device.start({"https": room.host.ports["https"], "ssh": free_port()}))
        room.host = Host(**{**room.host.__dict__, "ports": {**room.host.ports, "ssh": room.device.ports["ssh"]},
                            "ssh_host_key": "accept-new"})
    room.device.factory_reset()
    lab.call(room.device.restart())
    with pytest.raises(AuthenticationFailed):
        room.driver(ADMIN_PASSWORD, trust_changed_key=True).open()
    with room.driver(room.device.serial, trust_changed_key=True) as driver:
        if wizard_blocks_reads:
            assert driver.first_boot() is True
        else:
            with pytest.raises(SettingRefused) as refused:
                driver.write(huawei_writes(room)[:1])
            assert refused.value.in_wizard
        driver.set_admin_password(Secret("New-Admin-9"))
        driver.finish_first_boot()
    if model.startswith("HDX"):  # it restarts to leave the wizard
        deadline = time.monotonic() + 5
        while room.device.counters.reboots == 0:
            assert time.monotonic() < deadline, "the HDX did not restart after oobcomplete"
            time.sleep(0.05)
    assert room.device.admin_password == "New-Admin-9"
    assert room.device.oob is False
    driver = reopened(room, "New-Admin-9")
    try:
        driver.write(huawei_writes(room))
        assert wait_for(room, driver, "registered") == "registered"
    finally:
        driver.close()


def reopened(room: Any, password: str) -> Driver:
    """The room's driver, open, once the device is back from the restart that ends its wizard."""
    deadline = time.monotonic() + 10
    while True:
        driver = room.driver(password, trust_changed_key=True)
        try:
            driver.open()
            return driver
        except Unreachable:
            driver.close()
            assert time.monotonic() < deadline, "the device did not come back"
            time.sleep(0.1)


def test_ssh_host_key_is_checked(make_room: Any, tmp_path: Path) -> None:
    room = make_room("Group 550", "ssh")
    other = tmp_path / "other_known_hosts"
    port = room.host.ports["ssh"]
    other.write_text(known_hosts_line(PolycomDevice("x", "Group 550", "6.2.0", service=MeetingService(),
                                                    serial="1").host_key, port))
    room.host = Host(**{**room.host.__dict__, "known_hosts": other})
    from endpoints.errors import HostKeyChanged

    with pytest.raises(HostKeyChanged):
        room.driver().open()


# --- the firmware's command table ----------------------------------------------------------------

def _table() -> dict[tuple[str, ...], tuple[int, int | None]]:
    """legacycommands.txt read independently of the simulator: spelling -> (min, max) params."""
    import itertools
    import re

    rows: dict[tuple[str, ...], tuple[int, int | None]] = {}
    for line in (FIXTURES / "legacycommands.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split(",")
        if line.startswith("#") or len(fields) < 8:
            continue
        counts = next((f for f in fields[4:7] if re.fullmatch(r"\s*\d+(/\d+)?\s*", f)), None)
        if counts is None:
            continue
        low, _, high = counts.strip().partition("/")
        parts = re.split(r"(\[[^\]]*\])", fields[0])
        choices = [p[1:-1].split("|") if p.startswith("[") else [p] for p in parts]
        for combo in itertools.product(*choices):
            rows[tuple("".join(combo).split())] = (int(low), int(high) if high else None)
    return rows


def _drive_everything(make_room: Any, lab: LabLoop, model: str, transport: str) -> list[str]:
    """Every driver call on one line transport, then factory reset and recovery; the commands seen."""
    room = make_room(model, transport)
    with room.driver() as driver:
        driver.identity()
        driver.read([w.path for w in huawei_writes(room) if not isinstance(w.value, Secret)])
        driver.write(huawei_writes(room))
        registration(room, driver)
        driver.set_admin_password(Secret(ADMIN_PASSWORD))
    room.device.factory_reset()
    lab.call(room.device.restart())
    with room.driver(room.device.serial, trust_changed_key=True) as driver:
        driver.first_boot()
        driver.set_admin_password(Secret(ADMIN_PASSWORD))
        driver.finish_first_boot()
    return list(room.device.commands_seen)


def test_every_command_the_drivers_sent_is_in_the_firmware_table(make_room: Any, lab: LabLoop) -> None:
    from endpoints.drivers.polycom_lineproto import split_tokens

    sent = [c for model, transport in LINE_CASES + [("HDX 7000", "http")]
            for c in _drive_everything(make_room, lab, model, transport)]
    SENT.extend(sent)
    table = _table()
    used = set()
    for command in SENT:  # what this test drove, and whatever the tests before it in this worker drove
        if "nosuchsetting" in command:
            continue  # sent on purpose to a command that does not exist
        tokens = split_tokens(command)
        match = max((n for n in range(1, len(tokens) + 1) if tuple(tokens[:n]) in table), default=None)
        assert match is not None, f"not in legacycommands.txt: {tokens[:3]}"
        low, high = table[tuple(tokens[:match])]
        count = len(tokens) - match
        assert low <= count and (high is None or count <= high), f"{tokens[:match]} with {count} params"
        used.add(" ".join(tokens[:match]))
    assert {"status", "serialnum", "version", "systemsetting get model", "systemsetting sippassword",
            "systemsetting get sipusername", "setpassword admin room", "oobcomplete"} <= used
