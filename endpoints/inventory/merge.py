"""Each host's variables from the forest, with Ansible's precedence, and where each value is written.

Lowest to highest, as Ansible's default `VARIABLE_PRECEDENCE`:
1. `all`'s vars written in inventory sources;
2. every other group of the host, by depth (a parent before its child), then
   `ansible_group_priority`, then name;
3. `group_vars/all` beside each source, in source order;
4. the host's groups' `group_vars/` files: source by source, each in the order of 2;
5. the host's own entries in inventory sources, in reading order;
6. its `host_vars/` files, in source order.
Mappings merge key by key (the contract's deep merge, Ansible's `hash_behaviour=merge`): a
group's `sip: {proxy: ...}` and a host's `sip: {number: ...}` make one account, as a rollout
inventory means them (a proxy silently lost to a host's `sip:` would send the room to the
wrong server). With `endpoints_hash_behaviour: replace` in `all`'s vars, a later layer
replaces a mapping whole, as Ansible's default does; lists are always replaced.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints import desired
from endpoints.inventory import schema
from endpoints.inventory.tree import Forest, Layer, VarsFile, Where

log = logging.getLogger(__name__)

Key = tuple[Any, ...]
TRACKED = (*schema.NESTED, "profile_vars")  # mappings whose inner keys get origins of their own
MODES = ("replace", "merge")
# What a dropped key falls back to; losing a value equal to it changes nothing, so is not reported.
DEFAULTS = {("sip", "domain"): desired.DEFAULT_DOMAIN, ("sip", "registrar"): desired.DEFAULT_REGISTRAR,
            ("sip", "proxy"): desired.DEFAULT_PROXY, ("sip", "transport"): "tls",
            ("device_credentials", "username"): "admin"}


@dataclass(frozen=True)
class Origin:
    where: Where
    base: Path  # what a relative path in this value is relative to


@dataclass
class Merged:
    """One host's merged variables: values as loaded, and where each (dotted) key's value is written."""

    values: dict[Any, Any] = field(default_factory=dict)
    origins: dict[Key, Origin] = field(default_factory=dict)
    dropped: list[tuple[Key, Origin]] = field(default_factory=list)  # replaced away (replace mode)
    parents: set[Key] = field(default_factory=set)  # keys with origins of inner keys


def hash_behaviour(forest: Forest) -> str:
    """`merge` (the default: the contract's deep merge) or `replace` (Ansible's default), from
    `endpoints_hash_behaviour` in all's vars."""
    mode, where = "merge", None
    alls = [*forest.groups["all"].vars, *_files_of(forest.group_files.get("all", []))]
    for layer in alls:
        if schema.HASH_KEY in layer.values:
            mode, where = layer.values[schema.HASH_KEY], layer.at(schema.HASH_KEY)
    if where is not None and mode not in MODES:
        got = repr(mode) if isinstance(mode, str) else schema.kind(mode)
        raise where.error(f"{schema.HASH_KEY} must be merge or replace (got {got})")
    return str(mode)


def check_hash_key_only_in_all(layers: Iterable[tuple[str, Layer]]) -> None:
    for owner, layer in layers:
        if owner != "all" and schema.HASH_KEY in layer.values:
            raise layer.at(schema.HASH_KEY).error(
                f"{schema.HASH_KEY} applies to the whole inventory: set it in all's vars, not for '{owner}'")


def host_layers(forest: Forest, name: str, groups: list[str]) -> list[Layer]:
    """The layers of one host, lowest precedence first; `groups` sorted as in 2 (without `all`)."""
    layers = list(forest.groups["all"].vars)
    for group in groups:
        layers.extend(forest.groups[group].vars)
    layers.extend(_files_of(forest.group_files.get("all", [])))
    for index in range(len(forest.sources)):
        for group in groups:
            layers.extend(_files_of(forest.group_files.get(group, []), index))
    layers.extend(forest.hosts[name].vars)
    layers.extend(_files_of(forest.host_files.get(name, [])))
    return layers


def _files_of(files: list[VarsFile], source: int | None = None) -> list[Layer]:
    """The layers of vars files, in order; of one source only when `source` is given."""
    return [layer for f in files if source is None or f.source == source for layer in f.layers]


def _default(key: Key, value: Any) -> bool:
    default = DEFAULTS.get(key)
    return default is not None and str(schema.as_text(value)).strip().lower() == default


def merge(layers: Iterable[Layer], *, deep: bool) -> Merged:
    merged = Merged()
    for layer in layers:
        for key, value in layer.values.items():
            if key == schema.HASH_KEY:
                continue
            if deep:
                _merge_deep(merged, merged.values, (key,), value, layer)
            else:
                _replace(merged, key, value, layer)
    return merged


def _replace(merged: Merged, key: Any, value: Any, layer: Layer) -> None:
    old = merged.values.get(key)
    if key in schema.NESTED and isinstance(old, Mapping) and isinstance(value, Mapping):
        merged.dropped.extend(((key, k), merged.origins[(key, k)]) for k, v in old.items()
                              if k not in value and (key, k) in merged.origins and not _default((key, k), v))
    _forget(merged, (key,))
    merged.values[key] = value
    _record(merged, (key,), value, layer)


def _merge_deep(merged: Merged, into: dict[Any, Any], here: Key, value: Any, layer: Layer) -> None:
    key = here[-1]
    old = into.get(key)
    if isinstance(value, Mapping) and isinstance(old, Mapping):
        if not isinstance(old, _Merging):
            old = into[key] = _Merging(old)
        merged.origins[here] = Origin(layer.at(*here), layer.base)
        merged.parents.add(here)
        for sub, item in value.items():
            _merge_deep(merged, old, (*here, sub), item, layer)
        return
    _forget(merged, here)
    into[key] = value
    _record(merged, here, value, layer)


class _Merging(dict):  # type: ignore[type-arg]
    """A copy made while deep-merging, so that no layer's own mapping is ever changed."""


def _forget(merged: Merged, here: Key) -> None:
    merged.origins.pop(here, None)
    if here in merged.parents:
        for key in [k for k in merged.origins if k[: len(here)] == here]:
            del merged.origins[key]
        merged.parents -= {k for k in merged.parents if k[: len(here)] == here}


def _record(merged: Merged, here: Key, value: Any, layer: Layer) -> None:
    merged.origins[here] = Origin(layer.at(*here), layer.base)
    if here[0] in TRACKED and len(here) < 3 and isinstance(value, Mapping):
        merged.parents.add(here)
        for sub, item in value.items():
            _record(merged, (*here, sub), item, layer)


def warn_dropped(dropped: dict[str, list[tuple[Key, Origin]]]) -> None:
    """One warning for every host whose `sip:` (…) lost keys to a replacing mapping, as Ansible's rule says."""
    if not dropped:
        return
    name, losses = next(iter(dropped.items()))
    keys = ", ".join(f"{'.'.join(map(str, k))} ({o.where})" for k, o in losses[:3])
    others = f" and {len(dropped) - 1} more rooms" if len(dropped) > 1 else ""
    log.warning("host '%s'%s: a host's or child group's mapping replaces its group's whole, as in Ansible "
                "(hash_behaviour=replace), so these keys written for the group do not apply: %s. To merge "
                "mappings key by key (the default), drop %s: replace from all's vars", name, others, keys,
                schema.HASH_KEY)

