"""YAML that remembers where each key stood, so errors can name the file and line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from endpoints.errors import InputError


class LineDict(dict[str, Any]):
    """A mapping from YAML with the line of each key (`lines`) and of itself (`line`)."""

    line: int = 0
    lines: dict[str, int]


class LineList(list[Any]):
    line: int = 0
    lines: list[int]


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = LineDict()
        result.line, result.lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                raise InputError("keys must be plain words", file=file, line=key_node.start_mark.line + 1,
                                 key=str(key))
            key = str(key)
            result[key] = _convert(loader, value_node, file)
            result.lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LineList(_convert(loader, item, file) for item in node.value)
        items.line, items.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
        return items
    return loader.construct_object(node, deep=True)


def load(path: Path) -> Any:
    """Parse one YAML file into LineDict/LineList/scalars; syntax errors name file and line."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _convert(loader, node, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"YAML syntax error: {exc.problem or exc}", file=file, line=line) from None
    finally:
        loader.dispose()


def line_of(container: Any, key: str | int | None = None) -> int | None:
    """The line of a key (or item) in a loaded container, else of the container."""
    if isinstance(container, LineDict) and isinstance(key, str) and key in container.lines:
        return container.lines[key]
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", None) or None
