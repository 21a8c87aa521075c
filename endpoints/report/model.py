"""A run report read defensively: the shape the renderers draw, whatever run wrote the JSON.

A report from an older run may lack `meta`, `groups`, `address`, `service`, `keys`,
`checks`, `restored` or `proxies`, and a hand-edited one may hold a number where text was
expected. The page and the spreadsheet should still come out, so every field is read
through one of the small coercions below and the renderers never touch the raw dict.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints.errors import InputError

MASK = "********"
STATUSES: tuple[str, ...] = ("failed", "unreachable", "changed", "ok", "skipped")  # the order rows are shown in
UNGROUPED = "ungrouped"
# A setting with one of these words in its name holds a secret. Reports mask them already;
# masking again here means a report written by a faulty or older run still shows no password.
_SECRET_SETTING = re.compile(r"passw(or)?d|passphrase|secret|app_?key", re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    setting: str
    before: str | None  # None: nothing could be read (write-only or absent)
    after: str | None
    reason: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: the report did not say
    detail: str = ""
    advice: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class Key:
    kind: str  # ssh | tls
    type: str
    fingerprint: str
    state: str  # new | known | changed
    recorded: bool


@dataclass(frozen=True)
class Terminal:
    """A room's terminal at the meeting service (`cloud terminals`)."""

    sn: str
    name: str
    model: str
    number: str
    status: str


@dataclass(frozen=True)
class Room:
    name: str
    status: str
    groups: tuple[str, ...] = ()
    address: str = ""
    model: str = ""
    software: str = ""
    serial: str = ""
    profile: str = ""
    transport: str = ""
    registration: tuple[str, str] | None = None  # (state, reason)
    service: tuple[str, str] | None = None  # (state, number)
    changes: tuple[Change, ...] = ()
    error: str = ""
    advice: str = ""
    warnings: tuple[str, ...] = ()
    recovered: bool = False
    seconds: float | None = None
    keys: tuple[Key, ...] = ()
    checks: tuple[Check, ...] = ()
    restored: tuple[Change, ...] = ()  # setting and the value written back (as `after`)
    not_restored: tuple[str, ...] = ()
    listed: bool = False  # a `cloud terminals` report: `terminal` says what the service has for this room
    terminal: Terminal | None = None  # None with `listed`: the service has no terminal for it
    number_matches: bool | None = None

    @property
    def group(self) -> str:
        """The building: the most specific group the room belongs to."""
        return self.groups[0] if self.groups else UNGROUPED

    @property
    def rank(self) -> int:
        """Failures first, then changed, ok and skipped; a status this tool does not know last."""
        return STATUSES.index(self.status) if self.status in STATUSES else len(STATUSES)


@dataclass(frozen=True)
class Proxy:
    proxy: str
    rooms: tuple[str, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Run:
    command: str
    check: bool
    interrupted: bool
    limit: str
    inventory: tuple[str, ...]
    started: str
    finished: str
    version: str
    run_dir: str
    rooms: tuple[Room, ...]
    proxies: tuple[Proxy, ...] = ()
    unmatched: tuple[Terminal, ...] = ()  # the service's terminals that no room names
    summary: dict[str, int] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, list[Room]]]:
        """Sections by building (named order, ungrouped last), rooms failures first."""
        by_group: dict[str, list[Room]] = {}
        for room in self.rooms:
            by_group.setdefault(room.group, []).append(room)
        order = sorted(by_group, key=lambda g: (g == UNGROUPED, natural_key(g)))
        return [(g, sorted(by_group[g], key=lambda r: (r.rank, natural_key(r.name)))) for g in order]


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """room-a2 before room-a10: digits compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                 for part in re.split(r"(\d+)", text) if part)


def text(value: Any) -> str:
    """Any JSON value as one line of display text; None and absent read as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _maybe_text(value: Any) -> str | None:
    return None if value is None else text(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _secret(setting: str, value: str | None) -> str | None:
    return MASK if value not in (None, "", MASK) and _SECRET_SETTING.search(setting) else value


def _change(item: Any) -> Change:
    if not isinstance(item, Mapping):
        return Change(setting=text(item), before=None, after=None)
    setting = text(item.get("setting"))
    return Change(setting=setting, before=_secret(setting, _maybe_text(item.get("before"))),
                  after=_secret(setting, _maybe_text(item.get("after"))), reason=text(item.get("reason")))


def _restored(item: Any) -> Change:
    if not isinstance(item, Mapping):
        return Change(setting=text(item), before=None, after=None)
    setting = text(item.get("setting"))
    return Change(setting=setting, before=None, after=_secret(setting, _maybe_text(item.get("value"))))


def _check(item: Any) -> Check:
    if not isinstance(item, Mapping):
        return Check(name=text(item), passed=None)
    data, passed = item, item.get("passed")
    return Check(name=text(data.get("name")),
                 passed=passed if isinstance(passed, bool) else None,
                 detail=text(data.get("detail")), advice=text(data.get("advice")),
                 seconds=_number(data.get("seconds")))


def _key(item: Any) -> Key:
    data = _mapping(item)
    return Key(kind=text(data.get("kind")), type=text(data.get("type")), fingerprint=text(data.get("fingerprint")),
               state=text(data.get("state")), recorded=data.get("recorded") is True)


def _pair(value: Any, first: str, second: str) -> tuple[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return text(value.get(first)) or "unknown", text(value.get(second))


def _terminal(value: Any) -> Terminal | None:
    if not isinstance(value, Mapping):
        return None
    return Terminal(*(text(value.get(k)) for k in ("sn", "name", "model", "number", "status")))


def room_from(name: str, data: Any) -> Room:
    host = _mapping(data)
    return Room(
        name=name,
        status=text(host.get("status")) or "unknown",
        groups=tuple(g for g in (text(g) for g in _items(host.get("groups"))) if g and g != "all"),
        address=text(host.get("address")),
        model=text(host.get("model")),
        software=text(host.get("software")),
        serial=text(host.get("serial")),
        profile=text(host.get("profile")),
        transport=text(host.get("transport")),
        registration=_pair(host.get("registration"), "state", "reason"),
        service=_pair(host.get("service"), "state", "number"),
        changes=tuple(_change(c) for c in _items(host.get("changes"))),
        error=text(host.get("error")),
        advice=text(host.get("advice")),
        warnings=tuple(text(w) for w in _items(host.get("warnings"))),
        recovered=host.get("recovered") is True,
        seconds=_number(host.get("seconds")),
        keys=tuple(_key(k) for k in _items(host.get("keys"))),
        checks=tuple(_check(c) for c in _items(host.get("checks"))),
        restored=tuple(_restored(r) for r in _items(host.get("restored"))),
        not_restored=tuple(text(s) for s in _items(host.get("not_restored"))),
        listed="terminal" in host,
        terminal=_terminal(host.get("terminal")),
        number_matches=host.get("number_matches") if isinstance(host.get("number_matches"), bool) else None,
    )


def run_from(report: Mapping[str, Any]) -> Run:
    """The report as the renderers see it; the totals are counted from the rooms shown."""
    meta = _mapping(report.get("meta"))
    hosts = _mapping(report.get("hosts"))
    rooms = tuple(room_from(text(name), data) for name, data in hosts.items())
    counted = {status: sum(1 for r in rooms if r.status == status) for status in STATUSES}
    for room in rooms:
        if room.rank == len(STATUSES):
            counted[room.status] = counted.get(room.status, 0) + 1
    inventory = meta.get("inventory")
    proxies = tuple(Proxy(proxy=text(_mapping(p).get("proxy")),
                          rooms=tuple(text(r) for r in _items(_mapping(p).get("rooms"))),
                          checks=tuple(_check(c) for c in _items(_mapping(p).get("checks"))))
                    for p in _items(report.get("proxies")))
    return Run(
        command=text(meta.get("command") or report.get("command")) or "run",
        check=(meta.get("check") if "check" in meta else report.get("check")) is True,
        interrupted=report.get("interrupted") is True,
        limit=text(meta.get("limit")),
        inventory=tuple(text(i) for i in _items(inventory)) if isinstance(inventory, list) else
        ((text(inventory),) if inventory else ()),
        started=text(meta.get("started")),
        finished=text(meta.get("finished")),
        version=text(meta.get("version")),
        run_dir=text(meta.get("run_dir")),
        rooms=rooms,
        proxies=proxies,
        unmatched=tuple(t for t in map(_terminal, _items(report.get("unmatched_terminals"))) if t),
        summary=counted,
    )


def load_run(run_dir: Path) -> dict[str, Any]:
    """A past run's report: `<run_dir>/report.json` (or a `--report` file given directly).

    Anything that is not a run report is an InputError naming the file, so
    `endpoints report` fails with one clear line instead of a traceback.
    """
    path = Path(run_dir)
    if path.is_dir():
        path = path / "report.json"
        if not path.is_file():
            raise InputError("no report.json here: not a run folder (run folders are under .endpoints/runs)",
                             file=str(run_dir))
    elif not path.exists():
        raise InputError("no such run folder", file=str(run_dir))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"not a run report: {error.msg}", file=str(path), line=error.lineno) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the run report: {error}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("not a run report: the top level is not an object", file=str(path), line=1)
    if not isinstance(data.get("hosts"), dict):
        raise InputError("not a run report: no `hosts` object", file=str(path), key="hosts")
    return data
