"""What a run found and did, per room: plain objects, as the JSON report shows them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from endpoints.drivers.base import Identity, Registration
from endpoints.errors import RoomStatus
from endpoints.secrets import MASK, Secret

Status = RoomStatus
STATUSES: tuple[Status, ...] = ("ok", "changed", "failed", "unreachable", "skipped")


@dataclass(frozen=True)
class Change:
    setting: str  # the device's own path
    before: str | None  # None: write-only (never readable) or absent
    after: str | Secret
    secret: bool = False
    reason: str = ""  # why a write-only secret is sent at all (it cannot be compared)

    def to_json(self) -> dict[str, Any]:
        if self.secret:
            return {"setting": self.setting, "before": MASK, "after": MASK, "reason": self.reason}
        return {"setting": self.setting, "before": self.before, "after": self.after}


@dataclass
class HostResult:
    name: str
    status: Status = "skipped"
    model: str | None = None
    software: str | None = None
    serial: str | None = None
    profile: str | None = None
    transport: str | None = None
    address: str | None = None
    groups: tuple[str, ...] = ()
    changes: list[Change] = field(default_factory=list)
    settings: dict[str, str | None] = field(default_factory=dict)  # facts: what was read
    registration: Registration | None = None
    error: str | None = None
    advice: str | None = None
    warnings: list[str] = field(default_factory=list)
    recovered: bool = False
    seconds: float = 0.0
    service: dict[str, Any] | None = None  # --cloud: the meeting service's word
    keys: list[dict[str, Any]] = field(default_factory=list)  # trust: host keys and certificates
    checks: list[dict[str, Any]] = field(default_factory=list)  # doctor: what the room's own API says
    restored: list[dict[str, Any]] = field(default_factory=list)  # rollback or a refused write: put back
    not_restored: list[str] = field(default_factory=list)  # secrets: cannot be read back

    def fail(self, status: Status, error: str, advice: str | None) -> HostResult:
        self.status, self.error, self.advice = status, error, advice
        return self

    def identify(self, identity: Identity) -> None:
        self.model, self.software, self.serial = identity.model, identity.software, identity.serial

    def to_json(self) -> dict[str, Any]:
        registration = None
        if self.registration is not None:
            registration = {"state": self.registration.state, "reason": self.registration.reason}
        return {
            "status": self.status,
            "model": self.model,
            "software": self.software,
            "serial": self.serial,
            "profile": self.profile,
            "transport": self.transport,
            "address": self.address,
            "groups": list(self.groups),
            "changes": [c.to_json() for c in self.changes],
            "settings": self.settings,
            "registration": registration,
            "error": self.error,
            "advice": self.advice,
            "warnings": self.warnings,
            "recovered": self.recovered,
            "seconds": round(self.seconds, 3),
            **({"service": self.service} if self.service is not None else {}),
            **({"keys": self.keys} if self.keys else {}),
            **({"checks": self.checks} if self.checks else {}),
            **({"restored": self.restored, "not_restored": self.not_restored}
               if self.restored or self.not_restored else {}),
        }


@dataclass
class RunResult:
    command: str
    hosts: dict[str, HostResult]
    interrupted: bool = False
    check: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # tool version, limit, inventory, times
    extra: dict[str, Any] = field(default_factory=dict)  # command-specific top-level parts (doctor: proxies)
    failed_checks: bool = False  # trust/doctor: a check failed though every room was reached

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in STATUSES}
        for result in self.hosts.values():
            counts[result.status] += 1
        return counts

    def exit_code(self) -> int:
        """0 when every host ended ok or changed; else 2 (failed) | 4 (unreachable)."""
        code = 2 if self.failed_checks else 0
        for result in self.hosts.values():
            if result.status in ("failed", "skipped"):
                code |= 2
            elif result.status == "unreachable":
                code |= 4
        return code

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "command": self.command,
            "check": self.check,
            "summary": self.summary(),
            "interrupted": self.interrupted,
            "hosts": {name: r.to_json() for name, r in self.hosts.items()},
            **self.extra,
        }
