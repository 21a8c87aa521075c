"""Files several runs may write at once (the memory, known_hosts): locked, replaced whole.

Ansible runs one process per room, and two CLI runs may overlap: every writer of shared
state takes the folder's lock, re-reads what others saved, and replaces the file through a
temporary file of its own, so nothing is lost and nothing is half written.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_threads = threading.Lock()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (POSIX flock on `path`) and threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _threads:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def replace_whole(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write `text` to `path` through a temporary file of this process (call under `locked`)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)
