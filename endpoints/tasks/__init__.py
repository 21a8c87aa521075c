"""One task per command, each a function of one room that reads top to bottom.

A task opens what it needs, says what it found in `room.result`, and yields a pause
whenever the room must wait (for registration); `endpoints.core.runner` does the rest.
`TASKS` is what the application and the Ansible modules look commands up in.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from endpoints.core.room import Room, Steps
from endpoints.tasks import apply, doctor, facts, recover, rollback, trust, verify


@dataclass(frozen=True)
class TaskSpec:
    name: str
    run: Callable[[Room], Steps]
    sip: bool = False  # needs each room's desired SIP account
    writes: bool = False  # writes to rooms (unless --check)
    admin_password: bool = False  # needs device_credentials.password to restore (recover)


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (
    TaskSpec("facts", facts.facts),
    TaskSpec("plan", apply.apply, sip=True),
    TaskSpec("apply", apply.apply, sip=True, writes=True),
    TaskSpec("verify", verify.verify),
    TaskSpec("recover", recover.recover, sip=True, writes=True, admin_password=True),
    TaskSpec("trust", trust.trust),
    TaskSpec("doctor", doctor.room_doctor, sip=True),
    TaskSpec("rollback", rollback.rollback, writes=True),
)}
