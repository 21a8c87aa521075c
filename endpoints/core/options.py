"""The options of one run, as the command line or a playbook gives them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    command: str  # a task name: facts, plan, apply, verify, recover, trust, doctor, rollback
    check: bool = False  # plan, and `apply --check`: change nothing
    verify: bool = True  # wait for registration after writing
    verify_timeout: float = 120.0
    forks: int = 10
    force_password: bool = False
    resolve_proxy: bool = False
    accept: bool = False  # trust --accept: record new keys and certificates
    cloud: bool = False  # ask the meeting service for each number's registration
    retries: int = 2  # further visits after a fault worth a retry
    timeout: float = 10.0  # total seconds per device request (connect + the whole answer)
    first_poll: float = 0.5  # registration polls back off gently: 0.5 s, x1.25 each, at most 3 s
    poll_factor: float = 1.25
    max_poll: float = 3.0

    def __post_init__(self) -> None:
        if self.command == "plan":  # plan is apply that changes nothing: check mode, said once here
            object.__setattr__(self, "check", True)
