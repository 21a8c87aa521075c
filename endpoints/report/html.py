"""The run report as one HTML page people read: per building, failures first, filterable, printable.

One self-contained file (inline CSS and script, no fetches) so it can be mailed, attached
to a ticket or opened from a share years later. Room names, device words and errors are
untrusted: every value goes through `_e` (html.escape), and a Content-Security-Policy
that admits only this page's own script and style (by hash) and no network means a
value that slipped through still could not run or phone home.

Plain functions build the markup, one per section, instead of a template engine: the
page is small, the escaping lives in one place, and the package needs no new dependency.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from endpoints.report.model import STATUSES, Change, Check, Key, Proxy, Room, Run, Terminal, run_from

# Status words with an icon, so the page reads the same printed in black and white.
ICONS = {"failed": "✗", "unreachable": "⚠", "changed": "✎", "ok": "✓", "skipped": "○"}
REGISTRATION_ICONS = {"registered": "✓", "registering": "…", "failed": "✗", "unregistered": "○"}
KEY_ICONS = {"known": "✓", "new": "★", "changed": "✗"}
CHANGING = ("plan", "apply", "recover", "rollback")  # commands whose rows are about changes


def _e(value: object) -> str:
    """The one escape: every untrusted value passes here on its way into the page."""
    return html.escape(str(value), quote=True)


def render_html(report: Mapping[str, Any]) -> str:
    """One self-contained page from a run report dict (any age of the report's shape)."""
    return _page(run_from(report))


# -- the page -------------------------------------------------------------------------------


def _page(run: Run) -> str:
    columns = _columns(run)
    groups = run.groups()
    body = "\n".join(part for part in (
        _header(run),
        _banners(run),
        _totals(run),
        _controls(run),
        _nav(groups),
        _proxies(run.proxies),
        *(_group(index, name, rooms, columns) for index, (name, rooms) in enumerate(groups, 1)),
        _unmatched(run.unmatched),
        _empty(run),
    ) if part)
    policy = (f"default-src 'none'; img-src data:; style-src '{_hash(CSS)}'; script-src '{_hash(SCRIPT)}'; "
              "base-uri 'none'; form-action 'none'")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">
<meta name="generator" content="endpoints {_e(run.version)}">
<link rel="icon" href="data:,">
<title>{_e(_title(run))}</title>
<style>{CSS}</style>
</head>
<body>
<main>
{body}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _hash(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")


def _title(run: Run) -> str:
    flags = " --check" if run.check else ""
    when = f" ({_when(run.started)})" if run.started else ""
    return f"endpoints {run.command}{flags}: {_counts_text(run.summary)}{when}"


def _header(run: Run) -> str:
    facts = [("Command", f"endpoints {run.command}" + (" --check" if run.check else "")),
             ("Limit", run.limit or "all rooms"),
             ("Inventory", ", ".join(run.inventory)),
             ("Started", _when(run.started)),
             ("Finished", _when(run.finished)),
             ("Took", _took(run.started, run.finished)),
             ("Tool", f"endpoints {run.version}" if run.version else ""),
             ("Run folder", run.run_dir)]
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts if v)
    return f'<header>\n<h1>endpoints {_e(run.command)} report</h1>\n<dl class="meta">{items}</dl>\n</header>'


def _banners(run: Run) -> str:
    banners = []
    if run.check:
        banners.append('<p class="banner check" role="note"><strong>CHECK MODE</strong>: nothing was written '
                       "to any room; the changes shown are what the run would have written.</p>")
    if run.interrupted:
        banners.append('<p class="banner stop" role="note"><strong>INTERRUPTED</strong>: the run was stopped '
                       "before every room finished; rooms it did not reach are skipped.</p>")
    return "\n".join(banners)


def _totals(run: Run) -> str:
    items = "".join(
        f'<li class="total st-{_e(status)}{"" if count else " zero"}">{_icon(ICONS.get(status, "?"))}'
        f"<strong>{count}</strong> {_e(status)}</li>"
        for status, count in run.summary.items() if count or status in STATUSES)
    return (f'<section class="totals" aria-labelledby="totals-h">\n<h2 id="totals-h">Totals: '
            f'{len(run.rooms)} room{"" if len(run.rooms) == 1 else "s"}</h2>\n<ul>{items}</ul>\n</section>')


def _controls(run: Run) -> str:
    """Shown by the script only: without it, the page shows every row and no dead controls."""
    if not run.rooms:
        return ""
    statuses = [s for s, count in run.summary.items() if count]
    boxes = "".join(f'<label class="st-{_e(s)}"><input type="checkbox" name="status" value="{_e(s)}" checked> '
                    f"{_icon(ICONS.get(s, '?'))}{_e(s)}</label>" for s in statuses)
    return (f'<div id="filters" class="controls" role="search" hidden>\n'
            f'<label for="filter-text">Filter rooms</label> '
            f'<input id="filter-text" type="search" placeholder="room, model, status, error…" autocomplete="off">\n'
            f'<fieldset><legend>Status</legend>{boxes}</fieldset>\n'
            f'<output id="shown" aria-live="polite"></output>\n</div>')


def _nav(groups: Sequence[tuple[str, Sequence[Room]]]) -> str:
    if len(groups) < 2:
        return ""
    links = "".join(f'<li><a href="#g{index}">{_e(name)}</a> ({_e(_counts_text(_count(rooms)))})</li>'
                    for index, (name, rooms) in enumerate(groups, 1))
    return f'<nav aria-label="Buildings"><h2>Buildings</h2><ul>{links}</ul></nav>'


def _empty(run: Run) -> str:
    return "" if run.rooms else '<p class="none">This report holds no rooms.</p>'


# -- one section per building ---------------------------------------------------------------

Cell = Callable[[Room], str]


@dataclass(frozen=True)
class Column:
    title: str
    cell: Cell
    kind: str = ""  # a CSS class: `list` (changes, keys, checks) gets the most width, `text` the next


def _columns(run: Run) -> list[Column]:
    """The columns this report has data for: trust, doctor and rollback add their own."""
    rooms = run.rooms
    facts = [(Column("Model and software", _model), any(r.model or r.software or r.transport for r in rooms)),
             (Column("Registration", _registration), any(r.registration for r in rooms)),
             (Column("Service", _service), any(r.service for r in rooms))]
    columns = [column for column, shown in facts if shown]  # a column no room has data for says nothing
    if run.command in CHANGING or any(r.changes for r in rooms):
        columns.append(Column("Would change" if run.check or run.command == "plan" else "Changes", _changes, "list"))
    if run.command == "rollback" or any(r.restored or r.not_restored for r in rooms):
        columns.append(Column("Rolled back", _rollback, "list"))
    if any(r.listed for r in rooms):
        columns.append(Column("Terminal at the service", _terminal_cell))
    if any(r.keys for r in rooms):
        columns.append(Column("Keys", _keys, "list"))
    if any(r.checks for r in rooms):
        columns.append(Column("Checks", lambda r: _checks(r.checks), "list"))
    columns.append(Column("Error and advice", _problem, "text"))
    return columns


def _group(index: int, name: str, rooms: Sequence[Room], columns: Sequence[Column]) -> str:
    heads = "".join(f'<th scope="col">{_e(column.title)}</th>' for column in columns)
    rows = "\n".join(_row(name, room, columns) for room in rooms)
    return (f'<section class="group" aria-labelledby="g{index}">\n'
            f'<h2 id="g{index}">{_e(name)} <span class="counts">{_e(_counts_text(_count(rooms)))}</span></h2>\n'
            f'<div class="scroll"><table>\n<thead><tr><th scope="col">Status</th><th scope="col">Room</th>{heads}'
            f"</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table></div>\n</section>")


def _row(group: str, room: Room, columns: Sequence[Column]) -> str:
    cells = "".join(f'<td class="{column.kind}">{column.cell(room)}</td>' if column.kind else
                    f"<td>{column.cell(room)}</td>" for column in columns)
    status = _e(room.status)
    address = f'<div class="sub">{_e(room.address)}</div>' if room.address else ""
    return (f'<tr class="room st-{status}" data-status="{status}" data-group="{_e(group)}">'
            f'<td><span class="badge st-{status}">{_icon(ICONS.get(room.status, "?"))}{_e(room.status.upper())}</span></td>'
            f'<th scope="row"><span class="name">{_e(room.name)}</span>{address}</th>{cells}</tr>')


def _model(room: Room) -> str:
    """Model, then its software and how this tool drove it: one cell, so the changes get the width."""
    model = f'<span class="nowrap">{_e(room.model)}</span>' if room.model else _none()
    software = f'<div class="nowrap">{_e(room.software)}</div>' if room.software else ""
    how = " · ".join(p for p in (room.transport, room.profile) if p)
    return model + software + (f'<div class="sub">{_e(how)}</div>' if how else "")


def _registration(room: Room) -> str:
    if room.registration is None:
        return _none()
    state, reason = room.registration
    return _state(state, REGISTRATION_ICONS) + (f'<div class="sub">{_e(reason)}</div>' if reason else "")


def _service(room: Room) -> str:
    if room.service is None:
        return _none()
    state, number = room.service
    return _state(state, REGISTRATION_ICONS) + (f'<div class="sub">{_e(number)}</div>' if number else "")


def _changes(room: Room) -> str:
    if not room.changes:
        return _none("none")
    return _list(_change(c) for c in room.changes)


def _change(change: Change) -> str:
    reason = f' <span class="sub">({_e(change.reason)})</span>' if change.reason else ""
    return (f'<code>{_e(change.setting)}</code>: <span class="before">{_value(change.before)}</span>'
            f' → <span class="after">{_value(change.after)}</span>{reason}')


def _rollback(room: Room) -> str:
    parts = []
    if room.restored:
        parts.append("<div><strong>Restored</strong>"
                     + _list(f"<code>{_e(c.setting)}</code> = {_value(c.after)}" for c in room.restored) + "</div>")
    if room.not_restored:
        parts.append("<div><strong>Not restored</strong> (cannot be read back)"
                     + _list(f"<code>{_e(s)}</code>" for s in room.not_restored) + "</div>")
    return "".join(parts) or _none("nothing")


def _keys(room: Room) -> str:
    return _list(_key(k) for k in room.keys) if room.keys else _none()


def _key(key: Key) -> str:
    recorded = ", recorded" if key.recorded else ""
    return (f'{_state(key.state, KEY_ICONS, upper=True)}{_e(recorded)} {_e(key.kind.upper())} {_e(key.type)}'
            f'<div class="sub"><code class="fp">{_e(key.fingerprint)}</code></div>')


def _checks(checks: Sequence[Check]) -> str:
    return _list(_check(c) for c in checks) if checks else _none()


def _check(check: Check) -> str:
    word, icon = {True: ("pass", "✓"), False: ("fail", "✗"), None: ("unknown", "?")}[check.passed]
    seconds = f" ({check.seconds:.2f} s)" if check.seconds is not None else ""
    detail = f": {_e(check.detail)}" if check.detail else ""
    advice = f'<div class="advice"><strong>Advice:</strong> {_e(check.advice)}</div>' if check.advice else ""
    return (f'<span class="check {word}">{_icon(icon)}{word.upper()}</span> {_e(check.name)}{detail}'
            f'<span class="sub">{_e(seconds)}</span>{advice}')


def _problem(room: Room) -> str:
    parts = []
    if room.error:
        parts.append(f'<div class="error"><strong>Error:</strong> {_e(room.error)}</div>')
    if room.advice:
        parts.append(f'<div class="advice"><strong>Advice:</strong> {_e(room.advice)}</div>')
    parts.extend(f'<div class="warning"><strong>Warning:</strong> {_e(w)}</div>' for w in room.warnings)
    if room.recovered:
        parts.append('<div class="sub">Recovered from its factory defaults in this run.</div>')
    return "".join(parts) or _none()


def _terminal_cell(room: Room) -> str:
    if room.terminal is None:
        return _none("none at the service" if room.listed else "—")
    terminal = room.terminal
    facts = " · ".join(p for p in (terminal.model, terminal.number, terminal.status) if p)
    differs = ('<div class="warning"><strong>Warning:</strong> its number differs from sip.number</div>'
               if room.number_matches is False else "")
    return (f'<span class="nowrap">{_e(terminal.name or terminal.sn)}</span>'
            f'<div class="sub">SN {_e(terminal.sn)}</div><div class="sub">{_e(facts)}</div>{differs}')


def _unmatched(terminals: Sequence[Terminal]) -> str:
    if not terminals:
        return ""
    rows = "\n".join(f'<tr><th scope="row">{_e(t.sn)}</th><td>{_e(t.name)}</td><td>{_e(t.model)}</td>'
                      f"<td>{_e(t.number)}</td><td>{_e(t.status)}</td></tr>" for t in terminals)
    heads = "".join(f'<th scope="col">{h}</th>' for h in ("SN", "Name", "Model", "Number", "Status"))
    return ('<section class="unmatched" aria-labelledby="unmatched-h">\n'
            '<h2 id="unmatched-h">Terminals at the service that no room names</h2>\n'
            f"<table>\n<thead><tr>{heads}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</section>")


def _proxies(proxies: Sequence[Proxy]) -> str:
    if not proxies:
        return ""
    rows = "\n".join(
        f"<tr><td>{_proxy_status(p)}</td><th scope=\"row\">{_e(p.proxy)}</th>"
        f'<td>{len(p.rooms)}<div class="sub">{_e(", ".join(p.rooms))}</div></td><td>{_checks(p.checks)}</td></tr>'
        for p in proxies)
    return ('<section class="proxies" aria-labelledby="proxies-h">\n<h2 id="proxies-h">Outbound proxies</h2>\n'
            '<table>\n<thead><tr><th scope="col">Status</th><th scope="col">Proxy</th><th scope="col">Rooms</th>'
            f'<th scope="col">Checks</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</section>')


def _proxy_status(proxy: Proxy) -> str:
    status = "failed" if any(c.passed is False for c in proxy.checks) else "ok"
    word = "FAIL" if status == "failed" else "PASS"
    return f'<span class="badge st-{status}">{_icon(ICONS[status])}{word}</span>'


# -- small pieces ---------------------------------------------------------------------------


def _icon(icon: str) -> str:
    return f'<span class="icon" aria-hidden="true">{_e(icon)}</span> '


def _state(state: str, icons: Mapping[str, str], *, upper: bool = False) -> str:
    word = state.upper() if upper else state
    return f'<span class="state s-{_e(state)}">{_icon(icons.get(state, "?"))}{_e(word)}</span>'


def _value(value: str | None) -> str:
    if value is None:
        return '<span class="none">(not readable)</span>'
    if value == "":
        return '<span class="none">(empty)</span>'
    return _e(value)


def _none(word: str = "—") -> str:
    return f'<span class="none">{_e(word)}</span>'


def _list(items: Any) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _count(rooms: Sequence[Room]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for room in sorted(rooms, key=lambda r: r.rank):
        counts[room.status] = counts.get(room.status, 0) + 1
    return counts


def _counts_text(counts: Mapping[str, int]) -> str:
    words = [f"{count} {status}" for status, count in counts.items() if count]
    return ", ".join(words) or "no rooms"


def _parse(stamp: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _when(stamp: str) -> str:
    parsed = _parse(stamp)
    return parsed.isoformat(sep=" ", timespec="seconds") if parsed else stamp


def _took(started: str, finished: str) -> str:
    start, end = _parse(started), _parse(finished)
    if start is None or end is None or (start.tzinfo is None) != (end.tzinfo is None):
        return ""
    seconds = (end - start).total_seconds()
    if seconds < 0:
        return ""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


CSS = """
:root{--fg:#1b1b1b;--muted:#5c5c5c;--line:#c8c8c8;--bg:#fff;--head:#f2f2f2;
--bad:#a4001d;--bad-bg:#fde8ea;--warn:#7a4a00;--warn-bg:#fff1d6;--chg:#0b4f9c;--chg-bg:#e5f0fc;
--good:#1d6b2f;--good-bg:#e6f4e9;--skip:#555;--skip-bg:#eee}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 "DejaVu Sans","Liberation Sans",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1500px;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}
h2{font-size:1.2rem;margin:1.6rem 0 .5rem}
.meta{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0}
.meta div{display:flex;gap:.4rem}.meta dt{color:var(--muted)}.meta dt::after{content:":"}.meta dd{margin:0}
.banner{border:3px solid;padding:.6rem .9rem;margin:1rem 0;font-size:1.05rem}
.banner.check{border-color:var(--chg);background:var(--chg-bg)}
.banner.stop{border-color:var(--warn);background:var(--warn-bg)}
.totals ul,nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem;padding:0;margin:0}
.total{border:2px solid;padding:.35rem .8rem;font-size:1.05rem}
.total strong{font-size:1.3rem}.total.zero{opacity:.55;border-style:dashed}
nav li{border:1px solid var(--line);padding:.2rem .6rem}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:.6rem 1rem;margin:1.2rem 0;padding:.6rem .8rem;
border:1px solid var(--line);background:var(--head)}
.controls[hidden]{display:none}
.controls input[type=search]{font:inherit;padding:.3rem .5rem;min-width:18rem}
.controls fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.8rem}
.controls legend{float:left;margin-right:.6rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}.scroll{overflow-x:auto}
@media (max-width:1200px){td.list,td.text{overflow-wrap:anywhere}}
th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
thead th{background:var(--head)}
tbody th{white-space:nowrap}tbody th .name{font-weight:bold}tbody th .sub{font-weight:normal}
td ul{margin:0;padding-left:1.1rem}
td.list{width:36%;min-width:14rem}td.text{width:24%;min-width:12rem}.nowrap{white-space:nowrap}
tr.room>td:first-child,tbody th{width:1%}
td.list li{font-size:.9rem}
.badge{display:inline-block;border:2px solid;padding:0 .35rem;font-weight:bold;white-space:nowrap;font-size:.85rem}
.st-failed{color:var(--bad)}.badge.st-failed,.total.st-failed{background:var(--bad-bg)}
.st-unreachable{color:var(--warn)}.badge.st-unreachable,.total.st-unreachable{background:var(--warn-bg)}
.st-changed{color:var(--chg)}.badge.st-changed,.total.st-changed{background:var(--chg-bg)}
.st-ok{color:var(--good)}.badge.st-ok,.total.st-ok{background:var(--good-bg)}
.st-skipped{color:var(--skip)}.badge.st-skipped,.total.st-skipped{background:var(--skip-bg)}
tr.room{color:var(--fg)}
tr.st-failed>td:first-child,tr.st-unreachable>td:first-child{border-left:5px solid currentColor}
tr.st-failed>td:first-child{color:var(--bad)}tr.st-unreachable>td:first-child{color:var(--warn)}
.state{font-weight:bold;white-space:nowrap}.s-failed,.s-changed,.fail{color:var(--bad)}.s-registered,.s-known,.pass{color:var(--good)}
.check{font-weight:bold}
.sub,.none,.counts{color:var(--muted);font-size:.85rem}.counts{font-weight:normal}
.error{color:var(--bad)}.advice{margin-top:.2rem}.warning{color:var(--warn)}
code{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.85rem}
.fp{overflow-wrap:anywhere}
.after{font-weight:bold}
@media screen{.filtered-out{display:none}}
@media print{
body{font-size:10pt;background:#fff;color:#000}main{max-width:none;padding:0}
.controls,nav{display:none!important}
*{background:none!important;box-shadow:none!important}
a{color:#000;text-decoration:none}
thead{display:table-header-group}tr,li,.banner{break-inside:avoid}h2{break-after:avoid}
th,td{border-color:#777}.scroll{overflow:visible}td.list,td.text{overflow-wrap:anywhere}
}
"""

SCRIPT = """
(function () {
  "use strict";
  var controls = document.getElementById("filters");
  if (!controls) { return; }
  var box = document.getElementById("filter-text");
  var boxes = Array.prototype.slice.call(controls.querySelectorAll("input[type=checkbox]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.room"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  var shown = document.getElementById("shown");
  function apply() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var off = {};
    boxes.forEach(function (b) { off[b.value] = !b.checked; });
    var count = 0;
    rows.forEach(function (row) {
      var text = (row.getAttribute("data-group") + " " + row.textContent).toLowerCase();
      var keep = !off[row.getAttribute("data-status")] &&
        words.every(function (w) { return text.indexOf(w) !== -1; });
      row.classList.toggle("filtered-out", !keep);
      if (keep) { count += 1; }
    });
    sections.forEach(function (s) {
      s.classList.toggle("filtered-out", !s.querySelector("tr.room:not(.filtered-out)"));
    });
    shown.textContent = count + " of " + rows.length + " rooms shown";
  }
  box.addEventListener("input", apply);
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  controls.hidden = false;
  apply();
})();
"""
