"""What `doctor` found: checks, grouped per outbound proxy, and the exit status they make.

A check is one question with a yes or no (`passed`), how long it took, what was seen
(`detail`) and, when it failed, one sentence for the operator (`advice`). A check that
could not run because one it depends on failed is `skipped`: not passed, not failed, so
that one closed port reads as one failure and not as four.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from endpoints.desired import Proxy

EXIT_OK = 0
EXIT_FAILED = 2  # the contract's "some host failed"; the engine ORs in 4 for an unreachable room


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    seconds: float
    detail: str
    advice: str = ""
    skipped: bool = False

    @property
    def failed(self) -> bool:
        return not self.passed and not self.skipped

    @property
    def verdict(self) -> str:
        return "skipped" if self.skipped else "passed" if self.passed else "failed"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "detail": self.detail, "advice": self.advice}


def skipped(name: str, because: str) -> Check:
    """A check not run because `because` (an earlier check's name) failed."""
    return Check(name, False, 0.0, f"skipped: {because} failed", skipped=True)


@dataclass
class ProxyReport:
    """Every check of one outbound proxy, and the rooms that are to use it."""

    proxy: Proxy
    rooms: list[str]
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> bool:
        return any(check.failed for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"proxy": str(self.proxy), "rooms": list(self.rooms),
                "checks": [check.to_json() for check in self.checks]}


def exit_code(reports: Iterable[ProxyReport], room_checks: Iterable[Check] = ()) -> int:
    """0 when every check passed, 2 when one failed (a skipped check follows a failed one)."""
    checks = [c for report in reports for c in report.checks] + list(room_checks)
    return EXIT_FAILED if any(not check.passed for check in checks) else EXIT_OK


class Stopwatch:
    """Seconds since it started: each check reports how long it took."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()

    @property
    def seconds(self) -> float:
        return self.clock() - self.started
