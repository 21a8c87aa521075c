"""`endpoints facts`: read model, software, serial, SIP settings and registration; change nothing."""
from __future__ import annotations

from endpoints.core.room import Room, Steps


def facts(room: Room) -> Steps:
    with room.session() as device:
        profile = room.identify(device)
        room.registration(device, profile)
        room.result.settings = room.settings(device, profile)
    room.result.status = "ok"
    yield from ()
