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
