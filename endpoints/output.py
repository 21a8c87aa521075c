"""What a person sees: a live progress line, one line per room, changes, totals."""
from __future__ import annotations

import sys
import threading

from rich.console import Console
from rich.markup import escape

from endpoints.results import HostResult, RunResult
from endpoints.secrets import MASK

STYLE = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "magenta", "skipped": "dim"}


class Progress:
    """A one-line live counter on a terminal (rooms done / total, failures so far)."""

    def __init__(self, console: Console, command: str) -> None:
        self.console, self.command = console, command
        self.failures = 0
        self._lock = threading.Lock()
        self.live = console.is_terminal
        self._tenths = 0

    def __call__(self, result: HostResult, done: int, total: int) -> None:
        with self._lock:
            if result.status in ("failed", "unreachable"):
                self.failures += 1
            line = f"{self.command}: {done}/{total} rooms done, {self.failures} not ok"
            if self.live:
                self.console.file.write(f"\r{line}\x1b[K")
                self.console.file.flush()
            elif total >= 20 and done * 10 // total > self._tenths:  # a log file gets every tenth
                self._tenths = done * 10 // total
                self.console.file.write(line + "\n")
                self.console.file.flush()

    def close(self) -> None:
        if self.live:
            self.console.file.write("\r\x1b[K")
            self.console.file.flush()


def show(console: Console, run: RunResult, *, diff: bool, facts: bool) -> None:
    for result in run.hosts.values():
        console.print(host_line(result), highlight=False)
        if facts:
            for setting, value in result.settings.items():
                console.print(f"    {escape(setting)}: {escape(str(value))}", highlight=False)
        for change in result.changes:
            console.print(change_line(change.to_json(), diff), highlight=False)
        for warning in result.warnings:
            if warning != result.advice:
                console.print(f"    [dim]note: {escape(warning)}[/]", highlight=False)
        if result.advice:
            console.print(f"    [bold]advice:[/] {escape(result.advice)}", highlight=False)
    console.print(totals_line(run), highlight=False)


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
    return f"{run.command}: {len(run.hosts)} rooms  {text}" + ("  [red](interrupted)[/]" if run.interrupted else "")


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)
