"""`endpoints doctor`, the rooms' half: what each room's own API says of its network.

Read only: the DNS servers it has (a room without one needs the proxy's address), its
clock against this machine's (TLS fails on a wrong clock), and its word on its SIP proxy
where the API reports one. Where those are read is profile data (`network:`); an API
that does not report a thing says so rather than failing. The proxies' half (DNS, TCP,
TLS, SIP OPTIONS from this machine) is `endpoints.doctor`, run once per distinct proxy.
"""
from __future__ import annotations

from endpoints import doctor
from endpoints.core.room import Room, Steps
from endpoints.doctor.model import Check
from endpoints.drivers.base import Driver
from endpoints.profiles import Profile


def room_doctor(room: Room) -> Steps:
    with room.session() as device:
        profile = room.identify(device)
        room.registration(device, profile)
        checks = network_checks(room, device, profile)
    room.result.checks = [c.to_json() for c in checks]
    failed = [c for c in checks if c.failed]
    if failed:
        room.result.fail("failed", f"{failed[0].name}: {failed[0].detail}", failed[0].advice or None)
    else:
        room.result.status = "ok"
    yield from ()


def network_checks(room: Room, device: Driver, profile: Profile) -> list[Check]:
    network = profile.network.for_transport(room.transport)
    proxy = room.desired.proxy if room.desired else None
    checks: list[Check] = []
    if network.dns_servers:
        paths = list(network.dns_servers)
        values = device.status(paths) if network.dns_source == "status" else device.read(paths)
        checks.append(doctor.dns_check([values.get(p) or "" for p in network.dns_servers], proxy=proxy))
    else:
        checks.append(_not_reported("dns servers", room))
    status_paths = [p for p in (network.clock, network.proxy_status, network.proxy_address) if p]
    status = device.status(status_paths) if status_paths else {}
    clock = status.get(network.clock or "")
    checks.append(doctor.clock_check(clock) if clock else _not_reported("clock", room))
    said = status.get(network.proxy_status or "")
    if said is not None:
        checks.append(doctor.proxy_status_check(said, current=status.get(network.proxy_address or "") or "",
                                                expected=str(proxy) if proxy else ""))
    return checks


def _not_reported(name: str, room: Room) -> Check:
    return Check(name, False, 0.0, f"not reported over {room.transport}", skipped=True)
