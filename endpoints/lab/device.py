"""What every simulated endpoint shares: identity, counters, faults, registration, clock.

A vendor's device state (``cisco_device``, ``polycom_device``) subclasses `SimDevice`,
keeps its settings in the device's own paths and value spaces and calls
`self.sip_changed()` whenever a SIP-relevant setting changes. The servers that speak its
APIs (``cisco_http``, ``cisco_shell``, ``polycom_line``, ``polycom_web``) import the state,
never the reverse; the assembled devices (``cisco``, ``polycom``) wire state and servers
together through `start`/`stop`. The fleet (``fleet``) only uses this interface.
"""
from __future__ import annotations

import abc
import asyncio
import datetime
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from endpoints.lab.identity import Certificate, make_certificate, make_host_key
from endpoints.lab.registration import MeetingService, RegistrationState, SipSettings

# A room's network as DHCP gave it: the lab's resolver on loopback (rooms never see real DNS).
DEFAULT_DNS_SERVERS = ("127.0.0.53",)


class Session(Protocol):
    """A line session a device can end (an SSH channel, a telnet connection)."""

    def close(self) -> None: ...


@dataclass
class Counters:
    """What a device saw, for tests and `lab status`: proves a run wrote nothing."""

    writes: int = 0  # write requests that changed or set anything (a putxml, a set command)
    settings_written: list[str] = field(default_factory=list)  # paths, in order (never values)
    requests: int = 0  # HTTP requests and shell commands served (for the rollout benchmark)
    logins: int = 0  # logins admitted: a session begin, a Basic-auth request, an SSH or telnet login
    logins_failed: int = 0
    lockouts: int = 0  # times the device locked its logins after repeated failures
    sessions_open: int = 0  # HTTP sessions / SSH / telnet connections open now
    sessions_max: int = 0
    reboots: int = 0  # times the unit went away and came back (reboot, reset, fault)
    auth_methods: list[str] = field(default_factory=list)  # SSH login methods that worked, in order

    def written(self, path: str) -> None:
        self.writes += 1
        self.settings_written.append(path)


@dataclass
class Faults:
    """Faults on demand. Counts are consumed one per request."""

    refuse_login: bool = False  # every login fails as with a wrong password
    http_503: int = 0  # the next N HTTP requests answer 503
    slow: float = 0.0  # seconds added before every reply
    drop: int = 0  # the next N connections/requests are dropped without a reply
    banner_replay: bool = False  # Polycom: the banner reappears mid-session
    lag: bool = False  # Polycom: a reply arrives behind the next command
    # Cisco: the codec reboots after a configuration write. The notes name no SIP setting
    # that needs a reboot on CE or TC (only TC's HTTP/HTTPS Mode, cisco.md §1.3, which the
    # codec applies at its next boot without rebooting by itself): so this is a fault.
    reboot_after_write: bool = False


class SimDevice(abc.ABC):
    vendor: str = ""
    # Codecs lock logins after repeated failures (the reason `recover` tries a factory default
    # only once). How many and for how long is not documented for these models: knobs.
    lockout_after: int = 5
    lockout_seconds: float = 60.0
    # How long a unit is away when it reboots. No source gives a time for these models
    # (UNSURE; codecs of this age take minutes): a knob, short in tests.
    boot_seconds: float = 30.0

    def __init__(self, name: str, model: str, *, service: MeetingService, serial: str,
                 admin_password: str = "", resolves_names: bool = True) -> None:
        self.name, self.model, self.serial = name, model, serial
        self.service = service
        self.admin_password = admin_password
        self.registration = RegistrationState(service, resolves_names=resolves_names)
        self.counters = Counters()
        self.faults = Faults()
        self.dns_servers: tuple[str, ...] = DEFAULT_DNS_SERVERS  # as DHCP gave them
        self.clock_offset = 0.0  # seconds the unit's clock is ahead (negative: behind)
        self._host_key: Any = None
        self._certificate: Certificate | None = None
        self.ports: dict[str, int] = {}  # protocol (http, https, ssh, telnet) -> port
        self.lock = threading.RLock()  # state is touched from the loop and from tests
        self._failed_in_a_row = 0
        self._locked_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sessions: set[Session] = set()
        self._pending: asyncio.Task[None] | None = None
        self.serving = False
        self.down_until = 0.0  # monotonic time a rebooting unit comes back

    # --- the servers (the assembled device implements them) ---------------------------------

    @abc.abstractmethod
    async def serve(self, ports: dict[str, int]) -> None:
        """Start the servers of the device's APIs on these loopback ports."""

    @abc.abstractmethod
    async def unserve(self) -> None:
        """Stop the servers (open sessions are ended by `stop`)."""

    async def start(self, ports: dict[str, int]) -> None:
        """Serve the device's APIs on these loopback ports (protocol -> port); boot."""
        self._loop = asyncio.get_running_loop()
        self.ports = dict(ports)
        await self.serve(self.ports)
        self.serving = True
        self.booted()

    async def stop(self) -> None:
        """Power off: servers down and every session ended."""
        self.serving = False
        for session in list(self._sessions):
            session.close()
        await self.unserve()
        for session in list(self._sessions):  # one that slipped in meanwhile
            session.close()
        self.sessions_ended()

    async def restart(self) -> None:
        """Serve again on the same ports (after `factory_reset`: new key and certificate)."""
        await self.stop()
        await self.start(self.ports)

    async def reboot(self, seconds: float | None = None) -> None:
        """Go away (ports closed, sessions lost) and come back after `boot_seconds`."""
        away = self.boot_seconds if seconds is None else seconds
        with self.lock:
            self.counters.reboots += 1
            self.down_until = time.monotonic() + away
        await self.stop()
        self.registration.reset()
        await asyncio.sleep(away)
        await self.start(self.ports)

    def reboot_soon(self, seconds: float | None = None, *, after: float = 0.05) -> None:
        """Reboot from inside one of the device's own sessions: the reply goes out first."""
        loop = self._loop
        if loop is None:
            return

        async def later() -> None:
            await asyncio.sleep(after)
            await self.reboot(seconds)

        def schedule() -> None:
            self._pending = loop.create_task(later())

        loop.call_soon_threadsafe(schedule)

    async def settled(self) -> None:
        """Wait for a reboot or restart this device started by itself."""
        pending = self._pending
        if pending is not None:
            await pending

    @property
    def rebooting(self) -> bool:
        return time.monotonic() < self.down_until

    def booted(self) -> None:
        """At boot a unit whose SIP is configured registers (one attempt)."""
        if self.sip_settings().enabled:
            self.sip_changed()

    def sessions_ended(self) -> None:
        """Vendor state of sessions (XMLAPI cookies, REST sessions) dies with the power."""

    def track(self, session: Session, opened: bool) -> None:
        """A line session opened or closed: counted, and ended when the unit goes away."""
        with self.lock:
            if opened:
                self._sessions.add(session)
                self.counters.sessions_open += 1
                self.counters.sessions_max = max(self.counters.sessions_max, self.counters.sessions_open)
            elif session in self._sessions:
                self._sessions.discard(session)
                self.counters.sessions_open -= 1

    def logged_in(self, username: str, method: str) -> None:
        with self.lock:
            self.counters.auth_methods.append(method)

    # --- state -------------------------------------------------------------------------------

    @abc.abstractmethod
    def preset(self, settings: Mapping[str, str]) -> None:
        """Set settings by device path without counting writes (building a fleet)."""

    @abc.abstractmethod
    def sip_settings(self) -> SipSettings:
        """The SIP settings as the device would register with them (vendor-neutral)."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Settings by device path for `lab status`; passwords shown as `***`."""

    @abc.abstractmethod
    def factory_state(self) -> None:
        """Settings to defaults, admin password to the factory default, Polycom back in its
        first-boot wizard (the vendor part of `factory_reset`)."""

    def factory_reset(self) -> None:
        """What a reset unit does: factory settings, a new SSH host key and a new TLS
        certificate (both made now), and every server of the room restarted with them."""
        with self.lock:
            self.factory_state()
            self.registration.reset()
            self.clear_lockout()
            self._host_key = make_host_key("ssh-rsa")
            self._certificate = make_certificate(self.name)
        self._restart_servers()

    def _restart_servers(self) -> None:
        loop = self._loop
        if loop is None or not self.serving or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._pending = loop.create_task(self.restart())
        else:
            asyncio.run_coroutine_threadsafe(self.restart(), loop).result(120)

    def admit(self, password_ok: bool) -> bool:
        """Every login goes through here: counts failures and applies the login lockout."""
        with self.lock:
            now = time.monotonic()
            if now < self._locked_until or not password_ok:
                self.counters.logins_failed += 1
                if now >= self._locked_until:
                    self._failed_in_a_row += 1
                    if self._failed_in_a_row >= self.lockout_after:
                        self._locked_until, self._failed_in_a_row = now + self.lockout_seconds, 0
                        self.counters.lockouts += 1
                return False
            self._failed_in_a_row = 0
            self.counters.logins += 1
            return True

    @property
    def logins_locked(self) -> bool:
        return time.monotonic() < self._locked_until

    def clear_lockout(self) -> None:
        with self.lock:
            self._failed_in_a_row, self._locked_until = 0, 0.0

    def sip_changed(self) -> None:
        """A SIP credential, server, transport or enable setting changed: one attempt."""
        self.registration.changed(self.sip_settings())

    def now(self) -> datetime.datetime:
        """The unit's own clock (UTC plus its offset: a room with a wrong clock fails TLS)."""
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.clock_offset)

    # Made on first use: an RSA key costs ~0.1 s, and a lab of 1000 HTTP rooms needs none.
    @property
    def host_key(self) -> Any:
        if self._host_key is None:
            self._host_key = make_host_key("ssh-rsa")
        return self._host_key

    @property
    def certificate(self) -> Certificate:
        if self._certificate is None:
            self._certificate = make_certificate(self.name)
        return self._certificate

    def renew_identity(self) -> None:
        """A new SSH host key and TLS certificate, made on next use."""
        self._host_key = None
        self._certificate = None
