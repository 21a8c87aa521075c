"""Choose hosts with Ansible's pattern language (`--limit`).

Terms are host or group names, `all`/`*`, globs, `~regex`, and `@file` (one term a line).
`a:b` and `a,b` are unions, `&x` intersects and `!x` excludes; as in Ansible, unions are
applied first, then intersections, then exclusions, whatever the written order.

A pattern is refused rather than guessed at: a bracket left open (`~[`, `~a[`, which a
colon split would silently cut to `~`, the whole fleet), an empty `~`, a bad regular
expression. A selection of no host is one error; a term that matches nothing while others
do is one warning.
"""
from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable
from pathlib import Path

from endpoints.errors import InputError
from endpoints.inventory import Inventory
from endpoints.yamlfile import read_text

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
    unmatched: list[str] = []
    for term in _order(terms):
        chosen = _apply(inventory, term, chosen, unmatched)
    if not chosen:
        missing = [t for t in unmatched if t != pattern]
        detail = f" ({', '.join(repr(t) for t in missing)} match nothing)" if missing else ""
        raise InputError(f"--limit {pattern!r} matches no host{detail}")
    for term in unmatched:
        log.warning("--limit term %r matches no host", term)
    return [name for name in inventory.hosts if name in chosen]


def _split(pattern: str) -> list[str]:
    if "," in pattern:
        parts = pattern.split(",")
    else:
        parts = _TERM.findall(pattern)
        rest = _TERM.sub("", pattern).replace(":", "").strip()
        if rest:  # Ansible's split drops what it cannot read; `~[` would become `~`, every host
            raise InputError(f"--limit {pattern!r}: unbalanced {rest[0]!r} (a [ needs its ], "
                             "or separate the terms with commas)")
    return [p.strip() for p in parts if p.strip()]


def _expand_files(terms: list[str]) -> list[str]:
    expanded: list[str] = []
    for term in terms:
        expanded.extend(_read_file(term[1:]) if term.startswith("@") else [term])
    return expanded


def _read_file(name: str) -> list[str]:
    text = read_text(Path(name), "--limit file")  # bounded: `@/dev/zero` fails at once
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _order(terms: list[str]) -> list[str]:
    unions = [t for t in terms if t[0] not in "&!"]
    intersections = [t for t in terms if t[0] == "&"]
    exclusions = [t for t in terms if t[0] == "!"]
    return (unions or ["all"]) + intersections + exclusions


def _apply(inventory: Inventory, term: str, chosen: set[str], unmatched: list[str]) -> set[str]:
    operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
    found = _match(inventory, body)
    if not found:
        unmatched.append(term)
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
    if not term[1:]:
        raise InputError("--limit: '~' needs a regular expression after it (e.g. '~^room-a')")
    try:
        regex = re.compile(term[1:])
    except re.error as exc:
        raise InputError(f"--limit: bad regular expression {term[1:]!r}: {exc}") from None
    return lambda name: regex.search(name) is not None
