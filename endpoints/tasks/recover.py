"""`endpoints recover`: `apply` for rooms just factory reset.

When the inventory's login is refused, or the room's host key or certificate changed, the
vendor's factory default is tried, once each. Only when it works is the room known to be
reset: then (and only for this room) its regenerated SSH key and certificate are trusted on
every transport, the first-boot wizard is finished, the admin password is restored from
the inventory, and the whole profile is pushed as `apply` would. A room that was not reset
is handled exactly as `apply` handles it.
"""
from __future__ import annotations

import time
from collections.abc import Generator

from endpoints import knownhosts
from endpoints.core import waiting
from endpoints.core.room import Room, Steps
from endpoints.drivers.base import Driver
from endpoints.errors import (
    AuthenticationFailed,
    DeviceError,
    HostKeyChanged,
    SettingRefused,
    TLSVerifyFailed,
    Unreachable,
)
from endpoints.host import Credentials
from endpoints.secrets import Secret
from endpoints.tasks.apply import push


def recover(room: Room) -> Steps:
    device = yield from open_recovered(room)
    until = time.monotonic() + room.options.verify_timeout
    try:
        while True:
            try:
                wrote = push(room, device)
                break
            except SettingRefused as refused:
                if not refused.in_wizard:
                    raise
                # The firmware let the login and the reads through but still sits in its wizard.
                room.emit("recover-first-boot", reason="writes refused: Permission Denied")
                device.finish_first_boot()
            except Unreachable:
                # A reset room restarts as it leaves its wizard (HDX): wait for it, holding no slot.
                if not room.result.recovered or time.monotonic() >= until:
                    raise
            device.close()
            device = yield from room.reconnect()
    finally:
        device.close()
    if wrote is not None and room.options.verify:
        assert room.profile is not None and room.result.registration is not None
        yield from waiting.await_registration(room, room.profile, room.result.registration, wrote=wrote)


def open_recovered(room: Room) -> Generator[float, None, Driver]:
    """An open session; through the factory login when the room was reset (then the device
    may restart to leave its wizard: the room waits for it, holding no slot)."""
    if room.recovery_checked:
        return room.open_driver()
    try:
        device = room.open_driver()
    except AuthenticationFailed as refused:
        _after_reset(room, refused, trust_key=False)
        return (yield from room.reconnect())
    except (HostKeyChanged, TLSVerifyFailed) as changed:
        _after_reset(room, changed, trust_key=True)
        return (yield from room.reconnect())
    room.recovery_checked = True  # not reset: from here on exactly as apply
    return device


def _after_reset(room: Room, why: DeviceError, *, trust_key: bool) -> None:
    room.emit("recover-try", reason=type(why).__name__, error=str(why))
    factory = _factory_login(room, why, trust_key)
    try:
        _restore_factory_room(room, factory)
    finally:
        factory.close()
    room.recovery_checked = True


def _factory_login(room: Room, why: DeviceError, trust_key: bool) -> Driver:
    profile = room.profiles.start(room.host, room.family)
    for username, password in profile.factory_credentials(room.host):
        driver = room.driver(Credentials(username, Secret(password)), trust_changed_key=trust_key)
        try:
            driver.open()
            return driver
        except AuthenticationFailed:
            driver.close()
    room.recovery_checked = True
    if trust_key:
        raise HostKeyChanged(f"{why}; the factory default login was refused as well, so this room was not "
                             "factory reset: investigate before trusting its new key")
    raise AuthenticationFailed(f"{why}; the factory default login was refused as well: the room is not in "
                               "factory state, check device_credentials")


def _restore_factory_room(room: Room, factory: Driver) -> None:
    """The factory login worked: the room was reset. Trust its new identity (this room only),
    restore the admin password, and leave the first-boot wizard whatever the device says of
    it (some firmware lets reads through in the wizard; `oobcomplete` outside it is harmless).
    Should the wizard still refuse writes later, `recover` finishes it again."""
    room.result.recovered = True
    factory.trust_changed_key = True  # its regenerated keys, on every transport of this room
    _trust(room, factory)
    password = room.host.device_credentials.password
    assert password is not None, "prepare() requires it for recover"
    factory.set_admin_password(password)
    room.emit("recover-admin-password", restored=True)
    factory.finish_first_boot()
    room.emit("recover-first-boot", finished=True)
    _trust(room, factory)  # the wizard may have gone over another transport (Group REST -> SSH)


def _trust(room: Room, factory: Driver) -> None:
    for presented in factory.accepted_keys:
        if presented in room.trusted:
            continue
        room.trusted.append(presented)
        if presented.startswith("sha256:"):
            port = room.host.port("https", 443)
            room.host = room.memory.trust.record(room.host, port, presented.removeprefix("sha256:"))
            what = "certificate"
        else:
            knownhosts.replace(knownhosts.path_for(room.host), presented)
            what = "host key"
        room.emit("recover-trust", key=presented)
        room.result.warnings.append(f"factory reset confirmed: trusted the new {what}")
