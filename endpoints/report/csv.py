"""The run report as a spreadsheet: one row per room, RFC 4180, UTF-8, a header row.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return) as a formula, and room names, device errors and reasons are untrusted text. Such
a cell is written with a leading `'` (the OWASP advice), which every spreadsheet shows as
text. SIP numbers (`+99111612345`) get the same prefix on purpose: without it a
spreadsheet turns the number into 99111612345, drops the `+` and shows 9.91116E+10; with
it the number reads as written. A script that wants the raw values reads report.json.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from endpoints.report.model import Room, run_from

HEADER = ("room", "group", "address", "status", "model", "software", "profile", "transport", "registration",
          "registration reason", "service", "number", "changes", "changed settings", "error", "advice", "seconds")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: Mapping[str, Any]) -> str:
    """One row per room in the page's order (building, then failures first); `\\r\\n` line ends."""
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n")
    writer.writerow(HEADER)
    for _, rooms in run_from(report).groups():
        writer.writerows([safe(cell) for cell in _row(room)] for room in rooms)
    return out.getvalue()


def safe(cell: str) -> str:
    """The cell as text a spreadsheet will not run."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _row(room: Room) -> list[str]:
    registration, reason = room.registration or ("", "")
    service, number = room.service or ("", "")
    number = number or (room.terminal.number if room.terminal else "")
    return [room.name, room.group, room.address, room.status, room.model, room.software, room.profile,
            room.transport, registration, reason, service, number, str(len(room.changes)),
            "; ".join(c.setting for c in room.changes), room.error, room.advice,
            "" if room.seconds is None else f"{room.seconds:.3f}"]
