"""YAML that remembers where each key stood, so every error can name the file and the line.

One reader for the inventory and the profiles. Mappings and sequences carry the line of
each key or item; integers and floats keep the text they were written as (`+99111612345`
and `0123` must survive as written); Ansible's `!vault` and `!unsafe` tags load.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from endpoints.errors import InputError

log = logging.getLogger(__name__)


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


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    filename = ""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool, type(None))):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if key in result:
            log.warning("%s:%d: duplicate key '%s': the later value wins", loader.filename, line, key)
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


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("!vault", lambda loader, node: Vaulted())
_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path: Path, what: str = "file") -> Any:
    """Parse one YAML file; unreadable files and syntax errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {what}: {reason}", file=str(path)) from None
    loader = _Loader(text)
    loader.filename = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"YAML syntax error: {exc.problem}", file=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=str(path)) from None
    finally:
        loader.dispose()


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of a key (or item) in a loaded container, else of the container itself."""
    if isinstance(container, LineMap) and key in container.key_lines:
        return container.key_lines[key]
    if isinstance(container, LineList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None) or None
