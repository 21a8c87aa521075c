"""What every simulated endpoint shares: identity, counters, faults, registration.

A vendor simulator (``lab/cisco.py``, ``lab/polycom.py``) subclasses `SimDevice`, keeps
its own settings in the device's own paths and value spaces, calls
`self.sip_changed()` whenever a SIP-relevant setting changes, and serves its APIs with
`endpoints.lab.net`. The fleet (``lab/fleet.py``) only uses this interface.
"""
from __future__ import annotations

import abc
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from endpoints.lab.net import Certificate, make_certificate, make_host_key
from endpoints.lab.registration import MeetingService, RegistrationState, SipSettings


@dataclass
class Counters:
    """What a device saw, for tests and `lab status`: proves a run wrote nothing."""

    writes: int = 0  # write requests that changed or set anything (a putxml, a set command)
    settings_written: list[str] = field(default_factory=list)  # paths, in order (never values)
    requests: int = 0  # HTTP requests and shell commands served (for the rollout benchmark)
    logins_failed: int = 0
    lockouts: int = 0  # times the device locked its logins after repeated failures
    sessions_open: int = 0  # HTTP sessions / SSH / telnet connections open now
    sessions_max: int = 0

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


class SimDevice(abc.ABC):
    vendor: str = ""
    # Codecs lock logins after repeated failures (the reason `recover` tries a factory default
    # only once). How many and for how long is not documented for these models: knobs.
    lockout_after: int = 5
    lockout_seconds: float = 60.0

    def __init__(self, name: str, model: str, *, service: MeetingService, serial: str,
                 admin_password: str = "", resolves_names: bool = True) -> None:
        self.name, self.model, self.serial = name, model, serial
        self.service = service
        self.admin_password = admin_password
        self.registration = RegistrationState(service, resolves_names=resolves_names)
        self.counters = Counters()
        self.faults = Faults()
        self._host_key: asyncssh.SSHKey | None = None
        self._certificate: Certificate | None = None
        self.ports: dict[str, int] = {}  # protocol (http, https, ssh, telnet) -> port
        self.lock = threading.RLock()  # state is touched from the loop and from tests
        self._failed_in_a_row = 0
        self._locked_until = 0.0

    @abc.abstractmethod
    async def start(self, ports: dict[str, int]) -> None:
        """Serve the device's APIs on these loopback ports (protocol -> port)."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    def sip_settings(self) -> SipSettings:
        """The SIP settings as the device would register with them (vendor-neutral)."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Settings by device path for `lab status`; passwords shown as `***`."""

    @abc.abstractmethod
    def factory_reset(self) -> None:
        """Settings to defaults, admin password to the factory default, new host key and
        certificate (the caller restarts the servers), Polycom back in its first-boot wizard."""

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

    # Made on first use: an RSA key costs ~0.1 s, and a lab of 1000 HTTP rooms needs none.
    @property
    def host_key(self) -> asyncssh.SSHKey:
        if self._host_key is None:
            self._host_key = make_host_key("ssh-rsa")
        return self._host_key

    @property
    def certificate(self) -> Certificate:
        if self._certificate is None:
            self._certificate = make_certificate(self.name)
        return self._certificate

    def renew_identity(self) -> None:
        """A factory reset makes a new SSH host key and TLS certificate."""
        self._host_key = None
        self._certificate = None
