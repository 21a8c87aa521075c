"""The doctor's table: one row per check, grouped by proxy, advice under each failure."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from endpoints.doctor.model import Check, ProxyReport

STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}
ROOMS_SHOWN = 6


def render(console: Console, reports: Sequence[ProxyReport], room_checks: Iterable[tuple[str, Check]] = ()) -> None:
    """Print the proxies' checks (and, when given, per-room checks as (room, check) pairs)."""
    if not console.is_terminal:
        console.width = max(console.width, 160)
    table = Table("proxy", "check", "result", "seconds", "detail", box=None, pad_edge=False)
    for report in reports:
        labels = [Text(str(report.proxy), style="bold"), Text(_rooms(report.rooms), style="dim")]
        for index, check in enumerate(report.checks):
            table.add_row(labels[index] if index < len(labels) else "", *_cells(check))
        table.add_section()
    console.print(table)
    rooms = list(room_checks)
    if rooms:
        per_room = Table("room", "check", "result", "seconds", "detail", box=None, pad_edge=False)
        for room, check in rooms:
            per_room.add_row(room, *_cells(check))
        console.print(per_room)
    console.print(summary(reports, [check for _, check in rooms]))


def _cells(check: Check) -> tuple[str, Text, str, Text]:
    detail = Text(check.detail)
    if check.advice:
        detail.append(f"\n→ {check.advice}", style="dim" if check.passed else "bold")
    return check.name, Text(check.verdict, style=STYLE[check.verdict]), f"{check.seconds:.2f}", detail


def _rooms(rooms: Sequence[str]) -> str:
    shown = ", ".join(rooms[:ROOMS_SHOWN])
    more = f" (+{len(rooms) - ROOMS_SHOWN})" if len(rooms) > ROOMS_SHOWN else ""
    return f"{len(rooms)} room(s): {shown}{more}"


def summary(reports: Sequence[ProxyReport], room_checks: Sequence[Check] = ()) -> str:
    checks = [c for r in reports for c in r.checks] + list(room_checks)
    counts = {verdict: sum(c.verdict == verdict for c in checks) for verdict in ("passed", "failed", "skipped")}
    return (f"doctor: {len(reports)} proxy(ies), {len(checks)} checks: {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['skipped']} skipped")
