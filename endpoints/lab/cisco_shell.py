"""The simulated codec's tshell over SSH (protocols/cisco.md §2): banner, the three output
modes, result tags, feedback.

Lines end in CR LF with a PTY and in LF without one (what jsxapi, which opens no PTY,
needs: cisco.md §2.2). Commands are echoed until `echo off`, as tshell does.

Output modes (`xPreferences OutputMode`, per session; TC 7 has no JSON, cisco.md §2.5):
- terminal: `*c`/`*s`/`*r` lines, `** end`, then `OK` or `ERROR` (cisco.md §2.4);
- xml: every answer wrapped in `<XmlDoc resultId="…">…</XmlDoc>` (cisco.md §2.5);
- json: one JSON document per answer, `"ResultId"` echoed (cisco.md §2.6).
`Command not recognized.` is plain text in every mode. `xFeedback register <path>` makes
the session push what changes below that path, in the session's mode.
"""
from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from endpoints.lab.cisco_cli import (
    CliSyntaxError,
    command_line,
    config_value,
    loose_xpath,
    path_tokens,
    split_result_id,
)
from endpoints.lab.cisco_device import ILLEGAL, NO_MATCH, CiscoState
from endpoints.lab.cisco_tree import (
    Leaf,
    Token,
    element_lines,
    error_tree,
    json_tree,
    parse_location,
    terminal_value,
)
from endpoints.lab.net import Stream

_END_OK = ["** end", "", "OK"]
FEEDBACK_POLL = 0.1  # seconds between looks at what a registered feedback path shows
# RoomOS allows "up to 50 expressions per active connection" (cisco.md §2.3); TC 7.3 38.
FEEDBACK_LIMIT = 50
NOT_RECOGNISED = "Command not recognized."


@dataclass
class Answer:
    """One command's outcome, before it is printed in the session's output mode."""

    kind: str  # data | ok | error | illegal | command | plain | none
    root: str = ""  # Configuration | Status | Command
    leaves: list[tuple[Leaf, str]] = field(default_factory=list)
    reason: str = ""
    xpath: str = ""
    name: str = ""  # command result name (PassphraseSetResult)
    status: str = ""  # command status (OK, Error, ParameterError)
    errors: list[tuple[list[Token], str]] = field(default_factory=list)  # illegal values
    text: list[str] = field(default_factory=list)  # plain text lines
    close: bool = False


@dataclass
class _Session:
    stream: Stream
    nl: str
    mode: str = "terminal"
    echo: bool = True
    feedback: dict[str, tuple[str, list[Token]]] = field(default_factory=dict)  # expression -> (root, tokens)
    seen: dict[str, str] = field(default_factory=dict)  # leaf key -> value last pushed
    watcher: asyncio.Task[None] | None = None


class Shell:
    def __init__(self, device: CiscoState) -> None:
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
        session = _Session(stream, "\r\n" if stream.pty else "\n")
        try:
            await self._session(session)
        finally:
            if session.watcher is not None:
                session.watcher.cancel()
            device.track(stream, False)
            stream.close()

    async def _session(self, session: _Session) -> None:
        stream = session.stream
        await self._pause()
        stream.write(session.nl.join(self.banner()) + session.nl)  # one write, as jsxapi expects
        while True:
            line = await stream.read_line()
            if line is None:
                return
            if session.echo:
                stream.write(line + session.nl)
            body = await self._body(stream, line)
            self.device.counters.requests += 1
            text, result_id = split_result_id(body[0] if body else line)
            answer = self.execute(text, session)
            await self._pause()
            output = self.render(answer, session, result_id)
            if output:
                stream.write(session.nl.join(output) + session.nl)
            if answer.close:
                return

    async def _body(self, stream: Stream, line: str) -> list[str]:
        """`{<bytes>} ` announces a multi-line command of that many UTF-8 bytes (jsxapi's
        framing, cisco.md §2.3): its first line is the command, the rest its body."""
        stripped = line.strip()
        if not (stripped.startswith("{") and stripped.endswith("}") and stripped[1:-1].isdecimal()):
            return []
        size, lines, read = int(stripped[1:-1]), [], 0
        while read < size:
            more = await stream.read_line()
            if more is None:
                break
            lines.append(more)
            read += len(more.encode("utf-8")) + 1
        return lines

    async def _pause(self) -> None:
        if self.device.faults.slow:
            await asyncio.sleep(self.device.faults.slow)

    def banner(self) -> list[str]:
        """Login text of real units (cisco.md §2.1): CE 8 says `Final`, CE 9 prints the last
        login after OK, TC prints its version string as is. RoomOS: the form is UNSURE
        (an older Room OS printed `Cisco Codec Release Spark Room OS <date> <hash>`)."""
        device = self.device
        date = device.release_date
        if device.tc:
            release = f"Cisco Codec Release {device.software}"
        elif device.roomos:
            release = f"Cisco Codec Release {device.display_name}"
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

    # --- what a command does -----------------------------------------------------------------

    def execute(self, line: str, session: _Session) -> Answer:
        """The outcome of one command line (without its result tag)."""
        text = line.strip()
        if not text:
            return Answer("none")
        verb, _, rest = text.partition(" ")
        verb = verb.lower()
        if verb in ("bye", "exit", "quit"):
            return Answer("none", close=True)
        if verb == "echo" and rest.strip().lower() in ("on", "off"):
            session.echo = rest.strip().lower() == "on"
            # CE answers `echo off` with an xterm escape first (PlaceOS driver, cisco.md §2.2).
            lines = ["\x1b[?1034h", "OK"] if not self.device.tc and not session.echo else ["OK"]
            return Answer("plain", text=lines)
        if verb == "xconfiguration":
            return self._configure(rest) if ":" in rest else self._read("Configuration", rest)
        if verb == "xstatus":
            return self._read("Status", rest)
        if verb == "xcommand":
            return self._command(rest)
        if verb == "xpreferences":
            return self._preferences(rest, session)
        if verb == "xfeedback":
            return self._feedback(rest, session)
        return Answer("plain", text=[NOT_RECOGNISED])

    def _read(self, root: str, path: str) -> Answer:
        try:
            tokens = path_tokens(path)
        except CliSyntaxError:
            return Answer("error", root, reason=NO_MATCH, xpath=loose_xpath(root, path))
        device = self.device
        leaves = device.status(tokens) if root == "Status" else device.configuration(tokens)
        if not leaves:
            return Answer("error", root, reason=NO_MATCH, xpath=loose_xpath(root, path))
        return Answer("data", root, leaves)

    def _configure(self, text: str) -> Answer:
        path, _, raw = text.partition(":")
        try:
            tokens = path_tokens(path)
            value = config_value(raw)
        except CliSyntaxError:
            return Answer("error", "Configuration", reason=NO_MATCH, xpath=loose_xpath("Configuration", path))
        errors = self.device.configure([(tokens, value)])
        if not errors:
            return Answer("ok", "Configuration")
        error = errors[0]
        if error.reason == ILLEGAL:
            return Answer("illegal", "Configuration", reason=error.reason, xpath=error.xpath,
                          errors=[(error.tokens, error.reason)])
        return Answer("error", "Configuration", reason=error.reason, xpath=error.xpath)

    def _command(self, text: str) -> Answer:
        try:
            parsed = command_line(text)
        except CliSyntaxError:
            return Answer("command", "Command", name="Result", status="Error", reason="Unknown command",
                          xpath="/" + "/".join(text.split()[:3]))
        params = {key: values[0] for key, values in parsed.params.items()}
        result = self.device.command(" ".join(parsed.words), params)
        if result is None:
            return Answer("command", "Command", name="Result", status="Error", reason="Unknown command",
                          xpath="/" + "/".join(parsed.words))
        return Answer("command", "Command", name=result.name, status=result.status, reason=result.reason)

    def _preferences(self, text: str, session: _Session) -> Answer:
        words = text.lower().split()
        modes = ("terminal", "xml") if self.device.tc else ("terminal", "xml", "json")
        if words[:1] == ["outputmode"] and len(words) == 2 and words[1] in modes:
            session.mode = words[1]
            return Answer("ok", "Preferences")
        # What a codec prints for an output mode it lacks (TC 7: json) is UNSURE.
        return Answer("command", "Command", name="Result", status="Error", reason="Illegal value",
                      xpath="/Preferences/OutputMode")

    def _feedback(self, text: str, session: _Session) -> Answer:
        action, _, expression = text.strip().partition(" ")
        action, expression = action.lower(), expression.strip()
        self.device.feedback_seen.append(f"{action} {expression}".strip())
        if action == "list":
            return Answer("plain", text=[f"/{e.strip('/')}" for e in session.feedback] + ["** end", "", "OK"])
        if action == "deregisterall":
            session.feedback.clear()
            return Answer("ok", "Feedback")
        parsed = parse_location(expression)
        if action not in ("register", "deregister") or parsed is None:
            return Answer("command", "Command", name="Result", status="Error", reason="Unknown command",
                          xpath="/Feedback")
        key = expression.strip("/").lower()
        if action == "deregister":
            session.feedback.pop(key, None)
            return Answer("ok", "Feedback")
        if len(session.feedback) >= FEEDBACK_LIMIT:
            return Answer("command", "Command", name="Result", status="Error",
                          reason="Too many feedback expressions", xpath="/Feedback")  # wording UNSURE
        root = parsed[0].capitalize()
        session.feedback[key] = (root, parsed[1])
        for leaf, value in self._watched(root, parsed[1]):
            session.seen[f"{root}:{leaf.key}"] = value
        if session.watcher is None:
            session.watcher = asyncio.get_running_loop().create_task(self._watch(session))
        return Answer("ok", "Feedback")

    def _watched(self, root: str, tokens: list[Token]) -> list[tuple[Leaf, str]]:
        if root == "Status":
            return self.device.status(tokens)
        if root == "Configuration":
            return self.device.configuration(tokens)
        return []  # events: the lab raises none

    async def _watch(self, session: _Session) -> None:
        """Push what changed under the registered paths, as the codec does unasked."""
        while True:
            await asyncio.sleep(FEEDBACK_POLL)
            for root, tokens in list(session.feedback.values()):
                changed = []
                for leaf, value in self._watched(root, tokens):
                    key = f"{root}:{leaf.key}"
                    if session.seen.get(key) != value:
                        session.seen[key] = value
                        changed.append((leaf, value))
                if changed:
                    output = self.render(Answer("data", root, changed), session, None, feedback=True)
                    session.stream.write(session.nl.join(output) + session.nl)

    # --- how it is printed ---------------------------------------------------------------------

    def render(self, answer: Answer, session: _Session, result_id: str | None, *,
               feedback: bool = False) -> list[str]:
        if answer.kind == "none":
            return []
        if answer.kind == "plain":
            return answer.text
        if session.mode == "json":
            return _json(answer, result_id)
        if session.mode == "xml":
            return _xml(answer, result_id, tc=self.device.tc)
        return _terminal(answer, feedback=feedback)


def _terminal(answer: Answer, *, feedback: bool = False) -> list[str]:
    if answer.kind == "data":
        prefix = "*c xConfiguration" if answer.root == "Configuration" else "*s"
        lines = [f"{prefix} {leaf.path}: {terminal_value(leaf, value)}" for leaf, value in answer.leaves]
        return lines + (["** end"] if feedback else _END_OK)
    if answer.kind == "ok":
        # Whether a write prints `** end` before OK is UNSURE (cisco.md §10.2): it does here.
        return ["OK"] if answer.root == "Preferences" else list(_END_OK)
    if answer.kind in ("error", "illegal"):
        # Reconstructed from the JSON/XML error shapes (cisco.md §2.4, UNSURE in detail).
        return [f"*r {answer.root} (status=Error):", f'*r {answer.root} Reason: "{answer.reason}"',
                f'*r {answer.root} XPath: "{answer.xpath}"', "** end", "", "ERROR"]
    lines = [f"*r {answer.name} (status={answer.status}):"]
    if answer.reason:
        lines.append(f'*r {answer.name} Reason: "{answer.reason}"')
    if answer.xpath and answer.status != "OK":
        lines.append(f'*r {answer.name} XPath: "{answer.xpath}"')
    return lines + ["** end", "", "OK" if answer.status == "OK" else "ERROR"]


def _json(answer: Answer, result_id: str | None) -> list[str]:
    """One document per answer. The whitespace of a real codec's JSON is UNSURE (clients
    parse it as a stream); an empty untagged answer is `{}` on its own line, the form a
    driver written against real codecs splits on (PlaceOS tokenizer, `\\n{}`)."""
    document: dict[str, Any]
    if answer.kind == "data":
        document = {answer.root: json_tree(answer.leaves, configuration=answer.root == "Configuration")}
    elif answer.kind == "ok":
        document = {}
    elif answer.kind == "error":
        document = error_tree(answer.root, answer.reason, answer.xpath)
    elif answer.kind == "illegal":
        document = {}
        for tokens, reason in answer.errors:
            here = document.setdefault(answer.root, {})
            for name, index in tokens[:-1]:
                here = here.setdefault(name, {}) if index is None else _item(here, name, index)
            here[tokens[-1][0]] = {"error": "True", "Value": reason}
    else:
        result: dict[str, Any] = {"status": answer.status}
        if answer.reason:
            result["Reason"] = {"Value": answer.reason}
        if answer.xpath and answer.status != "OK":
            result["XPath"] = {"Value": answer.xpath}
        document = {"CommandResponse": {answer.name: result}}
    if result_id is not None:
        document["ResultId"] = result_id
    if not document:
        return ["{}"]
    return json.dumps(document, indent=2, separators=(",", ":"), ensure_ascii=False).split("\n")


def _item(here: dict[str, Any], name: str, index: int) -> dict[str, Any]:
    items: list[dict[str, Any]] = here.setdefault(name, [])
    for existing in items:
        if existing.get("id") == str(index):
            return existing
    entry: dict[str, Any] = {"id": str(index)}
    items.append(entry)
    return entry


def _xml(answer: Answer, result_id: str | None, *, tc: bool) -> list[str]:
    """`<XmlDoc resultId="…">` around the element the HTTP API would answer (cisco.md §2.5;
    the inner layout of errors is UNSURE, the HTTP forms are used)."""
    inner: list[str]
    if answer.kind == "data":
        inner = [f"  <{answer.root}>",
                 *element_lines(answer.leaves, tc=tc, configuration=answer.root == "Configuration", depth=1),
                 f"  </{answer.root}>"]
    elif answer.kind == "ok":
        inner = []
    elif answer.kind == "error":
        inner = ["  <CommandResponse>", f'    <{answer.root} status="Error">',
                 f"      <Reason>{_escape(answer.reason)}</Reason>", f"      <XPath>{_escape(answer.xpath)}</XPath>",
                 f"    </{answer.root}>", "  </CommandResponse>"]
    elif answer.kind == "illegal":
        inner = [f"  <{answer.root}>"]
        for tokens, reason in answer.errors:
            inner += _nested_error(tokens, reason)
        inner.append(f"  </{answer.root}>")
    else:
        detail = [f"      <Reason>{_escape(answer.reason)}</Reason>"] if answer.reason else []
        if detail:
            inner = ["  <CommandResponse>", f'    <{answer.name} status="{answer.status}">', *detail,
                     f"    </{answer.name}>", "  </CommandResponse>"]
        else:
            inner = ["  <CommandResponse>", f'    <{answer.name} status="{answer.status}"/>', "  </CommandResponse>"]
    return [f'<XmlDoc resultId="{_escape(result_id or "")}">', *inner, "</XmlDoc>"]


def _nested_error(tokens: Iterable[Token], reason: str) -> list[str]:
    steps = list(tokens)
    lines, depth = [], 2
    for name, index in steps[:-1]:
        item = f' item="{index}"' if index is not None else ""
        lines.append(f"{'  ' * depth}<{name}{item}>")
        depth += 1
    lines.append(f'{"  " * depth}<{steps[-1][0]} error="True">{_escape(reason)}</{steps[-1][0]}>')
    for name, _index in reversed(steps[:-1]):
        depth -= 1
        lines.append(f"{'  ' * depth}</{name}>")
    return lines


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
