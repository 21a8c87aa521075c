"""One interface for every device API (NAPALM-style getters and a setter).

A driver speaks one API of one vendor family over one transport. It knows nothing of
the meeting service or of profiles: it reads and writes the device's own setting paths
(Cisco xAPI paths such as ``SIP Proxy 1 Address``; Polycom setting names such as
``sipproxyserver``, or REST config keys) and reports identity and registration.

Contract for every driver:
- ``open()`` connects and logs in; ``close()`` always releases the device session (CE
  xAPI sessions never expire, Polycom leaks lock logins) and never raises.
- Errors are `endpoints.errors` types: Unreachable when no conversation with the API can
  be held (Transient when one broke off), DeviceBusy, AuthenticationFailed,
  HostKeyChanged/HostKeyUnknown, TLSVerifyFailed, SettingRefused(path, reason),
  ProtocolError, Unsupported. Never a secret in a message.
- Drivers import transports and channels, never the engine, the tasks or the CLI.
- ``read()`` returns None for a path that does not exist on this firmware; write-only
  settings (passwords) are never passed to ``read()``.
- ``status()`` reads status values (Cisco xStatus paths such as
  ``SIP Registration 1 Status``; Polycom `status` items such as ``sipserver``; REST status
  keys; HDX `systemstatus.xml` element names). Which paths, and what their values mean,
  is data in the profile (`registration:`), not code.
"""
from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from endpoints.host import Credentials, Host
from endpoints.secrets import Secret

RegistrationState = Literal["registered", "registering", "failed", "unregistered", "unknown"]


@dataclass(frozen=True)
class Identity:
    vendor: Literal["cisco", "polycom"]
    product: str  # as the device names itself: "Cisco TelePresence SX20", "RealPresence Group 550"
    model: str | None  # canonical: "SX20", "Group 550", "HDX 7000"; None when unrecognised
    software: str  # as the device reports it: "ce9.4.0.abc1234", "TC7.3.6.xxxx", "6.2.0-..."
    serial: str = ""


@dataclass(frozen=True)
class Registration:
    state: RegistrationState
    reason: str = ""  # the device's own words: "403 Forbidden", "DNS lookup failed", "offline"
    detail: dict[str, str] = field(default_factory=dict)  # raw status values, for the event log


@dataclass(frozen=True)
class Write:
    """One setting to write. `value` is a Secret for passwords."""

    path: str
    value: str | Secret

    def clear_value(self) -> str:
        return self.value.reveal() if isinstance(self.value, Secret) else self.value


class Driver(abc.ABC):
    """Base class: subclasses set `family` and `transports` and implement the methods."""

    family: ClassVar[str]  # "cisco-xapi", "polycom-line", "polycom-rest", "hdx-http"
    transports: ClassVar[tuple[str, ...]]  # inventory `transport` values served: ("http", "https")

    def __init__(self, host: Host, transport: str, *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False) -> None:
        self.host = host
        self.transport = transport
        self.credentials = credentials or host.device_credentials
        self.timeout = timeout
        # Recovery only: connect even when the SSH host key or TLS certificate changed, and
        # record what was presented (`accepted_keys`); the caller saves it once the factory
        # state is confirmed. Everywhere else a changed key is a hard failure.
        self.trust_changed_key = trust_changed_key
        self.accepted_keys: list[str] = []  # known_hosts lines and sha256 pins taken on trust

    @property
    def key_changed(self) -> bool:
        return bool(self.accepted_keys)

    def accepted(self, key: str | None) -> None:
        """A transport took a changed key or certificate on trust (recovery only)."""
        if key and key not in self.accepted_keys:
            self.accepted_keys.append(key)

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def open_for_status(self) -> None:
        """Open for a few status reads only (registration polls); a driver may do less than
        `open()` here, e.g. no API session. Errors as for `open()`."""
        self.open()

    @abc.abstractmethod
    def identity(self) -> Identity: ...

    @abc.abstractmethod
    def read(self, paths: Sequence[str]) -> dict[str, str | None]: ...

    @abc.abstractmethod
    def write(self, writes: Sequence[Write]) -> None:
        """Write in order (NAPALM's commit); stop at the first refusal with SettingRefused(path, reason).

        What the device took before a refusal depends on the API (one putxml document,
        or one command per setting): `rollback()` finds out by reading."""

    def compare(self, previous: Sequence[Write]) -> list[tuple[Write, str]]:
        """The settings that no longer hold these values (NAPALM's compare), last first, each
        with what it holds now. Secrets are never passed: they cannot be read back."""
        now = self.read([w.path for w in previous])
        return [(w, str(now[w.path])) for w in reversed(previous)
                if now.get(w.path) is not None and str(now[w.path]).strip() != w.clear_value().strip()]

    def rollback(self, previous: Sequence[Write]) -> list[Write]:
        """Put back settings a write of this visit changed (NAPALM's discard/rollback): the
        previous values, last written first, for those that no longer hold them. Returns
        what was written back."""
        back = [w for w, _ in self.compare(previous)]
        if back:
            self.write(back)
        return back

    @abc.abstractmethod
    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        """Read status values; None for a path the device does not report."""

    # Recovery after factory reset (see `endpoints recover`).
    @abc.abstractmethod
    def set_admin_password(self, new: Secret) -> None:
        """Set the device's admin password (the one used to log in) to `new`."""

    def first_boot(self) -> bool:
        """True when the device sits in its first-boot wizard (Polycom); Cisco has none."""
        return False

    def finish_first_boot(self) -> None:
        """Leave the first-boot wizard (Polycom `oobcomplete`); nothing to do elsewhere."""

    def __enter__(self) -> Driver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
