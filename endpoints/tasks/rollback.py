"""`endpoints rollback --run DIR`: put back what a past apply or recover run changed.

The run folder's `backup.json` holds, per room, each setting's value before that run.
Only settings that no longer hold it are written; passwords cannot be read back, so they
are listed, not restored. The registration state afterwards is read and shown, never
judged: a room rolled back to an old set-up may not register, and that is the user's call.
"""
from __future__ import annotations

import time

from endpoints.core import waiting
from endpoints.core.room import Room, Steps
from endpoints.drivers.base import Write
from endpoints.results import Change


def rollback(room: Room) -> Steps:
    entry = room.backup
    if not entry:
        room.result.status = "ok"
        room.result.warnings.append("the run wrote nothing to this room: nothing to put back")
        return
    room.result.not_restored = list(entry.get("secrets", []))
    previous = [Write(s["path"], s["before"]) for s in entry.get("settings", []) if s.get("before") is not None]
    names = {s["path"]: s["setting"] for s in entry.get("settings", [])}
    with room.session() as device:
        profile = room.identify(device)
        differing = device.compare(previous)
        back = [w for w, _ in differing]
        room.result.changes = [Change(names[w.path], now, w.value) for w, now in differing]
        room.emit("diff", changes=[c.to_json() for c in room.result.changes])
        if room.options.check or not back:
            room.result.status = "changed" if back else "ok"
            room.registration(device, profile)
            return
        room.emit("write", settings={w.path: w.value for w in back}, backup=[], profile=profile.name)
        device.write(back)
        room.result.restored = [{"setting": names[w.path], "value": w.value} for w in back]
        room.result.status = "changed"
        registration = room.registration(device, profile)
    until = time.monotonic() + room.options.verify_timeout
    while registration.state in ("registering", "unknown") and time.monotonic() < until:
        yield room.options.first_poll
        registration, _ = waiting.poll(room, profile, registration)
