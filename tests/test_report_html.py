"""The HTML report: content, order, grouping, escaping, old reports, and a page that fetches nothing."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from endpoints.report import render_html, write_html

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>&amp;\"'"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


BLOCKS = {"p", "div", "li", "td", "th", "tr", "dt", "dd", "h1", "h2", "label", "legend", "output", "ul", "section"}


class Page(HTMLParser):
    """The page as a parser sees it: elements, attributes, text, and the rooms' rows in order."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.rows: list[dict[str, str | None]] = []
        self.row_names: list[str] = []
        self.columns: list[str] = []
        self._in_row_th = False
        self._in_col_th = False
        self._skip = 0
        self.scripts = 0
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in BLOCKS:
            self.text.append(" ")
        if tag == "script":
            self.scripts += 1
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag == "th" and attributes.get("scope") == "col":
            self._in_col_th = True
            self.columns.append("")
        if tag == "tr" and "room" in (attributes.get("class") or "").split():
            self.rows.append(attributes)
        if tag == "span" and attributes.get("class") == "name" and self.rows:
            self._in_row_th = True
            self.row_names.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "span"):
            self._in_row_th = self._in_col_th = False
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._in_row_th:
            self.row_names[-1] += data
        if self._in_col_th:
            self.columns[-1] += data

    @property
    def words(self) -> str:
        """The text with block elements apart and whitespace runs as one space (like innerText)."""
        return " ".join("".join(self.text).split())

    def group_of(self, room: str) -> str | None:
        return self.rows[self.row_names.index(room)].get("data-group")


def test_the_demo_page_shows_every_room_its_failure_and_advice() -> None:
    page = Page(render_html(fixture("demo-apply")))
    assert sorted(page.row_names) == [f"room-a{i:03d}" for i in range(1, 11)]
    for model in ("SX10", "SX20", "SX80", "Group 550", "HDX 7000", "HDX 8000"):
        assert model in page.words
    assert "endpoints apply report" in page.words
    assert "1 failed" in page.words and "8 changed" in page.words and "1 ok" in page.words
    assert "403 Forbidden" in page.words
    assert "The meeting service refused the SIP account" in page.words
    assert "SIP Proxy 1 Address: (empty) → sip2-ec.huaweicloud.com:5061" in page.words
    assert "unregistered +99111600009" in page.words  # the service's word on the failed room
    assert "CHECK MODE" not in page.words
    assert "ce9.4.0.cd3c4c6" in page.words and "lab/inventory.yaml" in page.words and "0.1.0" in page.words


def test_rooms_are_ordered_failures_first_in_each_building() -> None:
    page = Page(render_html(fixture("campus")))
    statuses = [row["data-status"] for row in page.rows]
    groups = [row["data-group"] for row in page.rows]
    assert groups == ["annex"] * 3 + ["hq"] * 3 + ["ungrouped"]
    assert statuses == ["failed", "changed", "skipped", "unreachable", "changed", "ok", "ok"]
    assert page.row_names[:3] == ["annex-training", "annex-studio", "annex-kiosk"]


def test_a_room_is_filed_under_its_most_specific_group_or_ungrouped() -> None:
    page = Page(render_html(fixture("campus")))
    assert page.group_of("hq-boardroom") == "hq"  # groups: [hq, floor-3]: the first is the building
    assert page.group_of("lobby-screen") == "ungrouped"
    headings = [t for t, a in page.tags if t == "h2"]
    assert len(headings) >= 4  # totals, buildings, then annex, hq, ungrouped
    assert "annex 1 failed, 1 changed, 1 skipped" in page.words
    assert "hq 1 unreachable, 1 changed, 1 ok" in page.words


def test_rooms_with_the_same_status_sort_naturally() -> None:
    report = {"hosts": {name: {"status": "ok"} for name in ("room-10", "room-2", "room-1")}}
    assert Page(render_html(report)).row_names == ["room-1", "room-2", "room-10"]


def test_totals_are_words_and_icons_not_colour_alone() -> None:
    page = Page(render_html(fixture("campus")))
    for words in ("1 failed", "1 unreachable", "2 changed", "2 ok", "1 skipped"):
        assert words in page.words
    for badge in ("✗ FAILED", "⚠ UNREACHABLE", "✎ CHANGED", "✓ OK", "○ SKIPPED"):
        assert badge in page.words
    assert "✓ registered" in page.words and "✗ failed 408 Request Timeout" in page.words


def test_a_check_run_carries_a_visible_banner_and_says_would_change() -> None:
    report = fixture("demo-apply")
    report["meta"]["check"] = True
    page = Page(render_html(report))
    assert "CHECK MODE: nothing was written to any room" in page.words
    assert "endpoints apply --check" in page.words
    assert "Would change" in page.columns and "Changes" not in page.columns
    old_style = {"command": "apply", "check": True, "hosts": {"r": {"status": "changed"}}}  # no meta
    assert "CHECK MODE" in Page(render_html(old_style)).words


def test_an_interrupted_run_says_so() -> None:
    report = fixture("campus")
    report["interrupted"] = True
    assert "INTERRUPTED: the run was stopped" in Page(render_html(report)).words


def test_untrusted_text_is_escaped_in_every_field() -> None:
    room = "a&b<c>\"d'e"
    report = {
        "meta": {"command": EVIL, "limit": EVIL, "inventory": [EVIL], "started": EVIL, "finished": EVIL,
                 "version": EVIL, "run_dir": EVIL},
        "command": EVIL,
        "hosts": {room: {
            "status": EVIL, "model": EVIL, "software": EVIL, "profile": EVIL, "transport": EVIL,
            "address": EVIL, "groups": [EVIL], "serial": EVIL,
            "changes": [{"setting": EVIL, "before": EVIL, "after": EVIL, "reason": EVIL}],
            "registration": {"state": EVIL, "reason": EVIL}, "service": {"state": EVIL, "number": EVIL},
            "keys": [{"kind": EVIL, "type": EVIL, "fingerprint": EVIL, "state": EVIL, "recorded": True}],
            "checks": [{"name": EVIL, "passed": False, "detail": EVIL, "advice": EVIL, "seconds": 1}],
            "restored": [{"setting": EVIL, "value": EVIL}], "not_restored": [EVIL],
            "terminal": {k: EVIL for k in ("sn", "name", "model", "number", "status")}, "number_matches": False,
            "error": EVIL, "advice": EVIL, "warnings": [EVIL]},
                  "ok-room": {"status": "ok", "error": "<script>document.title='owned'</script>"}},
        "proxies": [{"proxy": EVIL, "rooms": [EVIL], "checks": [{"name": EVIL, "passed": True, "detail": EVIL}]}],
        "unmatched_terminals": [{k: EVIL for k in ("sn", "name", "model", "number", "status")}],
    }
    source = render_html(report)
    page = Page(source)
    assert page.scripts == 1  # only the page's own
    assert not [t for t, a in page.tags if t == "img" or any(k.startswith("on") for k in a)]
    assert "<script>alert" not in source and "<img" not in source
    assert room in page.row_names  # the name survives, as text
    assert page.words.count("<script>alert('x')</script>") >= 30  # shown to the reader as the words they are
    assert "<script>document.title='owned'</script>" in page.words


def test_secret_settings_never_show_a_value_even_if_a_report_carries_one() -> None:
    report = {"hosts": {"r": {"status": "changed", "changes": [
        {"setting": "SIP Authentication Password", "before": "old-secret", "after": "new-secret"},
        {"setting": "sippassword", "before": "", "after": "hunter2"},
        {"setting": "SIP Proxy 1 Address", "before": "", "after": "sip2-ec.huaweicloud.com:5061"}]}}}
    source = render_html(report)
    assert "old-secret" not in source and "new-secret" not in source and "hunter2" not in source
    assert "sippassword: (empty) → ********" in Page(source).words
    assert "sip2-ec.huaweicloud.com:5061" in source


@pytest.mark.parametrize("report", [
    {"hosts": {}},
    {"hosts": {"r": {}}},
    {"hosts": {"r": None, "s": "junk", "t": {"status": 3, "changes": "x", "groups": "hq", "registration": "up",
                                               "checks": [1, None], "keys": [None], "seconds": "fast"}}},
    {"meta": "junk", "hosts": {"r": {"status": "ok"}}, "proxies": [None, {"checks": None}]},
], ids=["no-rooms", "empty-room", "wrong-types", "junk-meta"])
def test_reports_of_any_shape_render(report: dict[str, Any]) -> None:
    page = Page(render_html(report))
    assert page.rows or "This report holds no rooms." in page.words


def test_a_report_from_an_older_run_renders_without_meta_groups_or_address() -> None:
    old = fixture("demo-apply-v1")
    assert "meta" not in old and all("groups" not in h and "address" not in h for h in old["hosts"].values())
    page = Page(render_html(old))
    assert len(page.row_names) == 10 and {r["data-group"] for r in page.rows} == {"ungrouped"}
    assert page.rows[0]["data-status"] == "failed"
    assert "endpoints apply report" in page.words
    assert "Service" not in page.columns  # no column of dashes
    assert "Registration" in page.columns and "Changes" in page.columns


def test_trust_shows_each_key_and_its_state() -> None:
    page = Page(render_html(fixture("trust")))
    assert "Keys" in page.columns
    assert "★ NEW, recorded SSH ssh-ed25519 SHA256:3bq0Zf2Xh7oN1nq7rJtQ1s1Kk9v0y9m0iN2c4a5mR0E" in page.words
    assert "✗ CHANGED TLS x509" in page.words and "✓ KNOWN SSH ssh-rsa" in page.words
    assert "Changes" not in page.columns and "Registration" not in page.columns  # trust changes, reads nothing


def test_doctor_shows_each_proxy_and_each_rooms_checks() -> None:
    page = Page(render_html(fixture("doctor")))
    assert "Outbound proxies" in page.words and "sip2-ec.huaweicloud.com:5061" in page.words
    assert "✗ FAIL tls: certificate verify failed" in page.words
    assert "Advice: This host does not trust the proxy's certificate" in page.words
    assert "✓ PASS dns: 127.0.0.53 (0.01 s)" in page.words and "? UNKNOWN sip-options" in page.words
    assert "✗ FAIL clock: the room's clock is 3 hours behind" in page.words
    assert "✗ FAIL sip2-ec.huaweicloud.com:5061 2 hq-huddle-2, annex-training" in page.words


def test_rollback_shows_what_was_restored_and_what_could_not_be() -> None:
    page = Page(render_html(fixture("rollback")))
    assert "Restored SIP Profile 1 Proxy 1 Address = vcs.corp.example:5060" in page.words
    assert "Not restored (cannot be read back) SIP Profile 1 Authentication 1 Password" in page.words
    assert "✗ failed 404 Not Found" in page.words  # registration afterwards, the user's choice


def test_cloud_terminals_shows_each_rooms_terminal_and_the_ones_no_room_names() -> None:
    page = Page(render_html(fixture("terminals")))
    assert "Terminal at the service" in page.columns
    assert "Huddle 2 SN FTT2000LAB SX10 · +99111600099 · offline Warning: its number differs" in page.words
    assert "hq-huddle-10 127.0.0.23 Group 310 none at the service" in page.words
    assert "Terminals at the service that no room names" in page.words
    assert "8210S1-LOBBY old lobby Group 500 +99111600050 offline" in page.words


def test_the_page_is_self_contained_and_its_policy_admits_only_its_own_script_and_style() -> None:
    source = render_html(fixture("demo-apply"))
    page = Page(source)
    for tag, attributes in page.tags:
        for name in ("src", "href", "action"):
            value = attributes.get(name) or ""
            assert not value or value.startswith(("#", "data:")), (tag, name, value)
    assert not re.search(r"https?://|@import|url\(", re.sub(r"<main>.*</main>", "", source, flags=re.S))
    policy = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert policy and "default-src 'none'" in policy
    for kind in ("script", "style"):
        body = re.search(rf"<{kind}>(.*?)</{kind}>", source, flags=re.S)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in policy


def test_the_page_is_accessible_and_prints() -> None:
    source = render_html(fixture("campus"))
    page = Page(source)
    assert ("html", {"lang": "en"}) in page.tags
    inputs = [a for t, a in page.tags if t == "input"]
    labelled = {a.get("for") for t, a in page.tags if t == "label"}
    assert inputs and all(a.get("id") in labelled or a.get("type") == "checkbox" for a in inputs)
    assert any(t == "fieldset" for t, _ in page.tags) and any(t == "legend" for t, _ in page.tags)
    assert [a.get("scope") for t, a in page.tags if t == "th"].count("row") == len(page.rows)
    assert all(a.get("scope") in ("row", "col") for t, a in page.tags if t == "th")
    filters = next(a for t, a in page.tags if a.get("id") == "filters")
    assert "hidden" in filters  # without the script: no dead controls, every row shown
    print_css = source[source.index("@media print"):]
    assert ".controls" in print_css and "break-inside:avoid" in print_css and "background:none" in print_css
    assert "@media screen{.filtered-out{display:none}}" in source  # a filtered row still prints


def test_the_report_dict_is_not_changed_and_write_html_writes_utf8(tmp_path: Path) -> None:
    report = fixture("campus")
    report["hosts"]["annex-studio"]["error"] = "Zürich – 会议室"
    before = copy.deepcopy(report)
    target = tmp_path / "out" / "report.html"
    write_html(report, target)
    assert report == before
    assert "Zürich – 会议室" in target.read_bytes().decode("utf-8")
