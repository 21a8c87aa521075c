"""The status tree of a RoomOS 11 room: the recorded Room Bar's, with the room's own values.

`cisco_data/roombar-roomos11.19-status.xml` is a real unit's `/status.xml`. Its elements,
their order and decoration are what a RoomOS room serves; the values that are the room's
own (SIP registration, identity, DNS servers, clock) come from the simulated state.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from endpoints.lab.cisco_tree import Leaf, Node

DATA = Path(__file__).with_name("cisco_data")
STATUS = DATA / "roombar-roomos11.19-status.xml"
VALUESPACE = DATA / "roombar-roomos11.19-valuespace.xml"
# Terminal mode prints literals and numbers bare and strings quoted (cisco.md §2.4). The
# recorded XML does not say which a value is: a single word starting with a capital or a
# number is taken as bare (UNSURE for values such as `Normal` that may be strings).
_BARE = re.compile(r"^(?:-?\d+(?:\.\d+)?|[A-Z][A-Za-z0-9]*)$")


@functools.lru_cache(maxsize=1)
def recorded() -> tuple[tuple[Leaf, str], ...]:
    """Every leaf of the recorded status document, in document order."""
    root = etree.parse(str(STATUS)).getroot()
    leaves: list[tuple[Leaf, str]] = []
    for element in root.iter():
        if element is root or not isinstance(element.tag, str) or len(element):
            continue
        chain = [*reversed([a for a in element.iterancestors() if a is not root]), element]
        nodes = tuple(Node(str(e.tag), int(e.get("item")) if e.get("item") else None, e.get("maxOccurrence"))
                      for e in chain)
        value = element.text or ""
        leaves.append((Leaf(nodes, None, value, quoted=not _BARE.match(value)), value))
    return tuple(leaves)


def status(live: Mapping[str, tuple[bool, str]]) -> list[tuple[Leaf, str]]:
    """The recorded tree with the room's own values (quoted?, value) at the paths `live` names."""
    leaves = []
    for leaf, value in recorded():
        if leaf.path in live:
            quoted, value = live[leaf.path]
            leaf = Leaf(leaf.nodes, None, value, quoted=quoted)
        leaves.append((leaf, value))
    return leaves


def valuespace_document() -> str:
    return VALUESPACE.read_text(encoding="utf-8")
