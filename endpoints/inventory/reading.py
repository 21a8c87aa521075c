"""Which files an `-i` source stands for, and in which format each is read (Ansible's choices).

- A folder: its entries in name order, sub-folders too, skipping what Ansible skips
  (hidden names, `group_vars`, `host_vars`, `vars_plugins`, `~` backups and the extensions
  .orig .cfg .retry .pyc .pyo .swp .bak .rpm .md .txt .rst).
- A file named .yaml, .yml or .json: YAML. A file with no extension: YAML when it reads as
  a YAML mapping, else INI (Ansible tries both). Any other extension (.ini, .hosts, …): INI.
  An executable inventory script, a `.toml` file or a plugin configuration is refused
  with what to do instead, never run.
- Text with a comma that is no file (`-i 10.0.0.1,room-b`): a list of hosts.
Every file is bounded (`yamlfile.MAX_FILE_BYTES`), and so is their sum (`Budget`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from endpoints import yamlfile
from endpoints.errors import InputError
from endpoints.inventory import ini_source, yaml_source
from endpoints.inventory.tree import Forest, Source, Where
from endpoints.yamlfile import LineMap

MAX_TOTAL_BYTES = 64 * 1024 * 1024  # every inventory and vars file of one run together
YAML_EXTENSIONS = (".yaml", ".yml", ".json")
_IGNORED = re.compile(
    r"^\.|^host_vars$|^group_vars$|^vars_plugins$|"
    r"(\.orig|\.cfg|\.retry|\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst)$"
)


class Budget:
    """Bytes left for the run's inventory files; a folder of huge files fails as one huge file does."""

    def __init__(self, total: int = MAX_TOTAL_BYTES) -> None:
        self.left = total

    def read(self, path: Path, what: str) -> str:
        text = yamlfile.read_text(path, what)
        self.left -= len(text)
        if self.left < 0:
            raise InputError(f"cannot read {what}: the inventory's files together are larger than "
                             f"{MAX_TOTAL_BYTES // (1024 * 1024)} MiB", file=str(path))
        return text


def read_source(forest: Forest, text: str, budget: Budget) -> None:
    """Add one `-i` argument to the forest: a file, a folder or a host list."""
    path = Path(text)
    if "," in text and not path.exists():
        forest.sources.append(Source(text, None))
        for name in (part.strip() for part in text.split(",")):
            if name:
                yaml_source.add_hosts(forest, "ungrouped", name, None, Where(text, None, name))
        return
    if path.is_dir():
        forest.sources.append(Source(text, str(path)))
        _read_folder(forest, path, budget, set())
        return
    if not path.exists():
        raise InputError("cannot read inventory: no such file or folder", file=text)
    forest.sources.append(Source(text, str(path.parent)))
    read_file(forest, path, budget)


def _read_folder(forest: Forest, folder: Path, budget: Budget, seen: set[str]) -> None:
    real = os.path.realpath(folder)
    if real in seen:
        return  # a symbolic link back up the tree
    seen.add(real)
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        raise InputError(f"cannot read inventory folder: {exc.strerror}", file=str(folder)) from None
    for entry in entries:
        if _IGNORED.search(entry):
            continue
        path = folder / entry
        if path.is_dir():
            _read_folder(forest, path, budget, seen)
        else:
            read_file(forest, path, budget)


def read_file(forest: Forest, path: Path, budget: Budget) -> None:
    """One inventory file, in the format its name (or, without an extension, its content) says."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        raise InputError("TOML inventories are not read by endpoints: convert it with "
                         "`ansible-inventory -i FILE --list --yaml > inventory.yaml`", file=str(path))
    text = budget.read(path, "inventory")
    if text.startswith("#!") and os.access(path, os.X_OK):
        raise InputError("this is an inventory script, which endpoints does not run: save what it prints "
                         "with `ansible-inventory -i FILE --list --yaml > inventory.yaml`", file=str(path), line=1)
    if suffix in YAML_EXTENSIONS:
        yaml_source.read(forest, str(path), yamlfile.parse(text, str(path)))
    elif suffix:
        ini_source.read(forest, str(path), text)
    else:
        data = _yaml_mapping(text, str(path))
        if data is not None:
            yaml_source.read(forest, str(path), data)
        else:
            ini_source.read(forest, str(path), text)


def _yaml_mapping(text: str, file: str) -> LineMap | None:
    """The YAML mapping an extension-less file holds, or None when it is no YAML mapping (then INI)."""
    try:
        data = yamlfile.parse(text, file)
    except yamlfile.Rejected:
        raise  # YAML, and wrong
    except InputError:
        return None
    return data if isinstance(data, LineMap) else None
