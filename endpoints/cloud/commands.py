"""`endpoints cloud terminals` and `endpoints cloud add`, and the service cross-check.

Both commands read the inventory, select rooms with `--limit`, check every input before a
request is sent (InputError naming file, line and key) and then talk to the service with
one client. `show_service_check` is what `endpoints demo` calls to show, per room, the
device's word next to the service's.
"""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from endpoints import output
from endpoints.cloud.client import CloudClient, NewTerminal, Terminal
from endpoints.cloud.context import cloud_settings
from endpoints.cloud.errors import CloudAuthError, CloudError, CloudNetworkError
from endpoints.cloud.inventory_write import NotWritable, Written, is_yaml_inventory, write_numbers
from endpoints.cloud.status import ServiceRegistration, normalise_number, service_registrations
from endpoints.errors import InputError
from endpoints.host import Host

EXIT_FAILED, EXIT_UNREACHABLE = 2, 4
SN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,30}")  # the service's rule for a terminal SN
PHONE_PATTERN = re.compile(r"\+\d{6,20}")


def normalise_sn(sn: str) -> str:
    return sn.strip().upper()


@dataclass
class Selection:
    path: Path
    all_hosts: list[Host]
    hosts: list[Host]
    limit: str | None
    started: str = field(default_factory=lambda: _now())


def select_rooms(inventory: Path, limit: str | None) -> Selection:
    from endpoints.inventory import load_inventory
    from endpoints.limit import select

    loaded = load_inventory(inventory)
    names = select(loaded, limit)
    return Selection(Path(inventory), list(loaded.hosts.values()), [loaded.hosts[n] for n in names], limit)


# --- cloud terminals ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RoomTerminal:
    room: str
    serial: str | None
    inventory_number: str | None
    terminal: Terminal | None
    service: ServiceRegistration | None = None

    @property
    def number_matches(self) -> bool | None:
        if self.terminal is None or not self.terminal.number or not self.inventory_number:
            return None
        return normalise_number(self.terminal.number) == normalise_number(self.inventory_number)

    def to_json(self) -> dict[str, Any]:
        service = None
        if self.service is not None and self.terminal is not None:
            service = self.service.to_json(self.terminal.number)
        return {"serial": self.serial, "terminal": self.terminal.to_json() if self.terminal else None,
                "number_matches": self.number_matches, "inventory_number": self.inventory_number,
                "service": service}


def join(selected: Sequence[Host], all_hosts: Sequence[Host],
         terminals: Sequence[Terminal]) -> tuple[list[RoomTerminal], list[Terminal]]:
    """Rooms joined with the service's terminals by SN (case and spaces ignored); and the
    terminals no room of the whole inventory names (`--limit` does not make them unmatched)."""
    by_sn = {normalise_sn(t.sn): t for t in terminals}
    rooms = [RoomTerminal(h.name, h.serial, h.sip.number, by_sn.get(normalise_sn(h.serial)) if h.serial else None)
             for h in selected]
    named = {normalise_sn(h.serial) for h in all_hosts if h.serial}
    return rooms, [t for t in terminals if normalise_sn(t.sn) not in named]


def list_terminals(selection: Selection, client: CloudClient) -> tuple[list[RoomTerminal], list[Terminal]]:
    """The join, with the service's registration of every joined terminal's number."""
    rooms, unmatched = join(selection.hosts, selection.all_hosts, client.terminals())
    numbers = [r.terminal.number for r in rooms if r.terminal and r.terminal.number]
    seen = service_registrations(client, numbers) if numbers else {}
    rooms = [RoomTerminal(r.room, r.serial, r.inventory_number, r.terminal,
                          seen.get(r.terminal.number) if r.terminal else None) for r in rooms]
    return rooms, unmatched


def terminals_report(selection: Selection, rooms: Sequence[RoomTerminal], unmatched: Sequence[Terminal],
                     client: CloudClient) -> dict[str, Any]:
    return {
        "meta": _meta("cloud terminals", selection, check=False),
        "command": "cloud terminals",
        "summary": {"rooms": len(rooms), "with_terminal": sum(r.terminal is not None for r in rooms),
                    "without_terminal": sum(r.terminal is None for r in rooms),
                    "number_mismatch": sum(r.number_matches is False for r in rooms),
                    "unmatched_terminals": len(unmatched), "requests": client.requests},
        "hosts": {r.room: r.to_json() for r in rooms},
        "unmatched_terminals": [t.to_json() for t in unmatched],
    }


def run_terminals(inventory: Path, console: Console, *, limit: str | None = None, report: Path | None = None,
                  verbose: int = 0, timeout: float = 15.0) -> int:
    """`endpoints cloud terminals`: 0 when the listing worked (mismatches are information)."""
    selection = select_rooms(inventory, limit)
    _logging(verbose, selection.all_hosts)
    settings = cloud_settings(selection.hosts)
    try:
        with CloudClient(settings, timeout=timeout) as client:
            rooms, unmatched = list_terminals(selection, client)
            data = terminals_report(selection, rooms, unmatched, client)
    except CloudError as exc:
        return _service_failed(exc)
    _show_terminals(console, rooms, unmatched)
    _write_report(report, data)
    return 0


def _wide(console: Console) -> None:
    if not console.is_terminal:  # a log or a pipe: never fold a number or an SN
        console.width = max(console.width, 160)


def _show_terminals(console: Console, rooms: Sequence[RoomTerminal], unmatched: Sequence[Terminal]) -> None:
    _wide(console)
    table = Table("room", "serial", "terminal", "model", "service number", "inventory number", "status",
                  "service sees", box=None, pad_edge=False)
    for r in rooms:
        t = r.terminal
        match = {True: "[green]same[/]", False: "[red]differs[/]", None: "-"}[r.number_matches]
        if t is None:
            why = "no serial in the inventory" if not r.serial else "no terminal with this SN"
            table.add_row(r.room, escape(r.serial or "-"), f"[yellow]none[/] ({why})", "", "",
                          escape(r.inventory_number or "-"), "", "")
            continue
        seen = r.service.state if r.service else "-"
        table.add_row(r.room, escape(t.sn), escape(t.name), escape(t.model), escape(t.number or "-"),
                      f"{escape(r.inventory_number or '-')} ({match})", t.status_text or "-", seen)
    console.print(table)
    if unmatched:
        console.print(f"\n{len(unmatched)} terminal(s) at the service that no room of the inventory names:")
        for t in unmatched:
            console.print(f"  {escape(t.sn)}  {escape(t.name)}  {escape(t.model)}  {escape(t.number or '-')}",
                          highlight=False)
    with_terminal = sum(r.terminal is not None for r in rooms)
    mismatched = sum(r.number_matches is False for r in rooms)
    console.print(f"\n{with_terminal} of {len(rooms)} rooms have a terminal at the service; "
                  f"{mismatched} with a number that differs from sip.number; {len(unmatched)} unmatched terminals")
    if with_terminal < len(rooms):
        console.print("add the missing ones with `endpoints cloud add -i ...`", style="dim")


# --- cloud add -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    host: Host
    sn: str
    name: str
    vendor: str  # cisco | polycom
    email: str | None
    phone: str | None
    dept_code: str


@dataclass
class AddOutcome:
    room: str
    sn: str
    action: str  # exists | added | would add | failed
    terminal: Terminal | None = None
    number: str | None = None
    error: str | None = None
    unreachable: bool = False
    written: Written | None = None

    def to_json(self) -> dict[str, Any]:
        return {"sn": self.sn, "action": self.action, "number": self.number,
                "terminal": self.terminal.to_json() if self.terminal else None, "error": self.error,
                "written": ({"line": self.written.line, "previous": self.written.previous}
                            if self.written else None)}


def candidates(hosts: Sequence[Host]) -> list[Candidate]:
    """Every selected room checked before a request is sent: SN, notify address, name, vendor."""
    found = []
    for host in hosts:
        if not host.serial:
            raise InputError("no serial: the service finds and adds a room's terminal by its SN; set `serial`",
                             file=host.origin("serial"), key="serial")
        if not SN_PATTERN.fullmatch(host.serial):
            raise InputError(f"serial {host.serial!r} is not a terminal SN the service takes (1 to 30 letters, "
                             "digits or underscores)", file=host.origin("serial"), key="serial")
        cloud = host.cloud
        if not cloud.notify_email and not cloud.notify_phone:
            raise InputError("no notify address: set cloud.notify_email or cloud.notify_phone (the service sends "
                             "the new terminal's SIP number and password there)", file=host.origin("cloud"),
                             key="cloud.notify_email")
        if cloud.notify_phone and not PHONE_PATTERN.fullmatch(cloud.notify_phone):
            raise InputError("cloud.notify_phone must be + and digits, e.g. +8613800000000",
                             file=host.origin("cloud.notify_phone"), key="cloud.notify_phone")
        name = cloud.terminal_name or host.name
        if not 1 <= len(name) <= 64:
            raise InputError("the terminal name must be 1 to 64 characters", file=host.origin("cloud.terminal_name"),
                             key="cloud.terminal_name")
        found.append(Candidate(host, host.serial, name, _vendor(host), cloud.notify_email, cloud.notify_phone,
                               cloud.dept_code or "1"))
    return found


def _vendor(host: Host) -> str:
    from endpoints.support import FAMILIES, canonical_model, family_of

    model = canonical_model(host.model) if host.model else None
    if model:
        return family_of(model).vendor
    if host.profile:
        from endpoints.profiles import ProfileSet

        try:
            return FAMILIES[ProfileSet.load().get(host.profile).vendor].vendor
        except (KeyError, InputError):
            pass
    raise InputError("set `model`: the terminal's model at the service (cisco or polycom) follows from it",
                     file=host.origin("model"), key="model")


def third_party_model(types: Sequence[Any], vendor: str) -> str | None:
    """The service's own spelling of its third-party model for a vendor (`type` 3rd); casing UNSURE."""
    third = [t for t in types if t.type.lower() == "3rd"]
    for pool in (third, types):
        for t in pool:
            if t.model.strip().lower() == vendor:
                return str(t.model)
    return None


def add_terminals(selection: Selection, client: CloudClient, *, check: bool) -> list[AddOutcome]:
    """Add a third-party terminal for each candidate the service lacks (none with `check`)."""
    wanted = candidates(selection.hosts)
    existing = {normalise_sn(t.sn): t for t in client.terminals()}
    outcomes: list[AddOutcome] = []
    missing = [c for c in wanted if normalise_sn(c.sn) not in existing]
    types = client.device_types() if missing else []
    listed = ", ".join(t.model for t in types if t.type.lower() == "3rd") or "none"
    models = {v: third_party_model(types, v) for v in {c.vendor for c in missing}}
    stop: str | None = None
    for c in wanted:
        terminal = existing.get(normalise_sn(c.sn))
        if terminal is not None:
            outcomes.append(AddOutcome(c.host.name, c.sn, "exists", terminal, terminal.number or None))
            continue
        model = models.get(c.vendor)
        if model is None:
            outcomes.append(AddOutcome(c.host.name, c.sn, "failed", error=f"the service lists no third-party "
                                       f"terminal type for {c.vendor} (third-party types it lists: {listed})"))
            continue
        if check:
            outcomes.append(AddOutcome(c.host.name, c.sn, "would add"))
            continue
        if stop is not None:
            outcomes.append(AddOutcome(c.host.name, c.sn, "failed", error=f"not tried: {stop}"))
            continue
        new = NewTerminal(sn=c.sn, name=c.name, model=model, dept_code=c.dept_code, email=c.email, phone=c.phone,
                          country="chinaPR" if c.phone and c.phone.startswith("+86") else None)
        try:
            added = client.add_terminal(new)
        except CloudError as exc:
            outcomes.append(AddOutcome(c.host.name, c.sn, "failed", error=str(exc),
                                       unreachable=isinstance(exc, CloudNetworkError)))
            if isinstance(exc, CloudAuthError):
                stop = str(exc)
            continue
        outcomes.append(AddOutcome(c.host.name, c.sn, "added", added, added.number))
    return outcomes


def run_add(inventory: Path, console: Console, *, limit: str | None = None, check: bool = False,
            report: Path | None = None, verbose: int = 0, timeout: float = 15.0) -> int:
    """`endpoints cloud add`: 0 when every selected room has (or, with --check, would have) a terminal."""
    selection = select_rooms(inventory, limit)
    _logging(verbose, selection.all_hosts)
    settings = cloud_settings(selection.hosts)
    candidates(selection.hosts)  # refuse bad input before a request is sent
    try:
        with CloudClient(settings, timeout=timeout) as client:
            outcomes = add_terminals(selection, client, check=check)
            requests = client.requests
    except CloudError as exc:
        return _service_failed(exc)
    hosts = {h.name: h for h in selection.all_hosts}
    # a new terminal's number replaces whatever the room had; an existing one fills a gap only
    to_write = {o.room: o.number for o in outcomes if o.number and (o.action == "added" or (
        o.action == "exists" and not hosts[o.room].sip.number))}
    written, not_written = _write(selection.path, to_write, hosts, console, check)
    for o in outcomes:
        o.written = written.get(o.room)
    _show_added(console, outcomes, selection, check, to_write, not_written)
    _write_report(report, {
        "meta": _meta("cloud add", selection, check=check), "command": "cloud add", "check": check,
        "summary": {a: sum(o.action == a for o in outcomes) for a in ("exists", "added", "would add", "failed")}
        | {"requests": requests},
        "inventory_written": bool(written), "hosts": {o.room: o.to_json() for o in outcomes}})
    code = 0
    for o in outcomes:
        if o.action == "failed":
            code |= EXIT_UNREACHABLE if o.unreachable else EXIT_FAILED
    return code


def _write(path: Path, numbers: dict[str, str], hosts: dict[str, Host], console: Console,
           check: bool) -> tuple[dict[str, Written], str | None]:
    if not numbers or check:
        return {}, None
    try:
        return {w.room: w for w in write_numbers(path, numbers, hosts)}, None
    except (NotWritable, OSError) as exc:
        return {}, str(exc)


def _show_added(console: Console, outcomes: Sequence[AddOutcome], selection: Selection, check: bool,
                to_write: dict[str, str], not_written: str | None) -> None:
    _wide(console)
    table = Table("room", "SN", "at the service", "number", box=None, pad_edge=False)
    style = {"exists": "green", "added": "yellow", "would add": "yellow", "failed": "red"}
    for o in outcomes:
        detail = f"[{style[o.action]}]{o.action}[/]" + (f": {escape(o.error)}" if o.error else "")
        table.add_row(o.room, escape(o.sn), detail, escape(o.number or "-"))
    console.print(table)
    path = selection.path
    if check:
        would = [o.room for o in outcomes if o.action == "would add"]
        console.print(f"--check: nothing was added or written; {len(would)} terminal(s) would be added and their "
                      f"numbers written into {path} as sip.number")
        return
    if to_write and not not_written:
        console.print(f"wrote sip.number for {len(to_write)} room(s) into {path} (comments and layout kept)")
    elif to_write:
        yaml_note = "" if is_yaml_inventory(path) else " (only YAML inventories are written)"
        console.print(f"[yellow]the numbers were not written into {path}[/]{yaml_note}: {escape(not_written or '')}")
        console.print("set them yourself, quoted, as each room's sip.number:")
        for room, number in to_write.items():
            console.print(f'  {room}: sip.number: "{number}"', highlight=False)
    hosts = {h.name: h for h in selection.hosts}
    for o in outcomes:
        written_here = hosts[o.room].sip.number
        if o.action == "exists" and o.number and written_here and \
                normalise_number(written_here) != normalise_number(o.number):
            console.print(f"[yellow]{o.room}: its terminal's number at the service is {o.number}, the inventory "
                          f"says {escape(written_here)}[/]: left as it is; see `endpoints cloud terminals`")
    added = [o for o in outcomes if o.action == "added"]
    if added:
        _password_note(console, added, hosts)


def _password_note(console: Console, added: Sequence[AddOutcome], hosts: dict[str, Host]) -> None:
    """The service mails the SIP password: no API returns it. Say where it goes."""
    console.print("\nThe service sends each new terminal's SIP number, SIP password and SIP server address by "
                  "email/SMS to the notify address (cloud.notify_email / cloud.notify_phone); no API returns the "
                  "password. Put each password in a file of its own (chmod 600) and point the room at it:")
    for o in added:
        host = hosts[o.room]
        secret = host.sip.password
        if secret is not None and secret.source.startswith("file:"):
            console.print(f"  {o.room}: write it into {secret.source[5:]} (sip.password already reads it)",
                          highlight=False)
        else:
            console.print(f"  {o.room}: sip.password: {{file: secrets/{o.room}.sip}}", highlight=False)
    console.print("If the notice names another SIP server than the default proxy, set sip.proxy to it. "
                  "Then `endpoints apply -i ...` and `endpoints verify --cloud -i ...`.")


# --- the cross-check for the demo ------------------------------------------------------------------

def show_service_check(console: Console, inventory: Path, run: Any = None, *, limit: str | None = None,
                       timeout: float = 15.0) -> dict[str, ServiceRegistration]:
    """Per room: its number, what the room said in `run` (a RunResult, optional), what the
    service says (`userstatus`), one line each; returns room -> the service's word."""
    selection = select_rooms(inventory, limit)
    settings = cloud_settings(selection.hosts)
    numbered = {h.name: h.sip.number for h in selection.hosts if h.sip.number}
    with CloudClient(settings, timeout=timeout) as client:
        seen = service_registrations(client, numbered.values())
        requests = client.requests
    _wide(console)
    table = Table("room", "number", "the room says", "the service says", box=None, pad_edge=False)
    result: dict[str, ServiceRegistration] = {}
    for host in selection.hosts:
        number = numbered.get(host.name)
        registration = seen.get(number, ServiceRegistration("unknown", "no sip.number")) if number else \
            ServiceRegistration("unknown", "no sip.number")
        result[host.name] = registration
        device = "-"
        if run is not None and host.name in run.hosts and run.hosts[host.name].registration is not None:
            device = run.hosts[host.name].registration.state
        colour = {"registered": "green", "unregistered": "red", "unknown": "yellow"}[registration.state]
        table.add_row(host.name, escape(number or "-"), device, f"[{colour}]{registration.state}[/]")
    console.print(table)
    registered = sum(r.state == "registered" for r in result.values())
    console.print(f"the service sees {registered} of {len(result)} rooms registered ({requests} requests to "
                  "its API, logins included)")
    return result


# --- shared bits ---------------------------------------------------------------------------------------

def _service_failed(exc: CloudError) -> int:
    output.stderr_console().print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
    return EXIT_UNREACHABLE if isinstance(exc, CloudNetworkError) else EXIT_FAILED


def _write_report(report: Path | None, data: dict[str, Any]) -> None:
    if report is None:
        return
    data["meta"]["finished"] = _now()
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _meta(command: str, selection: Selection, *, check: bool) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("endpoints")
    except PackageNotFoundError:
        tool_version = "unknown"
    return {"tool": "endpoints", "version": tool_version, "command": command, "check": check,
            "limit": selection.limit, "inventory": [str(selection.path)], "started": selection.started,
            "finished": None}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _logging(verbose: int, hosts: Sequence[Host]) -> None:
    """The product's log set-up (secrets of every room masked), as the device commands use it."""
    from endpoints.app import configure_logging

    configure_logging(verbose, list(hosts))
