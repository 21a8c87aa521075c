"""Turn pydantic validation errors on YAML data into InputErrors naming file, line and key."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import pydantic

from endpoints.errors import InputError
from endpoints.yamlfile import line_of


def locate(data: Any, loc: Sequence[str | int]) -> int | None:
    """The line of the deepest element of `loc` found in the loaded YAML."""
    line, node = line_of(data), data
    for part in loc:
        here = line_of(node, part)
        line = here or line
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def input_error(exc: pydantic.ValidationError, data: Any, *, file: str, prefix: str = "",
                known: Iterable[str] = ()) -> InputError:
    """The first validation error as an InputError; unknown keys get a did-you-mean."""
    error = exc.errors()[0]
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    key = ".".join(str(p) for p in ([prefix] if prefix else []) + loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = unknown_key(loc[-1], known)
    elif error["type"] == "missing":
        message = "required key is missing"
    return InputError(message, file=file, line=locate(data, loc), key=key)


def unknown_key(key: Any, choices: Iterable[str]) -> str:
    """`unknown key 'adress' (did you mean 'address'?)`, or the keys there are."""
    known = list(choices)
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return f"unknown key '{key}' ({hint})"


def one_edit(a: str, b: str) -> bool:
    """True when b is a with exactly one character inserted, deleted, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((n for n, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


def likely_typo(key: str, known: Iterable[str], *, shortest: int = 4) -> str | None:
    """The known key that `key` was probably meant to be, or None for a key of its own.

    The rule: after lower-casing and reading `-` as `_`, the key equals a known key, or is
    one edit (insert, delete, replace, swap of neighbours) away from a known key, where both
    are at least `shortest` characters long: `adress`, `modle`, `transprot`, `tls_verfy`,
    `Address`, `tls-verify` are typos; `ip`, `zip` and `vlan` are free variables of their own."""
    norm = key.lower().replace("-", "_")
    choices = list(known)
    for choice in choices:
        if norm == choice and key != choice:
            return choice
    if len(norm) < shortest:
        return None
    return next((c for c in choices if len(c) >= shortest and one_edit(norm, c)), None)
