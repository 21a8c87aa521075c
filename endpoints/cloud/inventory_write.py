"""Write the numbers the service assigned into the inventory, keeping the file as written.

A round trip through ruamel.yaml (not string editing): comments, key order and quoting
survive; each number lands at its room's host entry as `sip.number`, double-quoted (a
bare `+99111...` would be read as an integer). The new file is checked with the
product's own inventory loader before it atomically replaces the old one.
"""
from __future__ import annotations

import copy
import io
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from endpoints.errors import InputError
from endpoints.host import Host

YAML_SUFFIXES = (".yaml", ".yml")
_AFTER = ("serial", "model", "address", "ansible_host")  # a new `sip:` goes after the first of these


class NotWritable(Exception):
    """The inventory cannot be written here (not YAML, or the room's entry cannot be found)."""


@dataclass(frozen=True)
class Written:
    room: str
    number: str
    previous: str | None  # the sip.number the room's entry had, if any
    line: int  # where the number now stands (1-based)


def is_yaml_inventory(path: Path) -> bool:
    """Only YAML inventories are written; an INI one (`[group]` lines) gets the numbers to paste."""
    if path.suffix.lower() in YAML_SUFFIXES:
        return True
    if path.suffix.lower() in (".ini", ".cfg"):
        return False
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text and not text.startswith(("#", ";")):
            return not (text.startswith("[") and text.endswith("]"))
    return True


def write_numbers(path: Path, numbers: Mapping[str, str], hosts: Mapping[str, Host]) -> list[Written]:
    """Set `sip.number` of each room (name -> number) in the file, atomically; raises NotWritable."""
    if not is_yaml_inventory(path):
        raise NotWritable(f"{path} is not a YAML inventory")
    prefix, text = _split_document_start(path.read_text(encoding="utf-8"))
    yaml = _round_trip(text)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise NotWritable(f"{path}: cannot read it back as YAML: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise NotWritable(f"{path}: not an inventory mapping")
    written = []
    for room, number in numbers.items():
        entry, parent = _entry(data, room, hosts[room])
        previous = _set_number(entry, parent, room, number)
        written.append(Written(room, number, previous, 0))
    out = io.StringIO()
    yaml.dump(data, out)
    new_text = prefix + out.getvalue()
    _replace_checked(path, new_text, numbers)
    return [Written(w.room, w.number, w.previous, _line_of_number(new_text, w.room, w.number))
            for w in written]


def _round_trip(text: str) -> YAML:
    _, indent, block_seq = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the file had on one line
    offset = block_seq or 0
    yaml.indent(mapping=indent or 2, sequence=(indent or 2) + offset, offset=offset)
    return yaml


def _split_document_start(text: str) -> tuple[str, str]:
    """Comments above a `---` line are not kept by a round trip: keep them (and the marker) verbatim."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if stripped == "---" or stripped.startswith("--- "):
                return "".join(lines[:index + 1]), "".join(lines[index + 1:])
            break
    return "", text


def _occurrences(group: Any, room: str) -> Iterator[tuple[CommentedMap, int]]:
    """(the `hosts` mapping that lists the room, the room's line) in every group, depth first."""
    if not isinstance(group, CommentedMap):
        return
    members = group.get("hosts")
    if isinstance(members, CommentedMap) and room in members:
        yield members, members.lc.key(room)[0] + 1
    children = group.get("children")
    if isinstance(children, CommentedMap):
        for child in children.values():
            yield from _occurrences(child, room)


def _entry(data: CommentedMap, room: str, host: Host) -> tuple[Any, CommentedMap]:
    found = [o for group in data.values() for o in _occurrences(group, room)]
    if not found:
        raise NotWritable(f"room {room} has no host entry in the file")
    line = host.source.rpartition(":")[2]
    with_body = [(members, at) for members, at in found if isinstance(members[room], CommentedMap)]
    defined = [members for members, at in with_body if str(at) == line]
    by_line = [members for members, at in found if str(at) == line]
    members = (defined or [m for m, _ in with_body] or by_line or [found[0][0]])[0]
    return members[room], members


def _set_number(entry: Any, members: CommentedMap, room: str, number: str) -> str | None:
    value = DoubleQuotedScalarString(number)
    if not isinstance(entry, CommentedMap):  # `room-a:` with no variables yet
        members[room] = CommentedMap([("sip", CommentedMap([("number", value)]))])
        return None
    sip = entry.get("sip")
    if isinstance(sip, CommentedMap):
        previous = sip.get("number")
        if "number" in sip:
            sip["number"] = value
        else:
            sip.insert(0, "number", value)
        return None if previous is None else str(previous)
    after = next((k for k in _AFTER if k in entry), None)
    position = list(entry).index(after) + 1 if after else len(entry)
    new = CommentedMap([("number", value)])
    if position == len(entry):
        _move_trailing_comment(entry, new)
    entry.insert(position, "sip", new)
    return None


def _move_trailing_comment(old: CommentedMap, new: CommentedMap) -> None:
    """Comment lines after a mapping's last key belong to what follows: keep them after the new last key."""
    holder, key = old, list(old)[-1] if old else None
    while key is not None and isinstance(holder[key], CommentedMap) and holder[key]:
        holder, key = holder[key], list(holder[key])[-1]
    if key is None or key not in holder.ca.items or holder.ca.items[key][2] is None:
        return
    token = holder.ca.items[key][2]
    eol, newline, rest = token.value.partition("\n")
    if not newline or not rest:
        return
    moved = copy.copy(token)
    moved.value = "\n" + rest
    new.ca.items["number"] = [None, None, moved, None]
    if eol.strip():
        token.value = eol + "\n"
    else:
        holder.ca.items[key][2] = None


def _replace_checked(path: Path, text: str, numbers: Mapping[str, str]) -> None:
    """Write beside the file, check it with the product's loader, then replace the file."""
    from endpoints.inventory import load_inventory

    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        try:
            reread = load_inventory(Path(temp))
        except InputError as exc:
            raise NotWritable(f"the rewritten inventory does not load: {exc}") from None
        for room, number in numbers.items():
            got = reread.hosts[room].sip.number if room in reread.hosts else None
            if got != number:
                raise NotWritable(f"the rewritten inventory gives {room} sip.number {got!r}, not {number!r}")
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _line_of_number(text: str, room: str, number: str) -> int:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(f"{room}:")), 0)
    for index in range(start, len(lines)):
        if number in lines[index] and "number" in lines[index]:
            return index + 1
    return 0
