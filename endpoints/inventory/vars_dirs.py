"""`group_vars/` and `host_vars/` beside each inventory source, found as Ansible finds them.

For a group or host NAME, in the folder beside the source (the source itself when it is a
folder): the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; a file is
read, a folder is read file by file in name order (sub-folders too), skipping hidden
files, `~` backups and extensions other than none, .yml, .yaml and .json. An empty file
adds nothing. Each file is one layer; later files win.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from endpoints import yamlfile
from endpoints.inventory import schema
from endpoints.inventory.reading import Budget
from endpoints.inventory.tree import Forest, Layer, VarsFile, Where
from endpoints.validation import likely_typo
from endpoints.yamlfile import LineMap

log = logging.getLogger(__name__)

VARS_EXTENSIONS = (".yml", ".yaml", ".json")


def read_all(forest: Forest, budget: Budget) -> None:
    """Read every source's group_vars/ and host_vars/ for the groups and hosts the forest holds."""
    for index, source in enumerate(forest.sources):
        if source.base is None:
            continue
        base = Path(source.base)
        for name in forest.groups:
            _add(forest.group_files, name, index, _read(base / "group_vars", name, budget, host=False))
        for name in forest.hosts:
            _add(forest.host_files, name, index, _read(base / "host_vars", name, budget, host=True))
        _warn_unknown(base / "group_vars", forest.groups)
        _warn_unknown(base / "host_vars", forest.hosts)


def _add(found: dict[str, list[VarsFile]], name: str, source: int, layers: list[Layer]) -> None:
    if layers:
        found.setdefault(name, []).append(VarsFile(source, layers))


def _read(folder: Path, name: str, budget: Budget, *, host: bool) -> list[Layer]:
    if not folder.is_dir() or name.startswith(os.sep):
        return []
    for candidate in (folder / name, *(folder / f"{name}{ext}" for ext in VARS_EXTENSIONS)):
        if candidate.is_dir():
            return [layer for path in _files(candidate) for layer in _layer(path, folder.parent, budget, host)]
        if candidate.exists():
            return _layer(candidate, folder.parent, budget, host)
    return []


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(os.listdir(folder)):
        path = folder / entry
        if entry.startswith(".") or entry.endswith("~"):
            continue
        suffix = os.path.splitext(entry)[1]
        if path.is_dir() and not suffix:
            found.extend(_files(path))
        elif path.is_file() and (not suffix or suffix in VARS_EXTENSIONS):
            found.append(path)
    return found


def _layer(path: Path, base: Path, budget: Budget, host: bool) -> list[Layer]:
    data = yamlfile.parse(budget.read(path, "vars file"), str(path))
    if data is None:
        return []
    if not isinstance(data, LineMap):
        raise Where(str(path), 1).error(f"a vars file must be a mapping of variables (got {schema.kind(data)})")
    layer = Layer(data, Where(str(path), data.line), base)
    schema.check_layer(layer, host=host)
    return [layer]


def _warn_unknown(folder: Path, names: Mapping[str, object]) -> None:
    """A vars file for a group or host the inventory lacks is read by nobody: say so, once."""
    if not folder.is_dir():
        return
    for entry in sorted(os.listdir(folder)):
        stem = entry if (folder / entry).is_dir() else os.path.splitext(entry)[0]
        if entry.startswith(".") or entry.endswith("~") or stem in names:
            continue
        close = likely_typo(stem, names, shortest=3)
        hint = f" (did you mean '{close}'?)" if close else ""
        log.warning("%s: no group or host named '%s' in the inventory; this is not read%s",
                    folder / entry, stem, hint)
