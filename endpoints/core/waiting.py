"""A room waiting for its registration verdict: polls that hold no worker slot.

The task yields each pause to the runner, which gives the slot to another room meanwhile;
the polls go over the session the visit kept (or one opened for them), closed after the
verdict and on every way out. The verdict is the room's final word on registration."""
from __future__ import annotations

import time

from endpoints import advice
from endpoints.core.room import Room, Steps
from endpoints.drivers.base import Driver, Registration
from endpoints.errors import DeviceError, Transient, Unreachable
from endpoints.profiles import Profile


def await_registration(room: Room, profile: Profile, registration: Registration, *, wrote: bool) -> Steps:
    """Poll until the room registers, fails, or the time is up; no slot held between polls
    (the runner gives the slot to another room while this one waits).

    After a write the first poll waits the profile's `registration.settle` (the device
    cannot have a verdict earlier), then polls back off. They go over the session the
    visit kept (`session()`), or one opened for them, closed after the verdict and on
    every way out (an interrupted run closes this generator)."""
    try:
        if registration.state == "registered" and not wrote:
            return
        if registration.state in ("failed", "unregistered") and not wrote:
            verdict(room, registration)
            return
        until = time.monotonic() + room.options.verify_timeout
        settle, first, factor = profile.registration.settle if wrote else 0.0, room.options.first_poll, \
            room.options.poll_factor
        pause, gap = (settle, first) if settle else (first, first * factor)
        silent: DeviceError | None = None
        while True:
            yield min(pause, max(0.0, until - time.monotonic()))
            registration, silent = poll(room, profile, registration, keep=True)
            if registration.state in ("registered", "failed") and silent is None:
                verdict(room, registration)
                return
            if time.monotonic() >= until:
                verdict(room, registration, timed_out=True, silent=silent)
                return
            pause, gap = min(gap, room.options.max_poll), gap * factor
    finally:
        kept, room.kept = room.kept, None
        if kept is not None:
            kept.close()


def poll(room: Room, profile: Profile, last: Registration, *,
         keep: bool = False) -> tuple[Registration, DeviceError | None]:
    """One registration poll; a device that does not answer keeps its last known state.

    With `keep` (the polls of `await_registration`) it goes over the room's kept session,
    opened for the polls when there is none and opened again once when the device dropped
    it; without, over a connection of its own, closed after it."""
    try:
        if not keep:
            driver = _for_status(room)
            try:
                return room.registration(driver, profile), None
            finally:
                driver.close()
        if room.kept is not None:
            try:
                return room.registration(room.kept, profile), None
            except (Transient, Unreachable) as error:  # dropped while idle, or restarting
                dropped, room.kept = room.kept, None
                dropped.close()
                room.emit("poll-reconnect", error=str(error))
        room.kept = _for_status(room)
        return room.registration(room.kept, profile), None
    except (Transient, Unreachable) as error:  # busy or restarting right after a change
        room.emit("poll-error", error=str(error))
        return last, error


def _for_status(room: Room) -> Driver:
    """A driver opened for status reads only (see `Driver.open_for_status`)."""
    driver = room.driver()
    try:
        driver.open_for_status()
    except BaseException:
        driver.close()
        raise
    return driver


def verdict(room: Room, registration: Registration, *, timed_out: bool = False,
            silent: DeviceError | None = None) -> None:
    """The room's final word on registration."""
    room.result.registration = registration
    if room.sent_password and room.desired is not None and silent is None:
        # The memory that keeps a refused password from being sent again (HistoryProcessor).
        room.emit("attempt", number=room.number, registered=registration.state == "registered",
                  reason=registration.reason)
    if registration.state == "registered" and silent is None:
        return
    if silent is not None:
        room.result.fail("unreachable", f"the device stopped answering while it registered: {silent}",
                         advice.STOPPED)
        return
    said = f" (device says: {registration.reason})" if registration.reason else ""
    if timed_out:
        error = f"not registered after {room.options.verify_timeout:g} s: {registration.state}{said}"
    else:
        error = f"registration {registration.state}{said}"
    failures = room.memory.history.recent_failures(room.number) if room.desired else 0
    room.result.fail("failed", error, advice.for_registration(registration, recent_failures=failures))
