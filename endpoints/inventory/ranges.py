"""Host patterns as Ansible writes them: `room-a[101:103]`, `[01:50]`, `[a:f]`, `[1:10:2]`, `host:2222`.

A pattern names one host or, with `[begin:end]` or `[begin:end:step]` ranges, several:
a begin with a leading zero sets the width (`[01:10]` -> `01` … `10`, begin and end of
equal length), one-letter bounds count letters, several ranges multiply. A trailing
`:port` (or `[v6]:port`) is the host's `ansible_port`; it is taken only when what is left
is an IP address or a DNS-style name, as Ansible does.
"""
from __future__ import annotations

import ipaddress
import re
import string

MAX_HOSTS = 65_536  # hosts one pattern may name; `[1:100000000]` is a typo, not a building

_RANGE = re.compile(r"\[[^\]]*\]")
_BRACKETED_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_LABEL = re.compile(r"^\w(?:[\w-]*(?<![_-]))?$", re.UNICODE)


class PatternError(ValueError):
    """A host pattern that names no host; the message says why, the caller says where."""


def split_port(pattern: str) -> tuple[str, int | None]:
    """`host:2222` -> (`host`, 2222); a pattern that is not an address keeps its colon."""
    for form in (_BRACKETED_PORT, _HOST_PORT):
        match = form.match(pattern)
        if match and _is_address(match.group(1)):
            return match.group(1), int(match.group(2))
    return pattern, None


def _is_address(text: str) -> bool:
    plain = _RANGE.sub("0", text)  # a range stands for one component
    try:
        ipaddress.ip_address(plain)
        return True
    except ValueError:
        pass
    labels = plain.split(".")
    return bool(plain) and all(_LABEL.match(label) for label in labels)


def expand(pattern: str) -> list[str]:
    """Every host name a pattern stands for, in order; PatternError for a malformed range."""
    if "[" not in pattern:
        return [pattern]
    head, _, rest = pattern.partition("[")
    body, closed, tail = rest.partition("]")
    if not closed:
        raise PatternError(f"host range in '{pattern}' has no closing ']'")
    names: list[str] = []
    for item in _sequence(body, pattern):
        names.extend(expand(f"{head}{item}{tail}"))
        if len(names) > MAX_HOSTS:
            raise PatternError(f"'{pattern}' names more than {MAX_HOSTS:,} hosts")
    return names


def _sequence(body: str, pattern: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise PatternError(f"host range [{body}] in '{pattern}' must be [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise PatternError(f"host range [{body}] in '{pattern}' has no end")
    if not step_text.isdigit() or int(step_text) == 0:
        raise PatternError(f"host range [{body}] in '{pattern}': the step must be a whole number above 0")
    step = int(step_text)
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        if letters.index(begin) > letters.index(end):
            raise PatternError(f"host range [{body}] in '{pattern}' begins after its end")
        return list(letters[letters.index(begin):letters.index(end) + 1:step])
    if not (begin.isdigit() and end.isdigit()):
        raise PatternError(f"host range [{body}] in '{pattern}' must count numbers or single letters")
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise PatternError(f"host range [{body}] in '{pattern}': with a leading zero, begin and end need "
                           "the same number of digits")
    if int(begin) > int(end):
        raise PatternError(f"host range [{body}] in '{pattern}' begins after its end")
    if (int(end) - int(begin)) // step + 1 > MAX_HOSTS:
        raise PatternError(f"'{pattern}' names more than {MAX_HOSTS:,} hosts")
    return [str(n).zfill(width) for n in range(int(begin), int(end) + 1, step)]
