"""The inventory as read, before any merge: groups, hosts and every mapping of variables, with where each is written.

Every source (YAML, INI, a folder of them, `group_vars/`, `host_vars/`) adds to one `Forest`,
in the order Ansible reads them; `endpoints.inventory.merge` turns it into each host's variables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints.errors import InputError
from endpoints.yamlfile import LineList, LineMap


@dataclass(frozen=True)
class Where:
    """A place in an inventory source: file, line and the dotted key written there."""

    file: str
    line: int | None
    key: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def error(self, message: str) -> InputError:
        return InputError(message, file=self.file, line=self.line, key=self.key)

    def child(self, name: Any, line: int | None) -> Where:
        return Where(self.file, line or self.line, f"{self.key}.{name}" if self.key else str(name))


@dataclass(frozen=True)
class Layer:
    """One mapping of variables as written: a group's `vars`, a host entry, a `group_vars` file."""

    values: LineMap
    where: Where  # of the mapping itself; keys inside are `where.child(key)`
    base: Path = Path()  # what relative paths in it are relative to: its file's folder, or the
    # folder that holds group_vars/ and host_vars/ for the files in them

    def at(self, *path: Any) -> Where:
        """Where a (nested) key of this layer is written."""
        where: Where = self.where
        node: Any = self.values
        for part in path:
            line = node.key_lines.get(part) if isinstance(node, LineMap) else None
            if isinstance(node, LineList) and isinstance(part, int) and part < len(node.item_lines):
                line = node.item_lines[part]
            where = where.child(part, line)
            node = node.get(part) if isinstance(node, dict) else None
        return where


@dataclass
class Group:
    name: str
    vars: list[Layer] = field(default_factory=list)  # written in inventory sources, in reading order
    children: dict[str, Where] = field(default_factory=dict)  # child group -> where it is listed
    parents: set[str] = field(default_factory=set)
    hosts: dict[str, None] = field(default_factory=dict)  # direct members, in order
    priority: int = 1  # ansible_group_priority: among groups of equal depth, higher wins
    where: Where | None = None  # first definition


@dataclass
class HostDef:
    name: str
    where: Where  # first definition
    vars: list[Layer] = field(default_factory=list)  # every entry of this host, in reading order


@dataclass
class Source:
    """One `-i` argument: its files were read; `group_vars/` and `host_vars/` are looked up in `base`."""

    path: str
    base: str | None  # None: a host list (`-i 10.0.0.1,10.0.0.2`), which has no vars folders


@dataclass
class VarsFile:
    """The layers of `group_vars/<name>` or `host_vars/<name>` beside one source, file by file."""

    source: int  # index in Forest.sources
    layers: list[Layer]


class Forest:
    """Everything every source said, in reading order."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {"all": Group("all"), "ungrouped": Group("ungrouped")}
        self.hosts: dict[str, HostDef] = {}
        self.sources: list[Source] = []
        self.group_files: dict[str, list[VarsFile]] = {}
        self.host_files: dict[str, list[VarsFile]] = {}

    def group(self, name: str, where: Where) -> Group:
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = Group(name, where=where)
        elif group.where is None:
            group.where = where
        return group

    def add_child(self, parent: str, child: str, where: Where) -> None:
        self.group(child, where).parents.add(parent)
        self.groups[parent].children.setdefault(child, where)

    def add_host(self, group: str, name: str, where: Where, layer: Layer | None) -> HostDef:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = HostDef(name, where)
        if layer is not None:
            host.vars.append(layer)
        self.groups[group].hosts.setdefault(name)
        return host
