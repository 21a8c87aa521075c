"""A simulated building: many rooms, one meeting service, and the inventory to drive them.

`Lab` starts every room's servers on loopback in one process, writes an inventory that
a real rollout would look like (groups per building, secrets in files, and either pinned
certificates and a known_hosts file, or with `trusted=False` a building's first contact:
`tls_verify: true` and an empty known_hosts file), and a manifest that `lab status`,
`lab reset` and `lab down` use to find the running lab (with every room's certificate and
host key fingerprints, to compare with what `endpoints trust` shows).

Models, their software and transports come from the support matrix (`endpoints.support`).
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

from endpoints import support, yamlfile
from endpoints.errors import InputError
from endpoints.lab.device import SimDevice
from endpoints.lab.identity import known_hosts_line, ssh_fingerprint
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.presets import preset_for
from endpoints.lab.registration import DEFAULT_PROXIES, MeetingService
from endpoints.lab.service_api import LabCloud

# What each model's simulated room reports by default: its matrix line's lab software.
DEFAULT_SOFTWARE: dict[str, str] = {m: support.lines_of(m)[0].lab_software for m in support.MODELS}
# protocol underneath each transport (the inventory's `ports` keys)
PROTOCOL: dict[str, str] = dict(support.PROTOCOL_OF)
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
    # A Group Series serves SSH by default ("Secure API access using SSH is enabled by
    # default", polycom.md §3.1), so REST rooms serve SSH too unless told otherwise.
    also_ssh: bool | None = None
    dns: tuple[str, ...] = ()  # the DNS servers DHCP gave the room (default: the lab's resolver)
    clock_offset: float = 0.0  # seconds the room's clock is off (a wrong clock fails TLS)
    wizard_blocks_reads: bool | None = None  # Polycom: whether the first-boot wizard refuses reads
    reboot_after_write: bool = False  # Cisco: the codec reboots after a configuration write

    def __post_init__(self) -> None:
        canonical = support.canonical_model(self.model)
        if canonical is None:
            raise KeyError(f"model {self.model!r} is not in the support matrix "
                           f"(one of: {', '.join(support.MODELS)})")
        self.model = canonical
        family = support.family_of(canonical)
        if self.transport not in family.transports:
            raise KeyError(f"{canonical} offers {', '.join(family.transports)}, not {self.transport!r}")
        if self.also_ssh is None:
            self.also_ssh = self.transport == "rest"
        if not self.software:
            self.software = DEFAULT_SOFTWARE[canonical]
        self.dns = tuple(self.dns)


_TEXT_FIELDS = ("name", "model", "transport", "software", "number", "serial", "building")


@dataclass
class LabSpec:
    rooms: list[RoomSpec]
    delay: float = 1.0  # seconds from a SIP change to the registration verdict
    latency: float = 0.0  # seconds every device adds to each reply (a slow network or busy codec)
    lock_after: int = 3
    lock_seconds: float = 900.0
    boot_seconds: float = 30.0  # how long a rebooting room is away
    retry_interval: float = 60.0  # a failed registration is retried this often by the codec
    refresh_interval: float = 600.0  # a registered one is refreshed this often
    trusted: bool = True  # False: the inventory of a first contact (nothing pinned, no known hosts)

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
        data = yamlfile.load(path, "lab spec")
        if not isinstance(data, dict) or not isinstance(data.get("rooms", []), list):
            raise InputError("a lab spec is a mapping with a list of `rooms`", file=str(path), line=1)
        rooms = []
        for index, room in enumerate(data.pop("rooms", [])):
            try:
                # numbers written bare (`number: +99111600001`) keep their text
                room = {k: getattr(v, "text", v) if k in _TEXT_FIELDS else v for k, v in room.items()}
                rooms.append(RoomSpec(**room))
            except (TypeError, KeyError, AttributeError) as exc:
                raise InputError(f"room {index + 1}: {exc}", file=str(path), line=yamlfile.line_of(room),
                                 key=f"rooms.{index}") from None
        try:
            return cls(rooms, **data)
        except TypeError as exc:
            raise InputError(str(exc), file=str(path), line=1) from None


def rehearsal_of(inventory: Any, profiles: Any = None, *, delay: float = 1.0) -> LabSpec:
    """A lab that mirrors a real inventory: the same room names, groups, models, transports
    and SIP numbers, in factory state, so that its plan, apply and --limit patterns can be
    rehearsed. Nothing of the real inventory's secrets or addresses is used.

    The one place the lab reads the product's own data: `inventory` is the user's real
    inventory as `endpoints.inventory.load_inventory` read it (its hosts, groups and
    variables), which is what is being mirrored. Transports and models come from the
    support matrix; `profiles` (optional) only names the models of a profile the matrix
    does not know (a user's own profile). `inventory` may also be the inventory's path."""
    if isinstance(inventory, (str, Path)):
        from endpoints.inventory import load_inventory  # the user's real inventory, to mirror it

        inventory = load_inventory(inventory)
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
    if profile is None:
        raise InputError("a room needs `model` (or `profile`) to be rehearsed", key="model")
    for line in support.MATRIX:
        if line.profile == profile:
            return line.models[0]
    if profiles is not None:
        return str(profiles.get(profile).models[0])
    raise InputError(f"profile {profile!r} is not a built-in one: give the room a `model` to rehearse it",
                     key="profile")


@dataclass
class Room:
    spec: RoomSpec
    device: SimDevice
    sip_password: str  # the account's password on the simulated service
    ports: dict[str, int] = field(default_factory=dict)


def make_device(spec: RoomSpec, service: MeetingService, admin_password: str) -> SimDevice:
    """The simulated unit of a room, with the room's knobs set."""
    device: SimDevice
    if support.family_of(spec.model).vendor == "cisco":
        from endpoints.lab.cisco import CiscoDevice

        device = CiscoDevice(spec.name, spec.model, spec.software, service=service, serial=spec.serial,
                             admin_password=admin_password, resolves_names=spec.resolves_names)
        device.faults.reboot_after_write = spec.reboot_after_write
    else:
        from endpoints.lab.polycom import PolycomDevice

        polycom = PolycomDevice(spec.name, spec.model, spec.software, service=service, serial=spec.serial,
                                admin_password=admin_password, resolves_names=spec.resolves_names)
        if spec.wizard_blocks_reads is not None:
            polycom.wizard_blocks_reads = spec.wizard_blocks_reads
        if spec.dns:
            polycom.set_dns_servers(spec.dns)
        device = polycom
    if spec.dns:
        device.dns_servers = spec.dns
    device.clock_offset = spec.clock_offset
    return device


class Lab:
    """A running simulated fleet, its service, and the files that describe it."""

    def __init__(self, folder: Path, spec: LabSpec, *, trusted: bool | None = None, proxy: str = "") -> None:
        """`proxy`: the outbound proxy every room gets instead of the service's (`lab up --sip`:
        a Kamailio on loopback); the simulated service then expects it."""
        self.folder = Path(folder)
        self.spec = spec
        self.trusted = spec.trusted if trusted is None else trusted
        self.proxy, self.lab_proxy = proxy or PROXY, bool(proxy)
        self.service = MeetingService(delay=spec.delay, lock_after=spec.lock_after,
                                      lock_seconds=spec.lock_seconds, retry_interval=spec.retry_interval,
                                      refresh_interval=spec.refresh_interval,
                                      proxies=(proxy,) if proxy else DEFAULT_PROXIES)
        self.admin_password = random_secrets.token_urlsafe(12)
        self.rooms: dict[str, Room] = {}
        self.loop: LabLoop | None = None
        self.control: dict[str, Any] = {}
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
        device.boot_seconds = self.spec.boot_seconds
        room = Room(spec, device, password)
        self._preset(room)
        self.rooms[spec.name] = room

    def _preset(self, room: Room) -> None:
        """Put the room in its starting state with the device's own setting names."""
        spec = room.spec
        settings = preset_for(spec.model, spec.software, spec.state, name=spec.name, number=spec.number,
                              sip_password=room.sip_password, proxy=self.proxy, sip=self._room_sip(room))
        if settings:
            room.device.preset(settings)

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
        """Factory-reset one room: defaults, factory admin password, new key and certificate,
        every server of the room restarted; the manifest shows the new fingerprints."""
        device = self.rooms[name].device
        device.factory_reset()
        await device.settled()
        self.write_manifest()

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
        """Every SSH room's key, or (untrusted) an empty file: nobody has met these rooms yet."""
        lines = [known_hosts_line(room.device.host_key, port)
                 for room in self.rooms.values() for proto, port in room.ports.items() if proto == "ssh"]
        (self.folder / "known_hosts").write_text("".join(lines) if self.trusted else "", encoding="utf-8")

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
        trust = ("pinned certificates, known host keys" if self.trusted else
                 "nothing trusted yet: run `endpoints trust --accept` first, as in a new building")
        header = ("# Written by `endpoints lab up`: the simulated rooms on this machine, shaped like a real\n"
                  f"# rollout (a group per building, secrets in files, {trust}).\n"
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
            # Trusted: the certificate pinned. Untrusted: strict verification, which fails
            # on the codec's self-signed certificate until `trust --accept` pins it.
            host["tls_verify"] = f"sha256:{room.device.certificate.sha256}" if self.trusted else True
        return host

    def _room_sip(self, room: Room) -> dict[str, str]:
        """A room's own sip keys; with a lab proxy, the room's own proxy gives way to it. The
        proxy is written per room: a host's `sip:` replaces a group's, as Ansible merges."""
        if not self.lab_proxy:
            return dict(room.spec.sip)
        return {**{key: value for key, value in room.spec.sip.items() if key != "proxy"}, "proxy": self.proxy}

    def write_manifest(self, control: dict[str, Any] | None = None) -> None:
        if control is not None:
            self.control = control
        manifest = {
            "pid": os.getpid(),
            "inventory": str(self.inventory_path),
            "control": self.control,
            "trusted": self.trusted,
            "rooms": {name: self._manifest_room(room) for name, room in self.rooms.items()},
        }
        _private(self.folder / "manifest.json", json.dumps(manifest, indent=2))

    def _manifest_room(self, room: Room) -> dict[str, Any]:
        """What a room is and how it proves itself. The certificates are self-signed: each is
        its own CA, so its fingerprint is the one to compare."""
        entry: dict[str, Any] = {"model": room.spec.model, "software": room.spec.software,
                                 "transport": room.spec.transport, "ports": room.ports,
                                 "number": room.spec.number}
        if "https" in room.ports:
            entry["certificate"] = {"sha256": room.device.certificate.sha256, "self_signed": True}
        if "ssh" in room.ports:
            key = room.device.host_key
            entry["ssh_host_key"] = {"type": key.get_algorithm(), "fingerprint": ssh_fingerprint(key)}
        return entry

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
                "logins": counters.logins, "logins_failed": counters.logins_failed, "sessions_open": counters.sessions_open,
                "reboots": counters.reboots,
                "settings": room.device.snapshot(),
            })
        return rows


def _serial(model: str, index: int) -> str:
    if support.family_of(model).vendor == "cisco":
        return f"FTT{2000 + index:04d}LAB"
    return f"8211{index:06d}LAB"


def _private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
