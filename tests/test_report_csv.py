"""The spreadsheet: one row per room, RFC 4180, and no cell a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from endpoints.report import render_csv, write_csv
from endpoints.report.csv import HEADER, safe

FIXTURES = Path(__file__).parent / "fixtures" / "reports"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_room_with_every_column() -> None:
    text = render_csv(fixture("demo-apply"))
    assert text.splitlines()[0] == ",".join(HEADER)
    assert HEADER == ("room", "group", "address", "status", "model", "software", "profile", "transport",
                      "registration", "registration reason", "service", "number", "changes", "changed settings",
                      "error", "advice", "seconds")
    table = rows(text)
    assert len(table) == 10 and table[0]["room"] == "room-a010"  # failures first, as on the page
    failed = table[0]
    assert failed["status"] == "failed" and failed["group"] == "building-a" and failed["address"] == "127.0.0.1"
    assert failed["registration"] == "failed" and failed["registration reason"] == "403 Forbidden"
    assert failed["service"] == "unregistered" and failed["number"] == "'+99111600009"
    assert failed["changes"] == "7" and failed["changed settings"].split("; ")[0] == "SIP URI"
    assert "SIP Authentication Password" in failed["changed settings"]
    assert failed["advice"].startswith("The meeting service refused the SIP account")
    assert failed["seconds"] == "1.230" and failed["model"] == "SX20" and failed["profile"] == "cisco-ce"
    ok = next(r for r in table if r["status"] == "ok")
    assert ok["room"] == "room-a007" and ok["changes"] == "0" and ok["changed settings"] == "" and ok["error"] == ""
    assert "********" not in text  # setting names only, never values


def test_rfc4180_crlf_quotes_and_line_breaks_survive_a_round_trip() -> None:
    error = 'device said "no", then\nhung up, twice'
    text = render_csv({"hosts": {"r, 1": {"status": "failed", "error": error, "groups": ["hq"]}}})
    assert text.endswith("\r\n") and text.count("\r\n") == 2  # header and one record (the break is inside quotes)
    assert '"device said ""no"", then\nhung up, twice"' in text
    (row,) = rows(text)
    assert row["room"] == "r, 1" and row["error"] == error


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_a_cell_that_would_run_as_a_formula_is_made_text(cell: str) -> None:
    report = {"hosts": {cell: {"status": "failed", "model": cell, "error": cell, "advice": cell, "groups": [cell],
                               "registration": {"state": "failed", "reason": cell}}}}
    (row,) = rows(render_csv(report))
    for column in ("room", "group", "model", "registration reason", "error", "advice"):
        assert row[column] == "'" + cell, column


def test_sip_numbers_read_as_written_and_plain_text_is_untouched() -> None:
    assert safe("+99111612345") == "'+99111612345"  # a spreadsheet would show 9.91116E+10 otherwise
    assert safe("room-a001") == "room-a001" and safe("") == "" and safe("a=b") == "a=b"


def test_a_report_from_an_older_run_and_one_of_odd_shapes_still_make_a_sheet() -> None:
    table = rows(render_csv(fixture("demo-apply-v1")))
    assert len(table) == 10 and {r["group"] for r in table} == {"ungrouped"} and {r["address"] for r in table} == {""}
    assert {r["service"] for r in table} == {""}
    odd = rows(render_csv({"hosts": {"r": None, "s": {"status": 3, "changes": "x", "seconds": "fast"}}}))
    assert [r["room"] for r in odd] == ["r", "s"] and odd[1]["seconds"] == "" and odd[0]["status"] == "unknown"
    assert render_csv({"hosts": {}}) == ",".join(HEADER) + "\r\n"


def test_the_number_column_takes_the_terminals_number_from_cloud_terminals() -> None:
    table = {r["room"]: r for r in rows(render_csv(fixture("terminals")))}
    assert table["hq-huddle-2"]["number"] == "'+99111600099" and table["hq-huddle-10"]["number"] == ""


def test_write_csv_writes_utf8_with_a_byte_order_mark_for_spreadsheets(tmp_path: Path) -> None:
    report = {"hosts": {"Zürich-会议室": {"status": "ok", "groups": ["hq"]}}}
    target = tmp_path / "sheets" / "run.csv"
    write_csv(report, target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    (row,) = rows(data.decode("utf-8-sig"))
    assert row["room"] == "Zürich-会议室"
