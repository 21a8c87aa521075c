"""YAML that remembers where each key stood, so every error can name the file and the line.

One reader for the inventory, the profiles and the lab's specs. Mappings and sequences
carry the line of each key or item; integers and floats keep the text they were written
as (`+99111612345` and `0123` must survive as written); Ansible's `!vault` and `!unsafe`
tags load. A duplicate key is an error naming both lines, as a typo is.

Input is bounded before it can hurt: a file larger than `MAX_FILE_BYTES` is refused while
it is read (`-i /dev/zero` fails at once), and the composed document is measured before
anything is built from it: more than `MAX_NODES` values once aliases are expanded (a
"billion laughs" document) or nesting deeper than `MAX_DEPTH` is refused, naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from endpoints.errors import InputError

MAX_FILE_BYTES = 8 * 1024 * 1024  # an inventory of 10,000 rooms is about 3 MiB
MAX_NODES = 1_000_000  # values in the document with every alias expanded
MAX_DEPTH = 64  # nested mappings and sequences; a deep inventory needs about 16


class Rejected(InputError):
    """YAML that parses but is refused: a duplicate key, too many values, too deep."""


class LineMap(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers its own line and the line of each of its keys."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class LineList(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers its own line and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class WrittenInt(int):
    """A YAML integer that keeps its text."""

    text: str


class WrittenFloat(float):
    text: str


class Vaulted:
    """An `!vault` value: harmless where it is ignored, refused where it is needed."""

    def __repr__(self) -> str:
        return "<vaulted>"


class Unsafe(str):
    """An `!unsafe` string: Ansible never templates it, so braces in it are literal text."""


def read_text(path: Path, what: str = "file", limit: int = MAX_FILE_BYTES) -> str:
    """A text file's content, refused past `limit` bytes while reading (devices and pipes too)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", file=str(path)) from None
    if len(data) > limit:
        raise InputError(f"cannot read {what}: larger than {_size(limit)}; is it the right file?",
                         file=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"cannot read {what}: not UTF-8 text", file=str(path), line=line) from None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


# libyaml's parser where PyYAML has it (ten times faster on a 10,000-room inventory); both
# give every node its line.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc,valid-type]
    filename = ""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    own = {id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)  # keys from `<<: *anchor` come first; the node's own keys override them
    result = LineMap(node.start_mark.line + 1)
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool, type(None))):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if id(key_node) in own:
            if key in seen:
                raise Rejected(f"duplicate key '{key}' (first written at line {seen[key]})",
                                 file=loader.filename, line=line, key=str(key))
            seen[key] = line
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> WrittenInt:
    value = WrittenInt(loader.construct_yaml_int(node))
    value.text = node.value
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> WrittenFloat:
    value = WrittenFloat(loader.construct_yaml_float(node))
    value.text = node.value
    return value


def _construct_unsafe(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return Unsafe(loader.construct_scalar(node))
    return _construct_map(loader, node) if isinstance(node, yaml.MappingNode) else _construct_list(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("!vault", lambda loader, node: Vaulted())
_Loader.add_constructor("!unsafe", _construct_unsafe)


def load(path: Path, what: str = "file") -> Any:
    """Parse one YAML file; unreadable, oversized and malformed files name the file and line."""
    return parse(read_text(path, what), str(path))


def parse(text: str, filename: str) -> Any:
    """Parse YAML text read from `filename` (named in every error)."""
    loader = _Loader(text)
    loader.filename = filename
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _Measure(filename).check(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if "nesting depth" in str(exc.problem):  # libyaml's own limit, far past ours
            raise Rejected(f"nested deeper than {MAX_DEPTH} levels", file=filename, line=line) from None
        raise InputError(f"YAML syntax error: {exc.problem}", file=filename, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=filename) from None
    except RecursionError:
        raise Rejected(f"nested deeper than {MAX_DEPTH} levels", file=filename) from None
    finally:
        loader.dispose()


class _Measure:
    """Size (aliases expanded) and depth of a composed document, each shared node measured once."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.seen: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self.open: set[int] = set()

    def check(self, node: yaml.Node) -> None:
        size, _ = self.measure(node, 1)
        if size > MAX_NODES:
            raise Rejected(f"the document expands to more than {MAX_NODES:,} values through YAML aliases "
                             "(a 'billion laughs' document?); write the values out or use fewer aliases",
                             file=self.filename, line=node.start_mark.line + 1)

    def measure(self, node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise Rejected(f"nested deeper than {MAX_DEPTH} levels", file=self.filename,
                             line=node.start_mark.line + 1)
        key = id(node)
        if key in self.seen:
            size, height = self.seen[key]
            if depth + height - 1 > MAX_DEPTH:
                self.measure_children(node, depth)  # raises at the level that is too deep
            return size, height
        if key in self.open:
            raise Rejected("a YAML alias refers to the node that contains it", file=self.filename,
                             line=node.start_mark.line + 1)
        self.open.add(key)
        size, height = self.measure_children(node, depth)
        self.open.discard(key)
        self.seen[key] = (size, height)
        return size, height

    def measure_children(self, node: yaml.Node, depth: int) -> tuple[int, int]:
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            return 1, 1
        size, height = 1, 1
        for child in children:
            child_size, child_height = self.measure(child, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
            if size > MAX_NODES:
                return size, height  # enough to refuse; do not walk the rest of a bomb
        return size, height


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of a key (or item) in a loaded container, else of the container itself."""
    if isinstance(container, LineMap) and key in container.key_lines:
        return container.key_lines[key]
    if isinstance(container, LineList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None) or None


def unusable(value: Any) -> str | None:
    """Why a value as written cannot be sent to a device, or None.

    Ansible renders `{{ … }}`/`{% … %}` templates and decrypts vault values before use;
    this tool does neither, so such a value is refused wherever the tool would use it
    (never sent, never printed), and kept as it is where the tool never reads it.
    """
    if isinstance(value, Vaulted) or (isinstance(value, str) and value.lstrip().startswith("$ANSIBLE_VAULT;")):
        return ("is encrypted with ansible-vault, which endpoints does not decrypt; "
                "give the value as {env: NAME} or {file: PATH} instead")
    if isinstance(value, str) and not isinstance(value, Unsafe) and any(m in value for m in ("{{", "{%", "{#")):
        return ("holds a Jinja template, which endpoints does not render and will not send; "
                "write the value itself (a secret as {env: NAME} or {file: PATH})")
    return None
