"""`endpoints plan` and `endpoints apply`: write what differs, then prove the room registered."""
from __future__ import annotations

from endpoints.core import changes, waiting
from endpoints.core.room import Room, Steps
from endpoints.drivers.base import Driver


def apply(room: Room) -> Steps:
    with room.session() as device:
        wrote = push(room, device)
    if wrote is None:
        return
    profile = room.profile
    assert profile is not None and room.result.registration is not None
    if room.options.verify:
        yield from waiting.await_registration(room, profile, room.result.registration, wrote=wrote)


def push(room: Room, device: Driver) -> bool | None:
    """Identify, plan and (unless checking) write; whether it wrote, None when the verdict is in."""
    profile = room.identify(device)
    registration = room.registration(device, profile)
    plan = changes.plan(room, device, profile, registration)
    if plan.held is not None:
        changes.held_verdict(room, plan, registration)
        return None
    changed = bool(room.result.changes)
    if room.options.check:
        room.result.status = "changed" if changed else "ok"
        return None
    changes.commit(room, device, profile, plan)
    room.result.status = "changed" if room.written else "ok"
    return bool(plan.writes)
