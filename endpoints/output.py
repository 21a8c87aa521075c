"""What a person sees: each room's verdict as it comes in, then a recap (as Ansible prints).

On a terminal a live counter sits below the streamed lines; on a log or a pipe, the
streamed lines are the progress (and a counter line every few seconds while rooms wait).
`NO_COLOR` and `TERM=dumb` give plain text: no colours, no carriage returns, no escapes.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from endpoints.core.processor import Processor
from endpoints.results import HostResult, RunResult
from endpoints.secrets import MASK

if TYPE_CHECKING:
    from endpoints.core.room import Room

STYLE = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "magenta", "skipped": "dim"}


def plain_output() -> bool:
    """The user asked for text without colours or cursor tricks."""
    return "NO_COLOR" in os.environ or os.environ.get("TERM", "") == "dumb"


def console(file: object = None) -> Console:
    plain = plain_output()
    return Console(file=file or sys.stdout, highlight=False, soft_wrap=True,  # type: ignore[arg-type]
                   no_color=plain, color_system=None if plain else "auto", force_terminal=False if plain else None)


def stderr_console() -> Console:
    return console(sys.stderr)


def rooms(count: int) -> str:
    return f"{count} room{'' if count == 1 else 's'}"


class LiveOutput(Processor):
    """Streams each room's verdict (and its details) the moment it is in; keeps a counter."""

    EVERY = 10.0  # seconds between counter lines on a log

    def __init__(self, out: Console, err: Console, command: str, *, diff: bool = False, facts: bool = False) -> None:
        self.out, self.err, self.command, self.diff, self.facts = out, err, command, diff, facts
        self.live = err.is_terminal and not plain_output()
        self.total = self.done = self.failures = 0
        self._lock = threading.Lock()
        self._last_line = time.monotonic()

    def run_started(self, command: str, rooms_: Sequence[Room]) -> None:
        self.total = len(rooms_)

    def room_done(self, room: Room) -> None:
        with self._lock:
            self.done += 1
            if room.result.status in ("failed", "unreachable"):
                self.failures += 1
            self._clear()
            for line in room_lines(room.result, diff=self.diff, facts=self.facts):
                self.out.print(line, highlight=False)
            self.out.file.flush()  # a log or a pipe sees each room as it finishes
            self._counter()

    def room_event(self, room: Room, event: str, fields: object) -> None:
        if not self.live and time.monotonic() - self._last_line >= self.EVERY:
            with self._lock:
                self._counter(force=True)

    def _counter(self, force: bool = False) -> None:
        line = f"{self.command}: {self.done}/{rooms(self.total)} done, {self.failures} not ok"
        if self.live:
            self.err.file.write(f"\r{line}\x1b[K")
            self.err.file.flush()
        elif force:
            self.err.print(line, highlight=False)
            self._last_line = time.monotonic()

    def _clear(self) -> None:
        if self.live:
            self.err.file.write("\r\x1b[K")
            self.err.file.flush()

    def close(self) -> None:
        with self._lock:
            self._clear()


def room_lines(result: HostResult, *, diff: bool, facts: bool) -> list[str]:
    lines = [host_line(result)]
    if facts:
        lines += [f"    {escape(setting)}: {escape(str(value))}" for setting, value in result.settings.items()]
    for key in result.keys:
        mark = {"new": "new", "known": "known", "changed": "CHANGED"}[key["state"]]
        recorded = " (recorded)" if key["recorded"] else ""
        lines.append(f"    {key['kind']}: {escape(key['type'])} {escape(key['fingerprint'])}  {mark}{recorded}")
    for check in result.checks:
        mark = "passed" if check["passed"] else "skipped" if check.get("skipped") else "FAILED"
        lines.append(f"    {escape(check['name'])}: {mark}  {escape(str(check.get('detail', '')))}")
    lines += [change_line(change.to_json(), diff) for change in result.changes]
    lines += [f"    restored {escape(r['setting'])} -> {escape(repr(r['value']))}" for r in result.restored]
    lines += [f"    not restored (a password cannot be read back): {escape(s)}" for s in result.not_restored]
    lines += [f"    [dim]note: {escape(w)}[/]" for w in result.warnings if w != result.advice]
    if result.advice:
        lines.append(f"    [bold]advice:[/] {escape(result.advice)}")
    return lines


def host_line(result: HostResult) -> str:
    style = STYLE[result.status]
    parts = [f"[{style}]{result.status:<11}[/]", f"{escape(result.name)}"]
    ident = " ".join(p for p in (result.model, result.software) if p)
    if ident:
        parts.append(f"[dim]{escape(ident)}[/]")
    if result.registration is not None:
        reg = result.registration.state
        reason = f" ({result.registration.reason})" if result.registration.reason and reg != "registered" else ""
        parts.append(f"sip: {escape(reg + reason)}")
    if result.service is not None:
        parts.append(f"service: {escape(str(result.service.get('state')))}")
    if result.changes:
        parts.append(f"{len(result.changes)} change{'s' if len(result.changes) > 1 else ''}")
    if result.error:
        parts.append(f"[{style}]{escape(result.error)}[/]")
    return "  ".join(parts)


def change_line(change: dict[str, object], diff: bool) -> str:
    setting = escape(str(change["setting"]))
    if change.get("reason"):
        return f"    ~ {setting}: {MASK} (write-only, sent because {escape(str(change['reason']))})"
    if not diff:
        after = change["after"]
        return f"    ~ {setting}" + ("" if after == MASK else f" -> {escape(repr(after))}")
    return f"    ~ {setting}: {escape(repr(change['before']))} -> {escape(repr(change['after']))}"


def totals_line(run: RunResult) -> str:
    counts = run.summary()
    text = "  ".join(f"[{STYLE[k]}]{k}={v}[/]" for k, v in counts.items())
    check = "  [yellow](check mode: nothing was changed)[/]" if run.check else ""
    interrupted = "  [red](interrupted)[/]" if run.interrupted else ""
    return f"{run.command}: {rooms(len(run.hosts))}  {text}{check}{interrupted}"


def check_banner(command: str) -> str:
    return f"[bold yellow]CHECK MODE[/]: {command} reads every room and changes nothing"
