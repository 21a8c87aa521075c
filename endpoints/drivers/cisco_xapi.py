"""Cisco xAPI, independent of the transport: paths, XML documents, terminal-mode output.

A path is what the CLI takes, split on spaces; a numeric token is the index of the
element before it: ``SIP Proxy 1 Address`` is ``<SIP><Proxy item="1"><Address>``. The
same rules serve TC 7 (``SIP Profile 1 ...``) and CE (``SIP ...``): which paths to use is
the profile's business, not this module's.

Parsing follows protocols/cisco.md: elements are matched by name (case-insensitively)
and attributes are ignored except ``item``, because TC decorates every element with
``item="1"`` while CE only decorates lists.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from endpoints import support
from endpoints.drivers.base import Identity
from endpoints.errors import ProtocolError

Token = tuple[str, int | None]

# Status paths that identify a codec (same names on TC 7 and CE).
IDENTITY_PATHS = {
    "product": "SystemUnit ProductId",
    "platform": "SystemUnit ProductPlatform",
    "software": "SystemUnit Software Version",
    "serial": "SystemUnit Hardware Module SerialNumber",
    "mainboard_serial": "SystemUnit Hardware MainBoard SerialNumber",  # TC only
}
TERMINATORS = ("OK", "ERROR", "Command not recognized.")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_LINE_END = re.compile(r"\r\n|\n|\r(?!$)")
_VALUE_LINE = re.compile(r"^\*[cs] (?:xConfiguration )?(.+?): ?(.*)$", re.IGNORECASE)
_REASON = re.compile(r"\bReason: ?(.*)$")
_FAILED = re.compile(r"status=(error|parametererror)", re.IGNORECASE)
_XPATH = re.compile(r"\bXPath: ?(.*)$")


# --- paths -------------------------------------------------------------------------------

def split_path(path: str) -> list[Token]:
    """``"SIP Proxy 1 Address"`` -> ``[("SIP", None), ("Proxy", 1), ("Address", None)]``."""
    tokens: list[Token] = []
    for word in path.split():
        if word.isdigit():
            if not tokens or tokens[-1][1] is not None:
                raise ValueError(f"misplaced index {word!r} in xAPI path {path!r}")
            tokens[-1] = (tokens[-1][0], int(word))
        else:
            tokens.append((word, None))
    if not tokens:
        raise ValueError("empty xAPI path")
    return tokens


def join_path(tokens: Iterable[Token]) -> str:
    return " ".join(name if index is None else f"{name} {index}" for name, index in tokens)


def xpath_to_path(xpath: str) -> str:
    """``Configuration/SIP/Proxy[1]/Address`` -> ``SIP Proxy 1 Address`` (root dropped)."""
    parts = [p for p in xpath.strip().strip("/").split("/") if p]
    if parts and parts[0].lower() in ("configuration", "status", "command"):
        parts = parts[1:]
    words = []
    for part in parts:
        match = re.fullmatch(r"([^\[\]]+)(?:\[(?:@item=)?'?(\d+)'?\])?", part)
        if not match:
            return " ".join(parts)
        words.append(match.group(1) if match.group(2) is None else f"{match.group(1)} {match.group(2)}")
    return " ".join(words)


def location(root: str, path: str) -> str:
    """The getxml location of a whole top-level subtree, e.g. ``/Configuration/SIP``."""
    return f"/{root}/{split_path(path)[0][0]}"


def case_key(path: str) -> str:
    """Paths compare case-insensitively (the xAPI is case-insensitive)."""
    if "  " in path or path != path.strip() or not path.isprintable():
        path = " ".join(path.split())
    return path.lower()


# --- XML documents -----------------------------------------------------------------------

def parse_xml(body: bytes | str) -> etree._Element:
    data = body.encode() if isinstance(body, str) else body
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        raise ProtocolError(f"the device answered something that is not XML: {_excerpt(data)}") from None
    if root is None:
        raise ProtocolError("the device answered an empty document")
    return root


def find_value(root: etree._Element, path: str) -> str | None:
    """The text of the leaf at `path` below the document root, or None when absent."""
    node: etree._Element | None = root
    for name, index in split_path(path):
        assert node is not None
        node = _child(node, name, index)
        if node is None:
            return None
    if node is None or len(node):
        return None  # absent, or a subtree rather than a value
    return node.text or ""


def _child(node: etree._Element, name: str, index: int | None) -> etree._Element | None:
    # The device's own spelling first (a search in C), then any case (the xAPI ignores case).
    matches = node.findall(name) if name.isalnum() else []
    if not matches:
        wanted = name.lower()
        matches = [c for c in node if isinstance(c.tag, str) and c.tag.lower() == wanted]
    if index is None:
        return matches[0] if matches else None
    # An index names a list item: CE leaves single elements undecorated, so the TC path
    # `Conference 1 ...` finds nothing there, as on the device.
    return next((child for child in matches if child.get("item") == str(index)), None)


def configuration_document(writes: Sequence[tuple[str, str]]) -> bytes:
    """One `<Configuration>` document setting every (path, value), in order."""
    root = etree.Element("Configuration")
    for path, value in writes:
        _leaf(root, split_path(path)).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def command_document(path: str, params: Mapping[str, str]) -> bytes:
    """A `<Command>` document for ``xCommand <path> Key: value ...``."""
    root = etree.Element("Command")
    action = _leaf(root, split_path(path))
    action.set("command", "True")
    for key, value in params.items():
        etree.SubElement(action, key).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _leaf(root: etree._Element, tokens: list[Token]) -> etree._Element:
    node = root
    for name, index in tokens:
        found = None
        for child in node:
            if child.tag == name and child.get("item") == (None if index is None else str(index)):
                found = child
                break
        if found is None:
            found = etree.SubElement(node, name)
            if index is not None:
                found.set("item", str(index))
        node = found
    return node


@dataclass(frozen=True)
class PutError:
    """One refusal in a putxml answer: the path when the device names it, and its words."""

    path: str | None
    reason: str


def put_errors(body: bytes | str) -> list[PutError]:
    """What a putxml answer refuses; [] when it confirms success.

    The device answers HTTP 200 either way. Success is `<Success/>` (configuration) or a
    result element with ``status="OK"`` (command); anything else is a refusal.
    """
    root = parse_xml(body)
    if _any(root, lambda e: _name(e) == "success"):
        return []
    errors = [*_status_errors(root), *_leaf_errors(root)]
    if errors:
        return errors
    results = [e for e in root.iter() if isinstance(e.tag, str) and e.get("status")]
    if results and all(e.get("status", "").lower() == "ok" for e in results):
        return []
    return [PutError(None, "the device did not confirm the change")]


def _status_errors(root: etree._Element) -> list[PutError]:
    errors = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        status = (element.get("status") or "").lower()
        if status in ("error", "parametererror") or _name(element) == "actionerror":
            reason = _child_text(element, "Reason") or (
                "invalid or missing parameters" if status == "parametererror" else "refused")
            xpath = _child_text(element, "XPath")
            errors.append(PutError(xpath_to_path(xpath) if xpath else None, reason))
    return errors


def _leaf_errors(root: etree._Element) -> list[PutError]:
    errors = []
    for element in root.iter():
        if isinstance(element.tag, str) and (element.get("error") or "").lower() == "true":
            tokens: list[Token] = []
            for node in reversed(list(element.iterancestors())[:-1]):
                tokens.append(_token(node))
            tokens.append(_token(element))
            errors.append(PutError(join_path(tokens), (element.text or "").strip() or "Illegal value"))
    return errors


def _token(node: etree._Element) -> Token:
    item = node.get("item")
    return (str(node.tag), int(item) if item and item.isdigit() else None)


def match_refused(error: PutError, paths: Sequence[str]) -> str | None:
    """Which of the written paths a refusal names (TC decorates every element with item="1",
    so compare names first and indexes only where the written path has one)."""
    if error.path is None:
        return None
    refused = split_path(error.path)
    for path in paths:
        written = split_path(path)
        if len(written) == len(refused) and all(
            w[0].lower() == r[0].lower() and (w[1] is None or r[1] in (None, w[1]))
            for w, r in zip(written, refused)
        ):
            return path
    return None


def _any(root: etree._Element, test: object) -> bool:
    return any(isinstance(e.tag, str) and test(e) for e in root.iter())  # type: ignore[operator]


def _name(element: etree._Element) -> str:
    return str(element.tag).lower()


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and child.tag.lower() == name.lower():
            return (child.text or "").strip()
    return None


def _excerpt(data: bytes) -> str:
    text = data[:80].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text) if text else "(empty)"


# --- terminal mode (SSH) -------------------------------------------------------------------

def quote(value: str) -> str:
    """A value as the CLI takes it: always quoted, quotes escaped (as jsxapi does)."""
    if any(c in value for c in "\r\n"):
        raise ValueError("a line break cannot be sent in an xAPI value")
    return '"' + value.replace('"', '\\"') + '"'


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


@dataclass
class TerminalReply:
    """The lines of one terminal-mode answer, up to and including its terminator."""

    terminator: str
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.terminator == "OK" and not self.error()

    def values(self) -> dict[str, str]:
        """``*c``/``*s`` lines as {path: value}; paths keep the device's spelling.

        A whole tree is hundreds of lines: split with str methods rather than a regular
        expression per line (the same cut: the path ends at the first colon)."""
        found: dict[str, str] = {}
        for line in self.lines:
            if len(line) < 4 or line[0] != "*" or line[1] not in "csCS" or line[2] != " ":
                continue
            rest = line[3:]
            if rest[:15].lower() == "xconfiguration ":
                rest = rest[15:]
            path, colon, value = rest.partition(":")
            if not colon or not path:
                continue
            found[path.strip()] = unquote(value[1:] if value[:1] == " " else value)
        return found

    def error(self) -> str | None:
        """The device's reason when the answer is a refusal, else None."""
        if self.terminator == "Command not recognized.":
            return "Command not recognized."
        failed = self.terminator == "ERROR" or _FAILED.search("\n".join(self.lines)) is not None
        if not failed:
            return None
        reasons = [unquote(m.group(1)) for m in (_REASON.search(line) for line in self.lines) if m]
        return reasons[0] if reasons else "refused"

    def xpath(self) -> str | None:
        for line in self.lines:
            match = _XPATH.search(line)
            if match:
                return xpath_to_path(unquote(match.group(1)))
        return None


class TerminalReader:
    """Cuts a terminal-mode byte stream into answers: output lines, then a terminator line.

    A terminator is a whole line (``SignalState: OK`` is a value, not a terminator). Lines
    that belong to no answer (echoed commands, the banner, ``Last login ...``) are dropped.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._lines: list[str] = []

    def feed(self, text: str) -> list[TerminalReply]:
        buffer = self._buffer + text
        replies = []
        start = 0
        for cut in _LINE_END.finditer(buffer):
            line, start = buffer[start:cut.start()], cut.end()
            if "\x1b" in line:
                line = _ANSI.sub("", line)
            line = line.rstrip()
            if line in TERMINATORS:
                replies.append(TerminalReply(line, self._lines))
                self._lines = []
            elif line.startswith("*"):
                self._lines.append(line)
        self._buffer = buffer[start:]
        return replies

    def start_answer(self) -> None:
        """A command goes out: output lines seen so far belonged to an earlier answer."""
        self._lines = []


# --- identity ----------------------------------------------------------------------------

def identity_from(values: Mapping[str, str | None]) -> Identity:
    """An Identity from the status values at IDENTITY_PATHS."""
    product = values.get(IDENTITY_PATHS["product"]) or ""
    platform = values.get(IDENTITY_PATHS["platform"])
    software = values.get(IDENTITY_PATHS["software"])
    if not software:
        raise ProtocolError("the device did not report SystemUnit Software Version")
    serial = values.get(IDENTITY_PATHS["serial"]) or values.get(IDENTITY_PATHS["mainboard_serial"]) or ""
    return Identity(vendor="cisco", product=product or (platform or ""),
                    model=support.model_of_product(platform, product), software=software, serial=serial)


def is_tc(software: str) -> bool:
    """TC 7 and older answer `TC7.3.6.xxxx`; CE answers `ce9.4.0.xxxx`."""
    return software.lower().startswith("tc")
