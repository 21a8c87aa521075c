"""The simulated codec's tshell over SSH: banner, terminal-mode output (protocols/cisco.md §2).

Lines end in CR LF with a PTY and in LF without one (what jsxapi, which opens no PTY,
needs: cisco.md §2.2). Commands are echoed until `echo off`, as tshell does. Only the
terminal output mode is simulated.
"""
from __future__ import annotations

import asyncio
import datetime
import re
from typing import TYPE_CHECKING

from endpoints.drivers.cisco_xapi import split_path, unquote
from endpoints.lab.cisco_tree import Leaf, terminal_value
from endpoints.lab.net import Stream

if TYPE_CHECKING:
    from endpoints.lab.cisco import CiscoDevice

_RESULT_ID = re.compile(r'\s*\|\s*resultId="[^"]*"\s*$', re.IGNORECASE)
_PARAM = re.compile(r'\s*(?:([A-Za-z][\w.]*):\s*("(?:[^"\\]|\\.)*"|[^\s"]*)|(\S+))')
_END_OK = ["** end", "", "OK"]


class Shell:
    def __init__(self, device: CiscoDevice) -> None:
        self.device = device

    async def run(self, stream: Stream) -> None:
        device = self.device
        with device.lock:
            drop = device.faults.drop > 0
            device.faults.drop -= drop
        if drop:
            stream.close()
            return
        device.track(stream, True)
        try:
            await self._session(stream, "\r\n" if stream.pty else "\n")
        finally:
            device.track(stream, False)
            stream.close()

    async def _session(self, stream: Stream, nl: str) -> None:
        echo = [True]
        await self._pause()
        stream.write(nl.join(self.banner()) + nl)
        while True:
            line = await stream.read_line()
            if line is None:
                return
            if echo[0]:
                stream.write(line + nl)
            self.device.counters.requests += 1
            reply, close = self.execute(line, echo)
            await self._pause()
            if reply:
                stream.write(nl.join(reply) + nl)
            if close:
                return

    async def _pause(self) -> None:
        if self.device.faults.slow:
            await asyncio.sleep(self.device.faults.slow)

    def banner(self) -> list[str]:
        """Login text of real units (cisco.md §2.1): CE 8 says `Final`, CE 9 prints the last
        login after OK, TC prints its version string as is."""
        device = self.device
        date = device.release_date
        if device.tc:
            release = f"Cisco Codec Release {device.software}"
        elif device.version.startswith("8."):
            release = f"Cisco Codec Release ce {device.version} Final {device.build} {date}"
        else:
            release = f"Cisco Codec Release ce {device.version} {device.build} {date}"
        lines = []
        if device.value("NetworkServices WelcomeText") == "On":
            lines = [f"Welcome to {device.value('SystemUnit Name') or '127.0.0.1'}", release,
                     f"SW Release Date: {date}"]
        lines += ["*r Login successful", "", "OK", ""]
        previous, device.last_login = device.last_login, _now()
        if previous and not device.tc and not device.version.startswith("8."):
            lines.append(f"Last login from 127.0.0.1 at {previous}")
        return lines

    def execute(self, line: str, echo: list[bool]) -> tuple[list[str], bool]:
        """The answer to one command line, and whether the session ends."""
        text = _RESULT_ID.sub("", line).strip()
        if not text:
            return [], False
        verb, _, rest = text.partition(" ")
        verb = verb.lower()
        if verb in ("bye", "exit", "quit"):
            return [], True
        if verb == "echo" and rest.strip().lower() in ("on", "off"):
            echo[0] = rest.strip().lower() == "on"
            # CE answers `echo off` with an xterm escape first (PlaceOS driver, cisco.md §2.2).
            return (["\x1b[?1034h", "OK"] if not self.device.tc and not echo[0] else ["OK"]), False
        if verb == "xconfiguration":
            return (self._configure(rest) if ":" in rest else self._read("Configuration", rest)), False
        if verb == "xstatus":
            return self._read("Status", rest), False
        if verb == "xcommand":
            return self._command(rest), False
        if verb == "xpreferences":
            return self._preferences(rest), False
        return ["Command not recognized."], False

    def _read(self, root: str, path: str) -> list[str]:
        try:
            tokens = split_path(path) if path.strip() else []
        except ValueError:
            return _error(root, "No match on address expression.", f"{root}/{path.strip()}")
        device = self.device
        leaves = device.status(tokens) if root == "Status" else device.configuration(tokens)
        if not leaves:
            return _error(root, "No match on address expression.", _xpath(root, path))
        return [_line(root, leaf, value) for leaf, value in leaves] + _END_OK

    def _configure(self, text: str) -> list[str]:
        path, _, raw = text.partition(":")
        try:
            tokens = split_path(path)
        except ValueError:
            return _error("Configuration", "No match on address expression.", _xpath("Configuration", path))
        errors = self.device.configure([(tokens, unquote(raw))])
        if errors:
            return _error("Configuration", errors[0].reason, errors[0].xpath)
        return list(_END_OK)

    def _command(self, text: str) -> list[str]:
        words, params = [], {}
        for match in _PARAM.finditer(text):
            if match.group(1):
                params[match.group(1)] = unquote(match.group(2) or "")
            elif match.group(3):
                words.append(match.group(3))
        path = " ".join(words)
        result = self.device.command(path, params)
        if result is None:
            return ['*r Result (status=Error):', '*r Result Reason: "Unknown command"',
                    f'*r Result XPath: "/{"/".join(words)}"', "** end", "", "ERROR"]
        lines = [f"*r {result.name} (status={result.status}):"]
        if result.reason:
            lines.append(f'*r {result.name} Reason: "{result.reason}"')
        return lines + ["** end", "", "OK" if result.status == "OK" else "ERROR"]

    def _preferences(self, text: str) -> list[str]:
        words = text.lower().split()
        if words[:1] == ["outputmode"] and words[1:] == ["terminal"]:
            return ["OK"]
        # XML and JSON output modes are not simulated; TC 7 has no JSON at all (cisco.md §2.5).
        return ['*r Result (status=Error):', '*r Result Reason: "Output mode not available in the lab"',
                "** end", "", "ERROR"]


def _line(root: str, leaf: Leaf, value: str) -> str:
    prefix = "*c xConfiguration" if root == "Configuration" else "*s"
    return f"{prefix} {leaf.path}: {terminal_value(leaf, value)}"


def _error(root: str, reason: str, xpath: str) -> list[str]:
    """Reconstructed from the JSON/XML error shapes (cisco.md §2.4, UNSURE in detail)."""
    return [f"*r {root} (status=Error):", f'*r {root} Reason: "{reason}"', f'*r {root} XPath: "{xpath}"',
            "** end", "", "ERROR"]


def _xpath(root: str, path: str) -> str:
    words = path.split()
    parts: list[str] = []
    for word in words:
        if word.isdigit() and parts:
            parts[-1] += f"[{word}]"
        else:
            parts.append(word)
    return "/".join([root, *parts])


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
