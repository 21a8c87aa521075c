"""The Group Series firmware's own legacy-API tables, as the simulator's command parser.

`polycom_firmware/` holds byte-for-byte copies of the tables a RealPresence Group 500 on
6.2.2.8 carries (legacycommands.txt, legacyresults.txt, legacyparams.txt,
accessprivileges.properties) and a real configuration export; see its README.md.
Row format: `<command>,<type>,<internal>,<translateParams>,<translateResults>,
<min>[/<max> params],<response template>,<action>`.
"""
from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("polycom_firmware")


@dataclass(frozen=True)
class CommandSpec:
    name: str  # the table's spelling, e.g. `ver[|sion]`
    words: tuple[str, ...]  # one expanded spelling, e.g. ("version",)
    kind: str  # the table's type column: getconfig, setconfig, system, whoami ...
    translate_params: bool
    translate_results: bool
    min_params: int
    max_params: int | None  # None: no upper bound
    template: str  # response template (`$^ {0}`, `nop` ...)
    action: str  # `$config.key`, `config.key={0}`, `nop` ...

    @property
    def root(self) -> str:
        return self.words[0]

    @property
    def config_key(self) -> str | None:
        """The config key a getconfig/setconfig row reads or writes."""
        if self.kind == "getconfig" and self.action.startswith("$"):
            return self.action[1:].strip().lower()
        if self.kind == "setconfig" and "=" in self.action:
            return self.action.split("=", 1)[0].strip().lower()
        return None


def _expand(name: str) -> list[tuple[str, ...]]:
    """`ver[|sion]` -> [("ver",), ("version",)]; `lanport[| set]` -> [("lanport",), ("lanport", "set")]."""
    parts = re.split(r"(\[[^\]]*\])", name)
    choices = [part[1:-1].split("|") if part.startswith("[") else [part] for part in parts]
    seen: dict[tuple[str, ...], None] = {}
    for combo in itertools.product(*choices):
        words = tuple("".join(combo).split())
        if words:
            seen[words] = None
    return list(seen)


def _params(field: str) -> tuple[int, int | None]:
    low, _, high = field.strip().partition("/")
    return int(low or 0), (int(high) if high.strip() else None)


def _row(line: str) -> list[CommandSpec]:
    fields = line.split(",")
    if len(fields) < 8:
        return []
    if len(fields) > 8 and not re.match(r"\s*\d", fields[5]):
        fields = [fields[0]] + fields[2:]  # one row carries a stray extra column
    name, kind, _internal, tparams, tresults, counts = (f.strip() for f in fields[:6])
    template, action = fields[6], ",".join(fields[7:])
    try:
        low, high = _params(counts)
    except ValueError:
        return []
    return [CommandSpec(name, words, kind, tparams == "True", tresults.strip() == "True", low, high,
                        template.strip(), action.strip()) for words in _expand(name)]


@functools.lru_cache(maxsize=1)
def commands() -> tuple[CommandSpec, ...]:
    specs: list[CommandSpec] = []
    for line in (DATA / "legacycommands.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            specs.extend(_row(line))
    return tuple(specs)


def _pairs(file: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in (DATA / file).read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("|")
        if sep and key not in table:
            table[key] = value
    return table


@functools.lru_cache(maxsize=1)
def results() -> dict[str, str]:
    """legacyresults.txt: `_unknowncmd` -> `error: command not found`, `amxdd.True` -> `on` ..."""
    return _pairs("legacyresults.txt")


@functools.lru_cache(maxsize=1)
def params() -> dict[str, str]:
    """legacyparams.txt: `allowdialing.yes` -> `True` ..."""
    return _pairs("legacyparams.txt")


def error(key: str, arg: str = "") -> str:
    """An error line exactly as the firmware words it (`_unknowncmd` ...)."""
    return results()[key].replace("{0}", arg)


@functools.lru_cache(maxsize=1)
def export_defaults() -> dict[str, str]:
    """The real 6.2.2.8 export as config key (lower case) -> raw value."""
    values: dict[str, str] = {}
    for line in (DATA / "exportConfiguration.profile").read_text(encoding="utf-8").splitlines():
        kind, _, rest = line.partition(":")
        key, _, value = rest.partition(":")
        if kind == "v":
            values[key.lower()] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
        elif kind == "h" and key.startswith("system."):
            values.setdefault(key.lower(), value)
    return values


@dataclass(frozen=True)
class Match:
    spec: CommandSpec
    params: list[str]


class CommandTable:
    """Finds the row for a tokenised command, with the firmware's abbreviation rule."""

    def __init__(self, specs: tuple[CommandSpec, ...]) -> None:
        self.specs = specs

    def match(self, tokens: list[str]) -> Match | str:
        """The matching row and its parameters, or the firmware's error line."""
        pool, best, depth = list(self.specs), None, 0
        while depth < len(tokens):
            word = self._resolve(tokens[depth], {s.words[depth] for s in pool if len(s.words) > depth})
            if word is None:
                break
            pool = [s for s in pool if len(s.words) > depth and s.words[depth] == word]
            depth += 1
            complete = [s for s in pool if len(s.words) == depth]
            if complete:
                best = Match(complete[0], tokens[depth:])
        if best is not None:
            return best
        if depth == 0:
            return error("_unknowncmd")
        # The table's text starts with a space; the firmware prints it as it stands.
        return error("_unknownsubcmd", tokens[depth] if depth < len(tokens) else "")

    @staticmethod
    def _resolve(token: str, words: set[str]) -> str | None:
        # "all tokens can be abbreviated to the minimum number of characters required to
        # make a unique abbreviation" (legacyapihelp.txt); commands are case sensitive.
        if token in words:
            return token
        candidates = [w for w in words if w.startswith(token)]
        return candidates[0] if len(candidates) == 1 else None

    def spelled(self, words: tuple[str, ...]) -> CommandSpec | None:
        return next((s for s in self.specs if s.words == words), None)


@functools.lru_cache(maxsize=1)
def table() -> CommandTable:
    return CommandTable(commands())
