"""The simulated codec's xAPI tree: leaves, path matching, and the two renderings
(XML documents as `/configuration.xml` and `getxml` serve them, terminal-mode lines).

Decoration follows the real dumps (protocols/cisco.md §1.4): CE puts ``item`` and
``maxOccurrence`` on list elements only and ``valueSpaceRef`` on configuration leaves;
TC puts ``item="1"`` on every element. Children come in the order of the spec, which is
the alphabetical order the recorded dumps show.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from endpoints.lab.cisco_schema import VALUE_SPACES, ValueSpace

Token = tuple[str, int | None]
_XML_ESCAPES = {"'": "&apos;", '"': "&quot;"}


@dataclass(frozen=True)
class Node:
    """One step of a leaf's path: a name, and its item number when it is a list element."""

    name: str
    item: int | None = None
    max_occurrence: str | None = None  # "4", "n": lists only


@dataclass(frozen=True)
class Leaf:
    nodes: tuple[Node, ...]
    space: ValueSpace | None = None  # configuration leaves only
    default: str = ""
    quoted: bool = True  # terminal mode: strings quoted, literals and numbers bare

    @property
    def path(self) -> str:
        """The CLI path: ``SIP Proxy 1 Address``."""
        return " ".join(n.name if n.item is None else f"{n.name} {n.item}" for n in self.nodes)

    @property
    def key(self) -> str:
        return self.path.lower()

    @property
    def hidden(self) -> bool:
        return bool(self.space and self.space.hidden)


def parse_spec(text: str) -> tuple[Leaf, ...]:
    """Leaves from ``path | value space | default`` lines (see cisco_schema)."""
    leaves = []
    for line in text.strip().splitlines():
        path, space_name, default = (part.strip() for part in line.split("|"))
        space = VALUE_SPACES[space_name]
        leaves.append(Leaf(tuple(_node(word) for word in path.split()), space, default, space.quoted))
    return tuple(leaves)


def _node(word: str) -> Node:
    if "[" not in word:
        return Node(word)
    name, _, rest = word.partition("[")
    item, _, maximum = rest.rstrip("]").partition("/")
    return Node(name, int(item), maximum or "n")


def status_leaf(path: str, value: str, *, quoted: bool = True) -> tuple[Leaf, str]:
    """A status leaf from a CLI path; words followed by a number are list elements."""
    words, nodes = path.split(), []
    for i, word in enumerate(words):
        if word.isdigit():
            continue
        index = int(words[i + 1]) if i + 1 < len(words) and words[i + 1].isdigit() else None
        nodes.append(Node(word, index, "n" if index is not None else None))
    return Leaf(tuple(nodes), None, value, quoted), value


# --- matching ------------------------------------------------------------------------------

def matches_exactly(leaf: Leaf, tokens: Sequence[Token]) -> bool:
    """A write path names exactly this leaf: every list element needs its index, and a
    single element takes none (CE refuses the TC path ``Conference 1 ...``)."""
    return len(tokens) == len(leaf.nodes) and all(
        node.name.lower() == name.lower() and node.item == index
        for node, (name, index) in zip(leaf.nodes, tokens))


def matches_prefix(leaf: Leaf, tokens: Sequence[Token]) -> bool:
    """A read path selects this leaf: a prefix, where a list element without an index
    selects every item (``xConfiguration SIP Proxy`` lists all four)."""
    return len(tokens) <= len(leaf.nodes) and all(
        node.name.lower() == name.lower() and (index is None or node.item == index)
        for node, (name, index) in zip(leaf.nodes, tokens))


def parse_location(location: str) -> tuple[str, list[Token]] | None:
    """``/Status/SIP/Registration[1]/Status`` -> ("Status", tokens); None when malformed."""
    steps = [s for s in location.strip().split("/") if s]
    if not steps:
        return None
    tokens: list[Token] = []
    for step in steps[1:]:
        name, bracket, rest = step.partition("[")
        index = None
        if bracket:
            digits = rest.rstrip("]").replace("@item=", "").strip("'\"")
            if not digits.isdigit():
                return None
            index = int(digits)
        tokens.append((name, index))
    return steps[0], tokens


# --- rendering ------------------------------------------------------------------------------

def render_document(root: str, attributes: str, leaves: Iterable[tuple[Leaf, str]], *, tc: bool,
                    configuration: bool) -> str:
    """An XML document with the real dumps' layout (4-space indent, open/close pairs)."""
    body = element_lines(leaves, tc=tc, configuration=configuration)
    return "\n".join(['<?xml version="1.0"?>', f"<{root}{attributes}>", *body, f"</{root}>"]) + "\n"


def element_lines(leaves: Iterable[tuple[Leaf, str]], *, tc: bool, configuration: bool,
                  depth: int = 0) -> list[str]:
    """The elements of some leaves, nested, indented 4 spaces from `depth` + 1."""
    lines: list[str] = []
    pad = "    " * depth
    open_nodes: list[Node] = []
    for leaf, value in leaves:
        shared = _shared_prefix(open_nodes, leaf.nodes[:-1])
        for node in reversed(open_nodes[shared:]):
            lines.append(f"{pad}{'    ' * len(open_nodes)}</{node.name}>")
            open_nodes.pop()
        for node in leaf.nodes[len(open_nodes):-1]:
            open_nodes.append(node)
            lines.append(f"{pad}{'    ' * len(open_nodes)}<{node.name}{_decoration(node, tc)}>")
        last = leaf.nodes[-1]
        attrs = _decoration(last, tc)
        if configuration and leaf.space is not None:
            attrs += f' valueSpaceRef="/Valuespace/{leaf.space.name}"'
        text = "***" if leaf.hidden else escape(value, _XML_ESCAPES)
        lines.append(f"{pad}{'    ' * (len(open_nodes) + 1)}<{last.name}{attrs}>{text}</{last.name}>")
    for node in reversed(open_nodes):
        lines.append(f"{pad}{'    ' * len(open_nodes)}</{node.name}>")
        open_nodes.pop()
    return lines


def json_tree(leaves: Iterable[tuple[Leaf, str]], *, configuration: bool) -> dict[str, Any]:
    """Leaves as tshell's JSON mode nests them (cisco.md §2.6): a list element is an array
    entry carrying `"id"`, a leaf is `{"Value": ...}` (configuration leaves add their
    `valueSpaceRef`)."""
    tree: dict[str, Any] = {}
    for leaf, value in leaves:
        here = tree
        for node in leaf.nodes[:-1]:
            here = _json_child(here, node)
        last = leaf.nodes[-1]
        shown = "***" if leaf.hidden else value
        body: dict[str, Any] = {}
        if configuration and leaf.space is not None:
            body["valueSpaceRef"] = f"/Valuespace/{leaf.space.name}"
        body["Value"] = shown
        if last.item is None:
            here[last.name] = body
        else:
            here.setdefault(last.name, []).append({"id": str(last.item), **body})
    return tree


def _json_child(here: dict[str, Any], node: Node) -> dict[str, Any]:
    if node.item is None:
        child: dict[str, Any] = here.setdefault(node.name, {})
        return child
    items: list[dict[str, Any]] = here.setdefault(node.name, [])
    for entry in items:
        if entry.get("id") == str(node.item):
            return entry
    entry = {"id": str(node.item)}
    items.append(entry)
    return entry


def error_tree(root: str, reason: str, xpath: str) -> dict[str, Any]:
    """A refused path or command as JSON mode words it, under `CommandResponse` (the form
    jsxapi's tests record for CE; newer firmware drops the wrapper, cisco.md §2.6)."""
    return {"CommandResponse": {root: {"status": "Error", "Reason": {"Value": reason},
                                       "XPath": {"Value": xpath}}}}


def _shared_prefix(open_nodes: list[Node], nodes: tuple[Node, ...]) -> int:
    count = 0
    for a, b in zip(open_nodes, nodes):
        if a != b:
            break
        count += 1
    return count


def _decoration(node: Node, tc: bool) -> str:
    if tc:
        return f' item="{node.item or 1}"'
    if node.item is None:
        return ""
    return f' item="{node.item}" maxOccurrence="{node.max_occurrence}"'


def terminal_value(leaf: Leaf, value: str) -> str:
    if leaf.hidden:
        return '"***"'
    return '"' + value.replace('"', '\\"') + '"' if leaf.quoted else value


def render_valuespace(root_attributes: str, spaces: Iterable[ValueSpace]) -> str:
    lines = ['<?xml version="1.0"?>', f"<Valuespace{root_attributes}>"]
    for space in sorted(spaces, key=lambda s: s.name):
        lines.append(f'    <{space.name} type="{space.kind}">')
        if space.kind == "Literal":
            lines += [f'        <Value item="{i}">{escape(v)}</Value>' for i, v in enumerate(space.values, 1)]
        elif space.kind == "Integer":
            lines += [f"        <Max>{space.maximum}</Max>", f"        <Min>{space.minimum}</Min>",
                      "        <Step>1</Step>"]
        else:
            if space.hidden:
                lines.append("        <HiddenValue>True</HiddenValue>")
            lines += [f"        <MaxLength>{space.maximum}</MaxLength>",
                      f"        <MinLength>{space.minimum}</MinLength>"]
        lines.append(f"    </{space.name}>")
    lines.append("</Valuespace>")
    return "\n".join(lines) + "\n"


def matches_document(leaf: Leaf, tokens: Sequence[Token], *, tc: bool) -> bool:
    """A leaf of a putxml document: list elements need their `item`; single elements take
    none, except that TC accepts the `item="1"` it puts on every element itself."""
    return len(tokens) == len(leaf.nodes) and all(
        node.name.lower() == name.lower() and (
            node.item == index if node.item is not None else index is None or (tc and index == 1))
        for node, (name, index) in zip(leaf.nodes, tokens))
