"""What this tool remembers of past registration attempts, so it never hammers a number.

The meeting service locks a number for 15 to 30 minutes after repeated failed
registrations. Before sending a password again to a room whose last attempt with that
same password was refused, the engine asks here. Passwords are never stored: only a
keyed fingerprint (HMAC with a random key kept beside the file, mode 0600).

Several processes may share one state folder at once (Ansible runs one module process per
room, two operators run the tool side by side): each save merges with what is on disk
under a file lock, so no process's attempts overwrite another's, and the key is created
once, whole, whichever process comes first.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from endpoints.locking import locked, replace_whole

LOCK_WINDOW = 30 * 60.0  # the service's lock lasts 15 to 30 minutes


@dataclass(frozen=True)
class Attempt:
    when: float  # unix time
    fingerprint: str
    registered: bool
    reason: str = ""


class History:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._attempts: dict[str, list[Attempt]] = {}
        self._key = b""
        self._saved_at = 0.0
        self._dirty = False
        if folder is not None:
            self._load()

    def fingerprint(self, number: str, password: str) -> str:
        return hmac.new(self._key or b"session", f"{number}\0{password}".encode(), hashlib.sha256).hexdigest()[:24]

    def last(self, number: str) -> Attempt | None:
        with self._lock:
            attempts = self._attempts.get(number)
            return attempts[-1] if attempts else None

    def recent_failures(self, number: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._lock:
            return sum(1 for a in self._attempts.get(number, []) if not a.registered and now - a.when < LOCK_WINDOW)

    def record(self, number: str, attempt: Attempt) -> None:
        """Remember an attempt; written to disk at most once a second, and by `flush()`."""
        with self._lock:
            kept = [a for a in self._attempts.get(number, []) if attempt.when - a.when < LOCK_WINDOW]
            self._attempts[number] = (kept + [attempt])[-10:]
            self._dirty = True
            if time.monotonic() - self._saved_at >= 1.0:
                self._save()

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._save()

    def _load(self) -> None:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        self._key = _key(self.folder)
        self._attempts = _read(self.folder / "history.json")

    def _save(self) -> None:
        self._saved_at, self._dirty = time.monotonic(), False
        if self.folder is None:
            return
        path = self.folder / "history.json"
        with locked(self.folder / "history.lock"):
            self._attempts = _union(_read(path), self._attempts)  # what other processes saved meanwhile
            replace_whole(path, json.dumps({n: [asdict(a) for a in items] for n, items in self._attempts.items()}))


def _read(path: Path) -> dict[str, list[Attempt]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {n: [Attempt(**a) for a in items] for n, items in data.items()}
    except (FileNotFoundError, ValueError, TypeError):
        return {}


def _union(saved: dict[str, list[Attempt]], ours: dict[str, list[Attempt]]) -> dict[str, list[Attempt]]:
    """Both processes' attempts, per number in time order, trimmed as `record` trims."""
    merged: dict[str, list[Attempt]] = {}
    for number in {*saved, *ours}:
        attempts = sorted(set(saved.get(number, [])) | set(ours.get(number, [])), key=lambda a: a.when)
        newest = attempts[-1].when
        merged[number] = [a for a in attempts if newest - a.when < LOCK_WINDOW][-10:]
    return merged


def _key(folder: Path) -> bytes:
    """The folder's HMAC key; made once, whole (linked into place), by whichever process is first."""
    path = folder / "history.key"
    if not path.exists():
        temp = folder / f"history.key.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temp.unlink()
    return path.read_bytes()
