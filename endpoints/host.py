"""A room as the inventory describes it: plain, frozen objects (Nornir-style).

The inventory loader (`endpoints.inventory`) builds these after validation; drivers,
profiles and the engine read them. Nothing here talks to a device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from endpoints.secrets import Secret

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

    def port(self, protocol: str, default: int) -> int:
        return self.ports.get(protocol, default)

    def secrets(self) -> tuple[Secret, ...]:
        found = (self.device_credentials.password, self.sip.password)
        return tuple(s for s in found if s is not None)
