"""A simulated building: many rooms, one meeting service, and the inventory to drive them.

`Lab` starts every room's servers on loopback in one process, writes an inventory that
a real rollout would look like (groups per building, secrets in files, pinned
certificates, a known_hosts file), and a manifest that `lab status`, `lab reset` and
`lab down` use to find the running lab.
"""
from __future__ import annotations

import json
import os
import secrets as random_secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from endpoints import yamlfile
from endpoints.lab.device import SimDevice
from endpoints.lab.net import LabLoop, free_port, known_hosts_line
from endpoints.lab.registration import DEFAULT_PROXIES, MeetingService
from endpoints.lab.service_api import LabCloud

DEFAULT_SOFTWARE = {
    "SX10": "ce8.2.1.e9daf06",
    "SX20": "ce9.4.0.cd3c4c6",
    "SX80": "TC7.3.6.b3d8e2c",
    "Group": "6.2.0-670021",
    "HDX": "3.1.7-59104",
}
# protocol underneath each transport (the inventory's `ports` keys)
PROTOCOL = {"http": "http", "https": "https", "ssh": "ssh", "rest": "https", "telnet": "telnet"}
PROXY = "sip2-ec.huaweicloud.com:5061"

# The default mix: every model and every transport, some rooms fresh from the factory,
# some with an old SIP set-up (UDP, another proxy), one already right.
MIX: tuple[dict[str, Any], ...] = (
    {"model": "SX10", "transport": "https", "state": "factory"},
    {"model": "SX20", "transport": "ssh", "state": "factory"},
    {"model": "SX80", "transport": "http", "state": "stale"},
    {"model": "Group 550", "transport": "rest", "state": "factory"},
    {"model": "Group 550", "transport": "ssh", "state": "stale"},
    {"model": "HDX 7000", "transport": "telnet", "state": "factory"},
    {"model": "SX20", "transport": "https", "state": "registered"},
    {"model": "HDX 8000", "transport": "http", "state": "factory"},
    {"model": "Group 550", "transport": "telnet", "state": "factory"},
)
HTTP_MIX: tuple[dict[str, Any], ...] = (
    {"model": "SX20", "transport": "https", "state": "factory"},
    {"model": "SX10", "transport": "http", "state": "stale"},
    {"model": "Group 550", "transport": "rest", "state": "factory", "also_ssh": False},
    {"model": "HDX 7000", "transport": "http", "state": "factory"},
)


@dataclass
class RoomSpec:
    name: str
    model: str
    transport: str
    software: str = ""
    state: str = "factory"  # factory | stale | registered
    building: str = "building-a"
    wrong_password: bool = False  # the inventory carries a password the service refuses
    resolves_names: bool = True
    number: str = ""
    serial: str = ""
    also_in: tuple[str, ...] = ()  # further groups the room belongs to (a rehearsal of an inventory)
    sip: dict[str, str] = field(default_factory=dict)  # further sip.* keys for its inventory (proxy ...)
    # A Group Series driven over REST leaves its first-boot wizard over SSH (no REST call
    # for it is known), so REST rooms serve SSH too unless told otherwise.
    also_ssh: bool | None = None

    def __post_init__(self) -> None:
        if self.also_ssh is None:
            self.also_ssh = self.transport == "rest"
        if not self.software:
            key = self.model if self.model.startswith("SX") else self.model.split()[0]
            self.software = DEFAULT_SOFTWARE[key]


_TEXT_FIELDS = ("name", "model", "transport", "software", "number", "serial", "building")


@dataclass
class LabSpec:
    rooms: list[RoomSpec]
    delay: float = 1.0  # seconds from a SIP change to the registration verdict
    latency: float = 0.0  # seconds every device adds to each reply (a slow network or busy codec)
    lock_after: int = 3
    lock_seconds: float = 900.0

    @classmethod
    def mixed(cls, count: int, *, http_only: bool = False, delay: float = 1.0, latency: float = 0.0) -> LabSpec:
        mix = HTTP_MIX if http_only else MIX
        rooms = []
        for index in range(count):
            kind = mix[index % len(mix)]
            building = f"building-{chr(ord('a') + (index // 50) % 26)}"
            name = f"room-{building[-1]}{index + 1:03d}"
            rooms.append(RoomSpec(name=name, building=building, **kind))
        return cls(rooms, delay=delay, latency=latency)

    @classmethod
    def load(cls, path: Path) -> LabSpec:
        """A fleet description; a bad key is an InputError naming the file, line and room."""
        from endpoints.errors import InputError

        data = yamlfile.load(path, "lab spec")
        if not isinstance(data, dict) or not isinstance(data.get("rooms", []), list):
            raise InputError("a lab spec is a mapping with a list of `rooms`", file=str(path), line=1)
        rooms = []
        for index, room in enumerate(data.pop("rooms", [])):
            try:
                # numbers written bare (`number: +99111600001`) keep their text
                room = {k: getattr(v, "text", v) if k in _TEXT_FIELDS else v for k, v in room.items()}
                rooms.append(RoomSpec(**room))
            except (TypeError, KeyError) as exc:
                raise InputError(f"room {index + 1}: {exc}", file=str(path), line=yamlfile.line_of(room),
                                 key=f"rooms.{index}") from None
        try:
            return cls(rooms, **data)
        except TypeError as exc:
            raise InputError(str(exc), file=str(path), line=1) from None


def rehearsal_of(inventory: Any, profiles: Any, *, delay: float = 1.0) -> LabSpec:
    """A lab that mirrors a real inventory: the same room names, groups, models, transports
    and SIP numbers, in factory state, so that its plan, apply and --limit patterns can be
    rehearsed. Nothing of the real inventory's secrets or addresses is used."""
    from endpoints import support

    rooms = []
    for host in inventory.hosts.values():
        model = host.model or _model_of_profile(host.profile, profiles)
        transport = host.transport or support.family_of(model).transports[0]
        groups = tuple(g for g in host.groups if g not in ("all", "ungrouped")) or ("ungrouped",)
        sip = {key: getattr(host.sip, key) for key in ("domain", "uri", "auth_username", "display_name",
                                                       "registrar", "proxy", "transport")
               if getattr(host.sip, key) is not None}
        rooms.append(RoomSpec(name=host.name, model=model, transport=transport, number=host.sip.number or "",
                              serial=host.serial or "", building=groups[-1], also_in=groups[:-1], sip=sip))
    return LabSpec(rooms, delay=delay)


def _model_of_profile(profile: str | None, profiles: Any) -> str:
    from endpoints.errors import InputError

    if profile is None:
        raise InputError("a room needs `model` (or `profile`) to be rehearsed", key="model")
    return str(profiles.get(profile).models[0])


@dataclass
class Room:
    spec: RoomSpec
    device: SimDevice
    sip_password: str  # the account's password on the simulated service
    ports: dict[str, int] = field(default_factory=dict)


def make_device(spec: RoomSpec, service: MeetingService, admin_password: str) -> SimDevice:
    if spec.model.startswith("SX"):
        from endpoints.lab.cisco import CiscoDevice

        return CiscoDevice(spec.name, spec.model, spec.software, service=service, serial=spec.serial,
                           admin_password=admin_password, resolves_names=spec.resolves_names)
    from endpoints.lab.polycom import PolycomDevice

    return PolycomDevice(spec.name, spec.model, spec.software, service=service, serial=spec.serial,
                         admin_password=admin_password, resolves_names=spec.resolves_names)


class Lab:
    """A running simulated fleet, its service, and the files that describe it."""

    def __init__(self, folder: Path, spec: LabSpec, *, proxy: str = "") -> None:
        """`proxy`: the outbound proxy every room gets instead of the service's (`lab up --sip`:
        a Kamailio on loopback); the simulated service then expects it."""
        self.folder = Path(folder)
        self.spec = spec
        self.proxy, self.lab_proxy = proxy or PROXY, bool(proxy)
        self.service = MeetingService(delay=spec.delay, lock_after=spec.lock_after, lock_seconds=spec.lock_seconds,
                                      proxies=(proxy,) if proxy else DEFAULT_PROXIES)
        self.admin_password = random_secrets.token_urlsafe(12)
        self.rooms: dict[str, Room] = {}
        self.loop: LabLoop | None = None
        self.cloud: LabCloud | None = None  # the meeting service's REST API (service_api.py)

    @property
    def inventory_path(self) -> Path:
        return self.folder / "inventory.yaml"

    def start(self) -> None:
        self.loop = LabLoop()
        for index, spec in enumerate(self.spec.rooms):
            self._add_room(index, spec)
        self.loop.call(self._serve_all(), timeout=600)
        self.write_files()

    def stop(self) -> None:
        if self.loop is None:
            return
        self.loop.call(self._stop_all(), timeout=120)
        self.loop.stop()
        self.loop = None

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def devices(self) -> Iterator[SimDevice]:
        return (room.device for room in self.rooms.values())

    def _add_room(self, index: int, spec: RoomSpec) -> None:
        spec.number = spec.number or f"+99111{600000 + index:06d}"
        spec.serial = spec.serial or _serial(spec.model, index)
        password = random_secrets.token_urlsafe(10)
        self.service.add_account(spec.number, password)
        device = make_device(spec, self.service, self.admin_password)
        device.faults.slow = self.spec.latency
        room = Room(spec, device, password)
        self._preset(room)
        self.rooms[spec.name] = room

    def _preset(self, room: Room) -> None:
        """Put the room in its starting state with the device's own setting names."""
        from endpoints.lab.presets import preset_for

        settings = preset_for(room.spec, room.sip_password, self.proxy)
        if settings:
            room.device.preset(settings)  # type: ignore[attr-defined]

    async def _serve_all(self) -> None:
        for room in self.rooms.values():
            room.ports = {PROTOCOL[room.spec.transport]: free_port()}
            if room.spec.also_ssh:
                room.ports["ssh"] = free_port()
            await room.device.start(dict(room.ports))
        self.cloud = LabCloud.for_lab(self)
        await self.cloud.start()

    async def _stop_all(self) -> None:
        for room in self.rooms.values():
            await room.device.stop()
        if self.cloud is not None:
            await self.cloud.stop()

    async def reset(self, name: str) -> None:
        """Factory-reset one room: defaults, factory admin password, new key and certificate."""
        room = self.rooms[name]
        room.device.factory_reset()
        await room.device.restart()  # type: ignore[attr-defined]

    # -- files ---------------------------------------------------------------------------
    def write_files(self) -> None:
        secrets_dir = self.folder / "secrets"
        secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secrets_dir, 0o700)
        _private(secrets_dir / "admin-password", self.admin_password)
        for room in self.rooms.values():
            password = room.sip_password if not room.spec.wrong_password else room.sip_password[::-1] + "x"
            _private(secrets_dir / f"{room.spec.name}.sip", password)
        self._write_known_hosts()
        if self.cloud is not None:
            self.cloud.write_files()
        self.inventory_path.write_text(self.inventory_text(), encoding="utf-8")
        self.write_manifest()

    def _write_known_hosts(self) -> None:
        lines = [known_hosts_line(room.device.host_key, port)
                 for room in self.rooms.values() for proto, port in room.ports.items() if proto == "ssh"]
        (self.folder / "known_hosts").write_text("".join(lines), encoding="utf-8")

    def inventory_text(self) -> str:
        buildings: dict[str, dict[str, Any]] = {}
        for room in self.rooms.values():
            buildings.setdefault(room.spec.building, {})[room.spec.name] = self._host_vars(room)
            for group in room.spec.also_in:  # listed again, its variables stay in its first group
                buildings.setdefault(group, {})[room.spec.name] = None
        inventory = {"all": {
            "vars": {
                "device_credentials": {"username": "admin", "password": {"file": "secrets/admin-password"}},
                "known_hosts": "known_hosts",
                "sip": {"proxy": self.proxy},
                **({"cloud": self.cloud.inventory_vars()} if self.cloud is not None else {}),
            },
            "children": {name: {"hosts": hosts} for name, hosts in sorted(buildings.items())},
        }}
        header = ("# Written by `endpoints lab up`: the simulated rooms on this machine, shaped like a real\n"
                  "# rollout (a group per building, secrets in files, pinned certificates, known host keys).\n"
                  "# Point the same shape at real rooms by changing address, ports and secrets.\n")
        return header + yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)

    def _host_vars(self, room: Room) -> dict[str, Any]:
        host: dict[str, Any] = {
            "address": "127.0.0.1",
            "model": room.spec.model,
            "transport": room.spec.transport,
            "ports": dict(room.ports),
            "serial": room.spec.serial,
            "sip": {"number": room.spec.number, **self._room_sip(room),
                    "password": {"file": f"secrets/{room.spec.name}.sip"}},
        }
        if "https" in room.ports:
            host["tls_verify"] = f"sha256:{room.device.certificate.sha256}"
        return host

    def _room_sip(self, room: Room) -> dict[str, str]:
        """A room's own sip keys; with a lab proxy, the room's own proxy gives way to it."""
        if not self.lab_proxy:
            return dict(room.spec.sip)
        return {key: value for key, value in room.spec.sip.items() if key != "proxy"}

    def write_manifest(self, control: dict[str, Any] | None = None) -> None:
        manifest = {
            "pid": os.getpid(),
            "inventory": str(self.inventory_path),
            "control": control or {},
            "rooms": {name: {"model": r.spec.model, "software": r.spec.software, "transport": r.spec.transport,
                             "ports": r.ports, "number": r.spec.number} for name, r in self.rooms.items()},
        }
        _private(self.folder / "manifest.json", json.dumps(manifest, indent=2))

    # -- looking at it ---------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        rows = []
        for name, room in self.rooms.items():
            phase, failure = room.device.registration.view()
            counters = room.device.counters
            rows.append({
                "room": name, "model": room.spec.model, "transport": room.spec.transport,
                "ports": room.ports, "registration": phase, "failure": failure,
                "locked": self.service.locked(room.spec.number),
                "writes": counters.writes, "attempts": room.device.registration.attempts,
                "requests": counters.requests,
                "logins_failed": counters.logins_failed, "sessions_open": counters.sessions_open,
                "settings": room.device.snapshot(),
            })
        return rows


def _serial(model: str, index: int) -> str:
    if model.startswith("SX"):
        return f"FTT{2000 + index:04d}LAB"
    return f"8211{index:06d}LAB"


def _private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
