"""`load_run`: a past run's report, or one clear InputError naming the file."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from endpoints.errors import InputError
from endpoints.report import load_run, write_csv, write_html

DEMO = Path(__file__).parent / "fixtures" / "reports" / "demo-apply.json"


def test_a_run_folder_and_a_report_file_both_load(tmp_path: Path) -> None:
    folder = tmp_path / "20261201-101710-425-apply"
    folder.mkdir()
    shutil.copy(DEMO, folder / "report.json")
    report = load_run(folder)
    assert report == json.loads(DEMO.read_text()) and len(report["hosts"]) == 10
    assert load_run(folder / "report.json") == report  # a --report FILE works too


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such run folder"),
    ("", "no report.json here: not a run folder"),
    ('{"hosts": {"a": 1},\n  oops}', ":2: not a run report: Expecting property name"),
    ("[1, 2]", ":1: not a run report: the top level is not an object"),
    ('{"command": "apply"}', "key 'hosts': not a run report: no `hosts` object"),
    (b"\xff\xfe", "cannot read the run report"),
], ids=["missing", "empty-folder", "bad-json", "not-an-object", "no-hosts", "not-utf8"])
def test_what_is_not_a_run_report_is_an_input_error_naming_the_file(tmp_path: Path, content: str | bytes | None,
                                                                     words: str) -> None:
    folder = tmp_path / "run"
    if content is not None:
        folder.mkdir()
        if content:
            target = folder / "report.json"
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as caught:
        load_run(folder)
    assert str(folder) in str(caught.value) and words in str(caught.value)


def test_a_report_file_that_cannot_be_written_is_an_input_error(tmp_path: Path) -> None:
    report = json.loads(DEMO.read_text())
    (tmp_path / "taken").write_text("a file, not a folder")
    for write in (write_html, write_csv):
        with pytest.raises(InputError) as caught:
            write(report, tmp_path / "taken" / "out")
        assert str(tmp_path / "taken" / "out") in str(caught.value) and "cannot write the report" in str(caught.value)
