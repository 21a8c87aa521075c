"""A room as the inventory describes it: plain, frozen objects (Nornir-style).

The inventory loader (`endpoints.inventory`) builds these after validation; drivers,
profiles and the engine read them. Nothing here talks to a device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from endpoints.errors import InputError
from endpoints.secrets import Secret
from endpoints.support import PROTOCOL_OF
from endpoints.yamlfile import unusable

HostKeyPolicy = Literal["strict", "accept-new", "off"]


@dataclass(frozen=True)
class Credentials:
    username: str = "admin"
    password: Secret | None = None


@dataclass(frozen=True)
class TlsPolicy:
    """How to trust a device's HTTPS certificate.

    verify=True: the system CA store; ca_bundle: a CA file; pin: a sha256 fingerprint
    (hex, lower case, no colons) of the device certificate; verify=False: no check.
    """

    verify: bool = True
    ca_bundle: Path | None = None
    pin: str | None = None


@dataclass(frozen=True)
class SipVars:
    """The `sip.*` keys of one host as written in the inventory (defaults applied later)."""

    number: str | None = None
    domain: str | None = None
    uri: str | None = None
    auth_username: str | None = None
    password: Secret | None = None
    display_name: str | None = None
    registrar: str | None = None
    proxy: str | None = None
    transport: str | None = None


@dataclass(frozen=True)
class CloudVars:
    """The `cloud.*` keys (the meeting service's API), usually set once in `all.vars`."""

    api: str | None = None  # default https://api.meeting.huaweicloud.com
    app_id: str | None = None
    app_key: Secret | None = None
    corp_id: str | None = None  # SP mode only
    user_id: str | None = None  # default "" (the enterprise's default administrator)
    tls: TlsPolicy = field(default_factory=TlsPolicy)
    terminal_name: str | None = None  # default the host's name
    notify_email: str | None = None
    notify_phone: str | None = None
    dept_code: str | None = None  # default "1"


@dataclass(frozen=True)
class Refused:
    """A `{vars.NAME}` value that must not reach a device (Jinja, vault); using it is an error."""

    name: str
    reason: str
    origin: str  # "file:line" where it is written

    def error(self, needed_by: str = "") -> InputError:
        file, _, line = self.origin.rpartition(":")
        by = f" (needed by {needed_by})" if needed_by else ""
        return InputError(f"{{vars.{self.name}}} {self.reason}{by}", file=file,
                          line=int(line) if line.isdigit() else None, key=self.name)


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    model: str | None = None  # canonical: "SX20", "Group 550", "HDX 7000"
    transport: str | None = None  # None: the profile's first choice
    ports: dict[str, int] = field(default_factory=dict)
    device_credentials: Credentials = field(default_factory=Credentials)
    sip: SipVars = field(default_factory=SipVars)
    tls: TlsPolicy = field(default_factory=TlsPolicy)
    profile: str | None = None
    serial: str | None = None
    ssh_host_key: HostKeyPolicy = "strict"
    known_hosts: Path | None = None  # None: ~/.ssh/known_hosts
    profile_vars: dict[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    source: str = ""  # "inventory.yaml:42", where the host is defined
    cloud: CloudVars = field(default_factory=CloudVars)
    ansible_port: int | None = None  # the port of the room's transport, as Ansible means it
    # free variables and the other ansible_* keys as written, for {vars.NAME}; a variable named
    # like a password (*pass*, *secret*, *token*) is a Secret
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # dotted key -> file:line

    def port(self, protocol: str, default: int, transport: str | None = None) -> int:
        """`ports.<protocol>`, else `ansible_port` when it is the protocol of this room's transport.

        `transport` is the one in use when the inventory names none (the profile's first choice)."""
        if protocol in self.ports:
            return self.ports[protocol]
        used = self.transport or transport
        if self.ansible_port is not None and used and PROTOCOL_OF.get(used) == protocol:
            return self.ansible_port
        return default

    def origin(self, key: str) -> str:
        """`file:line` where a dotted key (`sip.number`) is written for this host; else the host's own."""
        while key:
            if key in self.origins:
                return self.origins[key]
            key = key.rpartition(".")[0]
        return self.source

    def template_vars(self) -> dict[str, Any]:
        """What an operator profile sees as `{vars.NAME}`: the free variables, `profile_vars` winning.

        A value holding Jinja or a vault is a `Refused` here: the profile filler raises its
        `error()` (naming the line) instead of sending it."""
        merged = {**self.vars, **self.profile_vars}
        seen: dict[str, Any] = {}
        for name, value in merged.items():
            reason = unusable(value)
            if reason is None:
                seen[name] = value
            else:
                key = f"profile_vars.{name}" if name in self.profile_vars else name
                seen[name] = Refused(name, reason, self.origin(key))
        return seen

    def secrets(self) -> tuple[Secret, ...]:
        found = (self.device_credentials.password, self.sip.password, self.cloud.app_key,
                 *_secrets_in({**self.vars, **self.profile_vars}))
        return tuple(s for s in found if s is not None)


def _secrets_in(value: Any) -> list[Secret]:
    if isinstance(value, Secret):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets_in(v)]
    return []
