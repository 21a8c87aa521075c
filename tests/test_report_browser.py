"""The HTML report in a real headless browser (Debian's chromium), driven over the DevTools protocol.

Chromium listens on a loopback port it picks itself (`--remote-debugging-port=0`, read
back from DevToolsActivePort); a small client over aiohttp's websocket (already a
dependency) sends commands and collects every console message, uncaught exception and
log entry (CSP violations land there), so "no console errors" is a fact, not a hope.
Skipped, saying why, only where chromium is not installed.
"""
from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from endpoints.demo import WRONG, demo_spec
from endpoints.lab.fleet import Lab, RoomSpec
from endpoints.report import load_run, render_html
from tests.conftest import cli

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
# The flags this machine needs: no sandbox as root, and no background fetches (the network is closed).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1")


class Chromium:
    """One headless browser and one page in it, over CDP (flattened sessions on the browser socket)."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        self.profile = profile
        self.log = open(profile.parent / "chromium.log", "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.loop = asyncio.new_event_loop()
        self.events: list[dict[str, Any]] = []
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0
        self.loop.run_until_complete(self._connect())

    # -- the protocol ----------------------------------------------------------------------

    def _endpoint(self) -> str:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}: see {self.log.name}")
            lines = active.read_text().split() if active.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port within 60 s")

    async def _connect(self) -> None:
        self.http = aiohttp.ClientSession()
        self.socket = await self.http.ws_connect(self._endpoint(), max_msg_size=0)
        self.reader = self.loop.create_task(self._read())
        target = await self._send("Target.createTarget", {"url": "about:blank"})
        attached = await self._send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            await self._send(f"{domain}.enable", session=True)

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._replies:
                self._replies.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)

    async def _send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False,
                    timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        reply = self._replies[self._next] = self.loop.create_future()
        await self.socket.send_str(json.dumps(message))
        data = await asyncio.wait_for(reply, timeout)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data.get("result", {})

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.loop.run_until_complete(self._send(method, params, session=True))

    def _wait_for(self, method: str, since: int, timeout: float = 60) -> None:
        async def wait() -> None:
            while not any(e.get("method") == method for e in self.events[since:]):
                await asyncio.sleep(0.02)
        self.loop.run_until_complete(asyncio.wait_for(wait(), timeout))

    # -- what a test does ------------------------------------------------------------------

    def open(self, page: Path, *, width: int = 1600, height: int = 1000) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        since = len(self.events)
        self.call("Page.navigate", {"url": page.resolve().as_uri()})
        self._wait_for("Page.loadEventFired", since)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def type(self, selector: str, text: str) -> None:
        """Empty a field, then type into it as a user would (focus, key input, input events)."""
        self.evaluate(f"(f => {{ f.focus(); f.value = ''; f.dispatchEvent(new Event('input')); }})"
                      f"(document.querySelector({json.dumps(selector)}))")
        self.call("Input.insertText", {"text": text})

    def screenshot(self, target: Path) -> bytes:
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        data = base64.b64decode(shot["data"])
        target.write_bytes(data)
        return data

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries, as one line each."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                found.append(f"log: {params['entry'].get('text')}")
        return found

    def close(self) -> None:
        async def shut() -> None:
            try:
                await asyncio.wait_for(self._send("Browser.close"), 10)
            except (RuntimeError, TimeoutError, aiohttp.ClientError):
                pass
            self.reader.cancel()
            await self.socket.close()
            await self.http.close()
        try:
            self.loop.run_until_complete(shut())
        finally:
            self.loop.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path / "profile")
    yield chromium
    chromium.close()


def page_of(report: dict[str, Any], folder: Path, name: str = "report.html") -> Path:
    target = folder / name
    target.write_text(render_html(report), encoding="utf-8")
    return target


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


VISIBLE_ROOMS = "[...document.querySelectorAll('tr.room')].filter(r => r.offsetParent !== null)" \
                ".map(r => r.querySelector('th .name').textContent)"
SHOWN_SECTIONS = "[...document.querySelectorAll('section.group')].filter(s => s.offsetParent !== null)" \
                 ".map(s => s.querySelector('h2').firstChild.textContent.trim())"


def test_the_demo_page_renders_without_console_errors_and_shows_the_expected_text(browser: Chromium,
                                                                                  tmp_path: Path) -> None:
    browser.open(page_of(fixture("demo-apply"), tmp_path))
    text = browser.evaluate("document.body.innerText")
    for room in (f"room-a{i:03d}" for i in range(1, 11)):
        assert room in text
    for words in ("endpoints apply report", "✗ 1 failed", "✎ 8 changed", "✓ 1 ok", "⚠ 0 unreachable",
                  "✗ FAILED", "✎ CHANGED", "✓ OK", "403 Forbidden", "The meeting service refused the SIP account", "SX80", "Group 550", "HDX 8000",
                  "SIP Proxy 1 Address: (empty) → sip2-ec.huaweicloud.com:5061", "10 of 10 rooms shown"):
        assert words in text, words
    assert text.index("room-a010") < text.index("room-a001") < text.index("room-a007")  # failed, changed, ok
    png = browser.screenshot(tmp_path / "demo.png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1600 and height > 1000  # the whole page, not just the first screen
    assert browser.problems() == []


def test_typing_a_room_name_or_ticking_statuses_filters_the_rows(browser: Chromium, tmp_path: Path) -> None:
    browser.open(page_of(fixture("campus"), tmp_path))
    assert browser.evaluate("document.getElementById('filters').hidden") is False  # the script showed them
    assert len(browser.evaluate(VISIBLE_ROOMS)) == 7
    browser.type("#filter-text", "hq-huddle")
    assert sorted(browser.evaluate(VISIBLE_ROOMS)) == ["hq-huddle-10", "hq-huddle-2"]
    assert browser.evaluate(SHOWN_SECTIONS) == ["hq"]  # a building with no row left is hidden
    assert browser.evaluate("document.getElementById('shown').textContent") == "2 of 7 rooms shown"
    browser.type("#filter-text", "annex HDX")  # every word must match: building and model
    assert browser.evaluate(VISIBLE_ROOMS) == ["annex-training", "annex-kiosk"]
    browser.type("#filter-text", "408 request")  # the registration reason, any case
    assert browser.evaluate(VISIBLE_ROOMS) == ["annex-training"]
    browser.type("#filter-text", "")
    assert len(browser.evaluate(VISIBLE_ROOMS)) == 7
    for status in ("ok", "changed", "skipped"):
        browser.evaluate(f"document.querySelector('#filters input[value={status}]').click()")
    assert browser.evaluate(VISIBLE_ROOMS) == ["annex-training", "hq-huddle-10"]  # failures only
    assert browser.problems() == []


def test_printed_every_row_shows_and_the_controls_do_not(browser: Chromium, tmp_path: Path) -> None:
    browser.open(page_of(fixture("campus"), tmp_path))
    browser.type("#filter-text", "lobby")
    assert browser.evaluate(VISIBLE_ROOMS) == ["lobby-screen"]
    browser.call("Emulation.setEmulatedMedia", {"media": "print"})
    assert len(browser.evaluate(VISIBLE_ROOMS)) == 7 and len(browser.evaluate(SHOWN_SECTIONS)) == 3
    assert browser.evaluate("getComputedStyle(document.getElementById('filters')).display") == "none"
    backgrounds = browser.evaluate("[...document.querySelectorAll('*')].map(e => getComputedStyle(e)"
                                   ".backgroundColor).filter(c => c !== 'rgba(0, 0, 0, 0)')")
    assert set(backgrounds) <= {"rgb(255, 255, 255)"}  # no dark (or any) backgrounds on paper
    pdf = base64.b64decode(browser.call("Page.printToPDF", {"printBackground": True})["data"])
    assert pdf.startswith(b"%PDF")
    assert browser.problems() == []


def test_without_script_the_page_shows_every_room_and_no_dead_controls(browser: Chromium, tmp_path: Path) -> None:
    browser.call("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.open(page_of(fixture("campus"), tmp_path))
    text = browser.evaluate("document.body.innerText")  # CDP still evaluates with page scripts off
    assert all(room in text for room in ("annex-training", "hq-huddle-10", "lobby-screen", "annex-kiosk"))
    assert "Filter rooms" not in text
    assert browser.evaluate("document.getElementById('shown').textContent") == ""  # the page's script never ran
    assert browser.problems() == []


def test_the_page_policy_stops_a_script_that_got_past_the_escaping(browser: Chromium, tmp_path: Path) -> None:
    """Defence in depth, and proof that problems() sees errors: an injected script must not run."""
    source = render_html(fixture("campus")).replace(
        "</main>", "<script>document.title = 'owned'; console.error('ran')</script></main>")
    target = tmp_path / "tampered.html"
    target.write_text(source, encoding="utf-8")
    browser.open(target)
    assert browser.evaluate("document.title") != "owned"
    assert any("Content Security Policy" in p for p in browser.problems())
    assert not any("ran" in p for p in browser.problems())


def test_the_page_of_a_real_demo_run_loads_with_every_room(make_lab, browser: Chromium, tmp_path: Path) -> None:
    """The demo fleet on the lab: apply, then the run folder's report as a page, as `endpoints report` does."""
    rooms = [RoomSpec(r.name, r.model, r.transport, state=r.state, wrong_password=r.wrong_password)
             for r in demo_spec().rooms]
    lab: Lab = make_lab(rooms, delay=0.2)
    runs = tmp_path / "state" / "runs"
    result = cli("apply", "-i", str(lab.inventory_path), "--run-dir", str(runs), "--verify-timeout", "30")
    assert result.exit_code == 2, result.output  # the room with the wrong SIP password fails
    (folder,) = runs.iterdir()
    report = load_run(folder)
    browser.open(page_of(report, tmp_path))
    text = browser.evaluate("document.body.innerText")
    assert all(name in text for name in lab.rooms)
    assert browser.evaluate(VISIBLE_ROOMS)[0] == WRONG and "The meeting service refused the SIP account" in text
    browser.type("#filter-text", WRONG)
    assert browser.evaluate(VISIBLE_ROOMS) == [WRONG]
    assert browser.problems() == []
