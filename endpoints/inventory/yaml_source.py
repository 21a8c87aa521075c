"""A YAML (or JSON) inventory, read as Ansible's `yaml` inventory plugin reads it.

Top-level keys are groups (`all` and any other, which Ansible puts under `all`); a group
holds `vars`, `hosts` and `children`, read in the order written. Where Ansible only warns
and skips (an unknown group key, a group that is not a mapping), this is an error naming
the line: half an inventory would put the wrong settings on real rooms.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from endpoints.inventory import ranges, schema
from endpoints.inventory.tree import Forest, Layer, Where
from endpoints.validation import unknown_key
from endpoints.yamlfile import LineMap, WrittenFloat, WrittenInt


def read(forest: Forest, file: str, root: Any) -> None:
    """Add one parsed YAML inventory document to the forest."""
    top = Where(file, 1)
    if root is None:
        raise top.error("the inventory is empty; it needs groups such as 'all' with hosts")
    if not isinstance(root, LineMap):
        raise top.error(f"a YAML inventory must be a mapping of groups such as 'all' (got {schema.kind(root)})")
    if "plugin" in root:
        raise Where(file, root.key_lines["plugin"], "plugin").error(
            "this is an inventory plugin's configuration, which endpoints does not run: "
            "export what it finds with `ansible-inventory -i FILE --list --yaml > static.yaml`")
    reader = _Reader(forest, file)
    for name, body in root.items():
        where = Where(file, root.key_lines[name], str(name))
        reader.group(reader.name(name, where, "group"), body, where)


class _Reader:
    def __init__(self, forest: Forest, file: str) -> None:
        self.forest = forest
        self.file = file
        self.base = Path(file).parent

    def name(self, key: Any, where: Where, what: str) -> str:
        if isinstance(key, (WrittenInt, WrittenFloat)) or not isinstance(key, str):
            raise where.error(f"a {what} name must be a string: quote it")
        if not key.strip():
            raise where.error(f"a {what} name cannot be empty")
        return key

    def group(self, name: str, body: Any, where: Where) -> None:
        self.forest.group(name, where)
        if body is None:
            return
        if not isinstance(body, LineMap):
            raise where.error(f"group '{name}' must be a mapping of vars, hosts and children "
                              f"(got {schema.kind(body)})")
        for key, value in body.items():
            here = where.child(key, body.key_lines[key])
            if key not in schema.GROUP_KEYS:
                raise here.error(unknown_key(key, schema.GROUP_KEYS))
            if value is None:
                continue
            if isinstance(value, str) and key != "vars":  # Ansible takes `hosts: room-1` for one host
                one = LineMap(here.line or 0)
                one[value], one.key_lines[value] = None, here.line or 0
                value = one
            if not isinstance(value, LineMap):
                raise here.error(f"'{key}' of group '{name}' must be a mapping (got {schema.kind(value)})")
            if key == "vars":
                self.vars(name, Layer(value, here, self.base))
            elif key == "hosts":
                for pattern, host_body in value.items():
                    self.hosts(name, pattern, host_body, here.child(pattern, value.key_lines[pattern]))
            else:
                for child, child_body in value.items():
                    child_where = here.child(child, value.key_lines[child])
                    child_name = self.name(child, child_where, "group")
                    self.forest.add_child(name, child_name, child_where)
                    self.group(child_name, child_body, child_where)

    def vars(self, name: str, layer: Layer) -> None:
        schema.check_layer(layer)
        group = self.forest.groups[name]
        if "ansible_group_priority" in layer.values:
            group.priority = priority(layer.values["ansible_group_priority"], layer.at("ansible_group_priority"))
            values = LineMap(layer.values.line)
            for key, value in layer.values.items():
                if key != "ansible_group_priority":
                    values[key], values.key_lines[key] = value, layer.values.key_lines[key]
            layer = Layer(values, layer.where, layer.base)
        group.vars.append(layer)

    def hosts(self, group: str, pattern: Any, body: Any, where: Where) -> None:
        text = self.name(pattern, where, "host")
        if body is not None and not isinstance(body, LineMap):
            raise where.error(f"host '{text}' must be a mapping of variables (got {schema.kind(body)})")
        layer = Layer(body, where, self.base) if body is not None else None
        if layer is not None:
            schema.check_layer(layer, host=True)
        add_hosts(self.forest, group, text, layer, where)


def priority(value: Any, where: Where) -> int:
    try:
        return int(schema.as_text(value))
    except (TypeError, ValueError):
        raise where.error(f"ansible_group_priority must be a whole number (got {schema.kind(value)})") from None


def add_hosts(forest: Forest, group: str, pattern: str, layer: Layer | None, where: Where) -> None:
    """Every host a pattern names joins the group; `host:port` sets its ansible_port when first seen."""
    host_part, port = ranges.split_port(pattern)
    try:
        names = ranges.expand(host_part)
    except ranges.PatternError as exc:
        raise where.error(str(exc)) from None
    for name in names:
        known = name in forest.hosts
        host = forest.add_host(group, name, where, None)
        if port is not None and not known:  # as Ansible: the port of the first definition
            values = LineMap(where.line or 0)
            values["ansible_port"], values.key_lines["ansible_port"] = port, where.line or 0
            host.vars.append(Layer(values, where, Path(where.file).parent))
        if layer is not None:
            host.vars.append(layer)
