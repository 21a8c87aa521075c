"""An INI inventory, read as Ansible's `ini` inventory plugin reads it.

    room-lobby ansible_host=10.0.0.9      # before any section: ungrouped
    [building_a]                          # hosts of a group, with key=value variables
    room-a[101:103] model=SX20 transport=https
    [building_a:vars]                     # one variable a line, for every host of the group
    location="Building A"
    [campus:children]                     # groups inside a group
    building_a

Values are Python literals where they parse as one (`2222`, `True`, `"quoted"`,
`{'number': '+99111612345'}`), else text, as in Ansible. A `[g:vars]` or `[g:children]`
naming a group this file never declares is an error at the end of the file, as in Ansible.
"""
from __future__ import annotations

import ast
import re
import shlex
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints.inventory import schema, yaml_source
from endpoints.inventory.tree import Forest, Layer, Where
from endpoints.yamlfile import LineList, LineMap, WrittenFloat, WrittenInt

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


@dataclass
class _Pending:
    """A group named by `[g:vars]` or `[x:children]` before this file declares it."""

    state: str
    where: Where
    parents: list[str] = field(default_factory=list)


def read(forest: Forest, file: str, text: str) -> None:
    """Add one INI inventory to the forest."""
    _Reader(forest, file).read(text.splitlines())


class _Reader:
    def __init__(self, forest: Forest, file: str) -> None:
        self.forest = forest
        self.file = file
        self.base = Path(file).parent
        self.group, self.state = "ungrouped", "hosts"
        self.pending: dict[str, _Pending] = {}
        self.section_vars: Layer | None = None

    def read(self, lines: list[str]) -> None:
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            where = Where(self.file, number, f"[{self.group}:{self.state}]")
            section = _SECTION.match(line)
            if section:
                self.header(section.group(1), section.group(2) or "hosts", Where(self.file, number, line))
            elif line.startswith("[") and line.endswith("]"):
                raise where.error(f"'{line}' is not a section header: [group], [group:vars] or "
                                  "[group:children], without spaces")
            elif self.state == "hosts":
                self.host_line(line, number)
            elif self.state == "vars":
                self.vars_line(line, number)
            else:
                self.child_line(line, where)
        for name, pending in self.pending.items():
            if pending.state == "vars":
                raise pending.where.error(f"[{name}:vars] is for a group this file never declares "
                                          f"(add a [{name}] section)")
            raise pending.where.error(f"[{pending.parents[-1]}:children] names group '{name}', which this "
                                      f"file never declares (add a [{name}] section)")

    def header(self, name: str, state: str, where: Where) -> None:
        if state not in ("hosts", "children", "vars"):
            raise where.error(f"section {where.key} has an unknown type '{state}' (hosts, vars or children)")
        self.group, self.state = name, state
        if name not in self.forest.groups and state == "vars":
            self.pending.setdefault(name, _Pending("vars", where))
        group = self.forest.group(name, where)
        pending = self.pending.get(name)
        if pending is not None and state != "vars":
            for parent in pending.parents:
                self.forest.add_child(parent, name, pending.where)
            del self.pending[name]
        if state == "vars":
            self.section_vars = Layer(LineMap(where.line or 0), Where(self.file, where.line, f"{name}:vars"),
                                      self.base)
            group.vars.append(self.section_vars)

    def host_line(self, line: str, number: int) -> None:
        where = Where(self.file, number, self.group)
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise where.error(f"cannot read this host line: {exc}") from None
        if not tokens:
            return
        pattern = tokens[0]
        if pattern == "---" or (pattern.endswith(":") and ":" not in pattern[:-1]):
            raise where.error(f"'{pattern}' is not a host: is this file YAML? Name it .yaml or .yml")
        where = Where(self.file, number, pattern)
        values = LineMap(number)
        for token in tokens[1:]:
            key, equals, text = token.partition("=")
            if not equals or not key:
                raise where.error(f"expected key=value after the host name, got '{token}'")
            self.put(values, key, text, where)
        layer = Layer(values, where, self.base) if values else None
        if layer is not None:
            schema.check_layer(layer, host=True)
        yaml_source.add_hosts(self.forest, self.group, pattern, layer, where)

    def vars_line(self, line: str, number: int) -> None:
        key, equals, text = (part.strip() for part in line.partition("="))
        where = Where(self.file, number, f"{self.group}:vars")
        if not equals or not key:
            raise where.error(f"expected key=value in [{self.group}:vars], got '{line}'")
        assert self.section_vars is not None
        if key == "ansible_group_priority":
            here = where.child(key, number)
            self.forest.groups[self.group].priority = yaml_source.priority(literal(text), here)
            return
        values = self.section_vars.values
        self.put(values, key, text, where)
        one = LineMap(number)
        one[key], one.key_lines[key] = values[key], number
        schema.check_layer(Layer(one, where, self.base))

    def child_line(self, line: str, where: Where) -> None:
        match = _GROUP_NAME.match(line)
        if not match:
            raise where.error(f"expected a group name in [{self.group}:children], got '{line}'")
        child = match.group(1)
        here = Where(self.file, where.line, f"{self.group}:children.{child}")
        if child in self.forest.groups:
            self.forest.add_child(self.group, child, here)
        else:
            self.pending.setdefault(child, _Pending("children", here)).parents.append(self.group)

    def put(self, values: LineMap, key: str, text: str, where: Where) -> None:
        if key in values:
            raise where.child(key, where.line).error(
                f"duplicate key '{key}' (first written at line {values.key_lines[key]})")
        values[key] = literal(text, where.line or 0)
        values.key_lines[key] = where.line or 0


def literal(text: str, line: int = 0) -> Any:
    """An INI value: a Python literal where it parses as one, else the text itself (Ansible's rule)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _loaded(value, text, line)


def _loaded(value: Any, text: str, line: int) -> Any:
    """A literal as the YAML reader would have loaded it: numbers keep their text, containers their line."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        number = WrittenInt(value)
        number.text = text.strip() if _INTEGER.match(text.strip()) else str(value)
        return number
    if isinstance(value, float):
        real = WrittenFloat(value)
        real.text = str(value)
        return real
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        mapping = LineMap(line)
        for key, item in value.items():
            mapping[key], mapping.key_lines[key] = _loaded(item, str(item), line), line
        return mapping
    if isinstance(value, (list, tuple, set)):
        items = LineList(line)
        for item in value:
            items.append(_loaded(item, str(item), line))
            items.item_lines.append(line)
        return items
    if value is ...:
        return "..."
    return value if isinstance(value, str) else str(value)
