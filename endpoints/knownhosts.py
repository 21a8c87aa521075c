"""known_hosts files as OpenSSH reads them: lookup (plain and hashed names), atomic edits.

One module for every writer (`accept-new`, `trust --accept`, `recover`), so that a file
is never half written and a hashed file stays hashed (`HashKnownHosts yes`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from endpoints.host import Host
from endpoints.locking import locked, replace_whole

if TYPE_CHECKING:
    import paramiko  # imported when a file is read: an HTTP-only run never needs it (70 ms at start)

KeyStatus = Literal["known", "new", "changed"]


class KnownHostsError(Exception):
    """The file exists but cannot be read; names the file."""


def path_for(host: Host) -> Path:
    return host.known_hosts or Path.home() / ".ssh" / "known_hosts"


def host_name(address: str, port: int) -> str:
    """The name OpenSSH files a host under: `address`, or `[address]:port` off port 22."""
    return address if port == 22 else f"[{address}]:{port}"


def lookup(path: Path, name: str) -> dict[str, paramiko.PKey]:
    """The keys on file for `name`, by key type (hashed entries understood)."""
    if not path.exists():
        return {}
    entry = _parsed(path).lookup(name)
    return dict(entry) if entry else {}


_parsed_files: dict[Path, tuple[tuple[int, int, int], paramiko.HostKeys]] = {}
_parsing = threading.Lock()


def _parsed(path: Path) -> paramiko.HostKeys:
    """The file parsed once while it stays the same (a fleet's rooms share one file: parsing
    every key of it for every connection made a run quadratic); a write replaces the file,
    so its inode, size or time changes and it is read again."""
    import paramiko

    with _parsing:  # the rooms of a fleet start together: one of them parses, the others wait
        try:
            stat = path.stat()
            stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            cached = _parsed_files.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            keys = paramiko.HostKeys()
            keys.load(str(path))
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise KnownHostsError(f"cannot read known_hosts file {path}: {exc}") from None
        _parsed_files[path] = (stamp, keys)
        return keys


def status_of(key: paramiko.PKey, known: dict[str, paramiko.PKey]) -> KeyStatus:
    if key.get_name() in known and known[key.get_name()] == key:
        return "known"
    return "changed" if known else "new"


def _is_hashed(lines: list[str]) -> bool:
    """Whether the file's entries hash their names (then new entries are hashed too)."""
    entries = [x for x in lines if x.strip() and not x.startswith("#")]
    return bool(entries) and all(x.startswith("|1|") for x in entries)


def _hashed(name: str) -> str:
    salt = secrets.token_bytes(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _names_match(field: str, name: str) -> bool:
    if field.startswith("|1|"):
        try:
            _, _, salt, digest = field.split("|", 3)
            want = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
        except ValueError:
            return False
        return hmac.compare_digest(want, base64.b64decode(digest))
    return name in field.split(",")


def _lock_of(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    replace_whole(path, "".join(line + "\n" for line in lines))


def add(path: Path, line: str) -> None:
    """Add `name keytype base64` (hashed when the file hashes its names), atomically."""
    name, rest = line.split(" ", 1)
    with locked(_lock_of(path)):
        lines = _read(path)
        entry = f"{_hashed(name) if _is_hashed(lines) else name} {rest}"
        _write(path, lines + [entry])


def replace(path: Path, line: str) -> None:
    """Put `line` instead of every line for the same host name (a key renewed by `recover`)."""
    name, rest = line.split(" ", 1)
    with locked(_lock_of(path)):
        lines = _read(path)
        kept = [x for x in lines if not x.strip() or x.startswith("#") or not _names_match(x.split()[0], name)]
        entry = f"{_hashed(name) if _is_hashed(lines) else name} {rest}"
        _write(path, kept + [entry])
