"""Load Ansible inventories into validated `Host` objects: what `ansible-inventory` reads, merged as Ansible merges.

`load_inventory(sources)` takes one `-i` source or several, merged in order. A source is a
YAML or INI file, a folder of them, or a comma-separated host list (`reading`); beside each,
`group_vars/` and `host_vars/` are read (`vars_dirs`). Host patterns expand ranges
(`ranges`), variables take Ansible's precedence (`merge`) and are validated per host
(`hosts`, `schema`). Every error names the file, the line and the dotted key. Secrets stay
lazy: nothing is read from the environment or from secret files here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from endpoints.errors import InputError
from endpoints.host import Host
from endpoints.inventory import hosts as host_builder
from endpoints.inventory import merge, reading, vars_dirs
from endpoints.inventory.merge import Key, Origin
from endpoints.inventory.tree import Forest, Layer, Where
from endpoints.validation import one_edit

__all__ = ["Inventory", "check_drivable", "load_inventory"]


@dataclass(frozen=True)
class Inventory:
    hosts: dict[str, Host]  # in the order the sources first define them
    groups: dict[str, set[str]]  # group -> every host in it or in its children; `all`, `ungrouped`
    path: Path  # the first source
    sources: tuple[Path, ...] = ()
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> its child groups


def load_inventory(sources: Path | str | Sequence[Path | str]) -> Inventory:
    """Read, validate and resolve the inventory; raises InputError naming file, line, key."""
    paths = [Path(sources)] if isinstance(sources, (str, Path)) else [Path(p) for p in sources]
    if not paths:
        raise InputError("no inventory given: name one with -i")
    forest = Forest()
    budget = reading.Budget()
    for path in paths:
        reading.read_source(forest, str(path), budget)
    vars_dirs.read_all(forest, budget)
    return _Build(forest).inventory(paths)


def check_drivable(host: Host) -> None:
    """A room the tool is to drive needs `model`, `transport` or `profile`: without all three
    it cannot know which API to speak (with `transport` alone the device says what it is)."""
    if host.model is None and host.transport is None and host.profile is None:
        file, _, line = host.origin("model").rpartition(":")
        raise InputError(f"host '{host.name}': set model (e.g. SX20), or transport (one of the APIs: "
                         "https, http, ssh, rest, telnet) and the tool asks the device what it is",
                         file=file, line=int(line) if line.isdigit() else None, key="model")


class _Build:
    def __init__(self, forest: Forest) -> None:
        self.forest = forest
        self.groups = forest.groups

    def inventory(self, paths: list[Path]) -> Inventory:
        self.reconcile()
        self.check_cycles()
        depth = self.depths()
        members = self.members()
        self.check_all_typos(members)
        merge.check_hash_key_only_in_all(self.owned_layers())
        deep = merge.hash_behaviour(self.forest) == "merge"
        order = sorted((g for g in self.groups if g != "all"),
                       key=lambda g: (depth[g], self.groups[g].priority, g))
        hosts: dict[str, Host] = {}
        dropped: dict[str, list[tuple[Key, Origin]]] = {}
        for name, definition in self.forest.hosts.items():
            mine = [g for g in order if name in members[g]]
            merged = merge.merge(merge.host_layers(self.forest, name, mine), deep=deep)
            if merged.dropped:
                dropped[name] = merged.dropped
            hosts[name] = host_builder.build(definition, merged, tuple(reversed(mine)))
        merge.warn_dropped(dropped)
        listed = ["all", *(g for g in self.groups if g not in ("all", "ungrouped")), "ungrouped"]
        return Inventory(hosts=hosts, groups={g: members[g] for g in listed}, path=paths[0],
                         sources=tuple(paths),
                         children={g: tuple(self.groups[g].children) for g in listed})

    def reconcile(self) -> None:
        """As Ansible: a group without a parent is a child of `all`."""
        for name, group in list(self.groups.items()):
            if name != "all" and not group.parents:
                self.forest.add_child("all", name, group.where or Where("", None, name))

    def check_cycles(self) -> None:
        done: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            for child, where in self.groups[name].children.items():
                if child in (*stack, name):
                    chain = " -> ".join((*stack, name, child))
                    raise where.error(f"group '{child}' contains itself ({chain})")
                if child not in done:
                    visit(child, (*stack, name))
            done.add(name)

        for name in self.groups:
            if name not in done:
                visit(name, ())

    def depths(self) -> dict[str, int]:
        """Longest path from `all`, as Ansible counts a group's depth."""
        depth: dict[str, int] = {"all": 0}

        def of(name: str) -> int:
            if name not in depth:
                depth[name] = 1 + max(of(p) for p in self.groups[name].parents)
            return depth[name]

        for name in self.groups:
            of(name)
        return depth

    def members(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}

        def of(name: str) -> set[str]:
            if name not in found:
                group = self.groups[name]
                found[name] = set(group.hosts).union(*(of(c) for c in group.children))
            return found[name]

        for name in self.groups:
            if name != "all":
                of(name)
        found["all"] = set(self.forest.hosts)
        grouped = set().union(*(m for g, m in found.items() if g not in ("all", "ungrouped")))
        found["ungrouped"] = set(self.forest.hosts) - grouped  # as Ansible: no other group
        return found

    def check_all_typos(self, members: dict[str, set[str]]) -> None:
        """`All:` or an `allx:` holding no host is a typo of `all`: its vars would apply to nobody."""
        for name, group in self.groups.items():
            if name == "all":
                continue
            low = name.lower()
            if low == "all" or (one_edit(low, "all") and not members[name]):
                where = group.where or Where("", None, name)
                raise where.error(f"group '{name}' holds no host, so its vars apply to nobody "
                                  "(did you mean 'all'?)" if low != "all" else
                                  f"'{name}' is not 'all' (group names are case-sensitive)")

    def owned_layers(self) -> list[tuple[str, Layer]]:
        """Every layer of variables with the group or host it belongs to."""
        layers = [(g.name, layer) for g in self.groups.values() for layer in g.vars]
        layers += [(h.name, layer) for h in self.forest.hosts.values() for layer in h.vars]
        for owner, files in (*self.forest.group_files.items(), *self.forest.host_files.items()):
            layers += [(owner, layer) for f in files for layer in f.layers]
        return layers
