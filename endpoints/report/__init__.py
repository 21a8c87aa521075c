"""Reports people read: a run's report.json as one HTML page and as a spreadsheet (CSV).

`render_html` and `render_csv` take the run report dict (the `--report` JSON shape, of
any age); `write_html` and `write_csv` put them in a file; `load_run` reads a past run's
folder for `endpoints report RUN_DIR`.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from endpoints.errors import InputError
from endpoints.report.csv import render_csv
from endpoints.report.html import render_html
from endpoints.report.model import load_run

__all__ = ["load_run", "render_csv", "render_html", "write_csv", "write_html"]


def write_html(report: Mapping[str, Any], path: Path) -> None:
    """The page, UTF-8 (it says so in its own <meta charset>)."""
    _write(path, render_html(report).encode("utf-8"))


def write_csv(report: Mapping[str, Any], path: Path) -> None:
    """The spreadsheet, UTF-8 with a byte-order mark: without it Excel reads a non-ASCII
    room name as mojibake; Python reads it back with encoding="utf-8-sig"."""
    _write(path, render_csv(report).encode("utf-8-sig"))


def _write(path: Path, data: bytes) -> None:
    """A folder or file that cannot be written is the user's option gone wrong: one clear line."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as error:
        raise InputError(f"cannot write the report: {error.strerror or error}", file=str(path)) from None
