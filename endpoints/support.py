"""The support matrix: which models run which software line, over which APIs (NAPALM-style).

One table, the only place these facts are written. Inventory validation (model names,
transports a model offers), driver choice (family and transport -> driver), the tested
minimum software, the lab's simulated rooms and the README's support table are all
derived from it. Adding a model line is one `Line` row here plus one profile file.

This module is plain data with no product logic, so the lab may read it too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# --- families: one vendor API family, the transports it offers, the driver of each ------


@dataclass(frozen=True)
class Api:
    """One transport of a family: the driver that speaks it and the protocol beneath it."""

    transport: str  # the inventory's `transport` value
    driver: str  # "module:Class", imported on demand
    protocol: str  # the `ports` key: http, https, ssh, telnet
    port: int  # the device's default port for it
    ssh_host_keys: tuple[str, ...] = ()  # host-key algorithms to offer; () the client's modern default


@dataclass(frozen=True)
class Family:
    name: str  # cisco | polycom-group | polycom-hdx (the profiles' `vendor`)
    vendor: str  # cisco | polycom
    apis: tuple[Api, ...]  # in order of preference: the first is the default transport

    @property
    def transports(self) -> tuple[str, ...]:
        return tuple(api.transport for api in self.apis)

    def api(self, transport: str) -> Api | None:
        return next((a for a in self.apis if a.transport == transport), None)


_CISCO = "endpoints.drivers.cisco:CiscoDriver"
_GROUP_SSH = ("ssh-rsa",)  # Group Series offers only the legacy SHA-1 `ssh-rsa` host key
_LINE = "endpoints.drivers.polycom_line:PolycomLineDriver"

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("cisco", "cisco", (
        Api("https", _CISCO, "https", 443),
        Api("http", _CISCO, "http", 80),
        Api("ssh", _CISCO, "ssh", 22),
    )),
    Family("polycom-group", "polycom", (
        Api("rest", "endpoints.drivers.polycom_rest:GroupRestDriver", "https", 443),
        Api("ssh", _LINE, "ssh", 22, ssh_host_keys=_GROUP_SSH),
        Api("telnet", _LINE, "telnet", 24),
    )),
    Family("polycom-hdx", "polycom", (
        Api("telnet", _LINE, "telnet", 24),
        Api("http", "endpoints.drivers.hdx_http:HdxHttpDriver", "http", 80),
    )),
)}
TRANSPORTS: tuple[str, ...] = tuple(dict.fromkeys(t for f in FAMILIES.values() for t in f.transports))
PROTOCOL_OF: dict[str, str] = {a.transport: a.protocol for f in FAMILIES.values() for a in f.apis}


# --- the matrix: software lines, their models and tested minimums ------------------------


@dataclass(frozen=True)
class Line:
    """One row: models of one family on one software line, with its built-in profile."""

    profile: str  # the built-in profile that drives this line
    family: str
    software: str  # the line as people name it ("CE 8/9", "TC 7")
    models: tuple[str, ...]
    tested_minimum: str | None  # dotted version these models were tested from; None: untested
    lab_software: str  # what the lab's simulated room reports (`SystemUnit Software Version` ...)
    tested: bool = True  # named in the service's list of tested terminals


MATRIX: tuple[Line, ...] = (
    Line("cisco-ce", "cisco", "CE 8/9", ("SX10",), "8.2.1", "ce8.2.1.e9daf06"),
    Line("cisco-ce", "cisco", "CE 8/9", ("SX20",), "9.4.0", "ce9.4.0.cd3c4c6"),
    Line("cisco-tc", "cisco", "TC 7", ("SX80",), "7.3.6", "TC7.3.6.b3d8e2c"),
    Line("cisco-roomos", "cisco", "RoomOS 11", ("Room Kit", "Room Bar", "Desk Pro"), None,
         "ce11.19.1.6.76526b1b094", tested=False),
    Line("polycom-group", "polycom-group", "6.x", ("Group 550",), "6.2.0", "6.2.0-670021"),
    Line("polycom-group", "polycom-group", "6.x", ("Group 310", "Group 500", "Group 700"), None,
         "6.2.0-670021", tested=False),
    Line("polycom-hdx", "polycom-hdx", "3.x", ("HDX 4500", "HDX 6000", "HDX 7000", "HDX 8000"), "3.1.7",
         "3.1.7-59104"),
    Line("polycom-hdx", "polycom-hdx", "3.x", ("HDX 9000",), None, "3.1.7-59104", tested=False),
)

# How a device names itself (Cisco ProductPlatform/ProductId, Polycom model) -> canonical model.
# The first pattern that matches wins, so longer names come before their prefixes.
_PRODUCT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\bSX\s?10\b", "SX10"),
    (r"\bSX\s?20\b", "SX20"),
    (r"\bSX\s?80\b", "SX80"),
    (r"\broom\s*kit\s*$", "Room Kit"),
    (r"\broom\s*bar\s*$", "Room Bar"),
    (r"\bdesk\s*pro\s*$", "Desk Pro"),
    (r"\bgroup\s*310\b", "Group 310"),
    (r"\bgroup\s*500\b", "Group 500"),
    (r"\bgroup\s*550\b", "Group 550"),
    (r"\bgroup\s*700\b", "Group 700"),
    (r"\bhdx\s*45\d\d\b", "HDX 4500"),
    (r"\bhdx\s*6\d{3}\b", "HDX 6000"),
    (r"\bhdx\s*7\d{3}\b", "HDX 7000"),
    (r"\bhdx\s*8\d{3}\b", "HDX 8000"),
    (r"\bhdx\s*9\d{3}\b", "HDX 9000"),
)
_PRODUCTS = tuple((re.compile(p, re.IGNORECASE), m) for p, m in _PRODUCT_PATTERNS)


def _key(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).upper()


MODELS: tuple[str, ...] = tuple(m for line in MATRIX for m in line.models)
_MODEL_KEYS: dict[str, str] = {_key(m): m for m in MODELS}
_LINES_OF: dict[str, tuple[Line, ...]] = {
    m: tuple(line for line in MATRIX if m in line.models) for m in MODELS}


def canonical_model(text: str) -> str | None:
    """An inventory's model as written (`sx20`, `group550`, `HDX-7000`) -> `SX20` ...; None if unknown."""
    return _MODEL_KEYS.get(_key(text))


def model_of_product(*names: str | None) -> str | None:
    """The canonical model from how the device names itself (`Cisco TelePresence SX20`, `HDX 9006`)."""
    for name in names:
        for pattern, model in _PRODUCTS:
            if name and pattern.search(name):
                return model
    return None


def family_of(model: str) -> Family:
    """The family of a canonical model; KeyError for a model the matrix does not hold."""
    return FAMILIES[_LINES_OF[model][0].family]


def lines_of(model: str) -> tuple[Line, ...]:
    return _LINES_OF.get(model, ())


def tested_minimum(model: str | None, profile: str) -> tuple[int, ...] | None:
    """The tested minimum software of a model on a profile's line, as a version tuple."""
    for line in _LINES_OF.get(model or "", ()):
        if line.profile == profile and line.tested_minimum:
            return tuple(int(p) for p in line.tested_minimum.split("."))
    return None


# A room without `model` is probed among the families that offer its transport, in this order.
# Over http the HDX driver goes first: it answers the server's challenge, so on a Cisco codec it
# logs in (no failed login) and finds no API there; the Cisco driver sends Basic credentials up
# front, which an HDX (Digest) would count as a failed login.
PROBE_FIRST: dict[str, tuple[str, ...]] = {"http": ("polycom-hdx",)}


def families_with(transport: str) -> tuple[Family, ...]:
    """The families that offer a transport, in the order a room without `model` is probed."""
    offered = [f for f in FAMILIES.values() if transport in f.transports]
    first = PROBE_FIRST.get(transport, ())
    return tuple(sorted(offered, key=lambda f: (f.name not in first, list(FAMILIES).index(f.name))))


def default_port(transport: str) -> int:
    """The device's default port of a transport or protocol (`rest` and `https`: 443)."""
    return next(a.port for f in FAMILIES.values() for a in f.apis if transport in (a.transport, a.protocol))


def ssh_host_keys(family: str) -> tuple[str, ...] | None:
    """The host-key algorithms to offer a family's SSH server (None: the client's default)."""
    api = FAMILIES[family].api("ssh")
    return api.ssh_host_keys or None if api else None


def supported_summary() -> str:
    """One phrase for advice: the lines this tool drives."""
    return "; ".join(f"{', '.join(line.models)} on {line.software}" for line in MATRIX if line.tested)


def markdown_table() -> str:
    """The README's support table, generated from MATRIX (a test keeps the README in step)."""
    rows = ["| models | software | tested from | APIs (first is the default) | profile |",
            "|---|---|---|---|---|"]
    for line in MATRIX:
        apis = ", ".join(FAMILIES[line.family].transports)
        minimum = line.tested_minimum or "untested"
        rows.append(f"| {', '.join(line.models)} | {line.software} | {minimum} | {apis} | `{line.profile}` |")
    return "\n".join(rows)
