"""Choose hosts with Ansible's pattern language (`--limit`).

Terms are host or group names, `all`/`*`, globs, `~regex`, and `@file` (one term a line).
`a:b` and `a,b` are unions, `&x` intersects and `!x` excludes; as in Ansible, unions are
applied first, then intersections, then exclusions, whatever the written order.
"""
from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable
from pathlib import Path

from endpoints.errors import InputError
from endpoints.inventory import Inventory

log = logging.getLogger(__name__)

# Ansible's split: a colon outside [...] separates terms, unless commas are used.
_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_HOST_SPECIALS = (".", "?", "*", "[")


def select(inventory: Inventory, pattern: str | None) -> list[str]:
    """Names of the hosts matching pattern, in inventory order; None selects every host."""
    if pattern is None:
        return list(inventory.hosts)
    terms = _expand_files(_split(pattern))
    if not terms:
        raise InputError(f"--limit {pattern!r} is empty")
    chosen: set[str] = set()
    for term in _order(terms):
        chosen = _apply(inventory, term, chosen)
    if not chosen:
        raise InputError(f"--limit {pattern!r} matches no host")
    return [name for name in inventory.hosts if name in chosen]


def _split(pattern: str) -> list[str]:
    parts = pattern.split(",") if "," in pattern else _TERM.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def _expand_files(terms: list[str]) -> list[str]:
    expanded: list[str] = []
    for term in terms:
        expanded.extend(_read_file(term[1:]) if term.startswith("@") else [term])
    return expanded


def _read_file(name: str) -> list[str]:
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read --limit file: {reason}", file=name) from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _order(terms: list[str]) -> list[str]:
    unions = [t for t in terms if t[0] not in "&!"]
    intersections = [t for t in terms if t[0] == "&"]
    exclusions = [t for t in terms if t[0] == "!"]
    return (unions or ["all"]) + intersections + exclusions


def _apply(inventory: Inventory, term: str, chosen: set[str]) -> set[str]:
    operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
    found = _match(inventory, body)
    if not found:
        log.warning("--limit term %r matches no host", term)
    if operator == "&":
        return chosen & found
    if operator == "!":
        return chosen - found
    return chosen | found


def _match(inventory: Inventory, term: str) -> set[str]:
    if term in ("all", "*"):
        return set(inventory.hosts)
    matches = _matcher(term)
    groups = [g for g in inventory.groups if matches(g)]
    found = set().union(*(inventory.groups[g] for g in groups))
    # as in Ansible: a plain name that is a group means the group, not a host of that name
    if not groups or term.startswith("~") or any(c in term for c in _HOST_SPECIALS):
        found |= {h for h in inventory.hosts if matches(h)}
    return found


def _matcher(term: str) -> Callable[[str], bool]:
    if not term.startswith("~"):
        return lambda name: fnmatch.fnmatchcase(name, term)
    try:
        regex = re.compile(term[1:])
    except re.error as exc:
        raise InputError(f"--limit: bad regular expression {term[1:]!r}: {exc}") from None
    return lambda name: regex.search(name) is not None
