"""`endpoints verify`: read each room's registration, waiting while it is still registering."""
from __future__ import annotations

from endpoints.core import waiting
from endpoints.core.room import Room, Steps


def verify(room: Room) -> Steps:
    with room.session() as device:
        profile = room.identify(device)
        registration = room.registration(device, profile)
    room.result.status = "ok"
    yield from waiting.await_registration(room, profile, registration, wrote=False)
