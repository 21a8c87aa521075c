"""What the tool remembers between runs, kept per user, not per working directory.

Run the same inventory from another folder and it must still know which SIP password the
service refused (or it would send it again, towards a lock) and which certificates it
trusts (or a recovered room would fail on its old pin). So the memory lives in a state
folder: `--state-dir`, else `$ENDPOINTS_STATE_DIR`, else `$XDG_STATE_HOME/endpoints`,
else `~/.local/state/endpoints`:

- `history.json` (+ `history.key`): keyed fingerprints of refused registrations, by number
  (a number is the same account at the service whichever inventory names it);
- `inventories/<name>-<hash>/pins.json`: certificate pins of that inventory's rooms
  (recorded by `trust --accept`, renewed by `recover`), by room and address.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from endpoints.history import History
from endpoints.host import Host, TlsPolicy
from endpoints.locking import locked, replace_whole


def state_dir(given: Path | None = None) -> Path:
    if given is not None:
        return given
    if os.environ.get("ENDPOINTS_STATE_DIR"):
        return Path(os.environ["ENDPOINTS_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "endpoints"


def inventory_key(sources: Sequence[Path]) -> str:
    """A folder name for an inventory: readable, and unique to its absolute paths."""
    resolved = [str(Path(s).expanduser().resolve()) for s in sources]
    digest = hashlib.sha256("\0".join(resolved).encode()).hexdigest()[:12]
    stem = Path(resolved[0]).stem if resolved else "inventory"
    return f"{stem}-{digest}"


class TrustStore:
    """Certificate pins kept for an inventory's rooms.

    - `trust --accept` records the certificate of a room whose `tls_verify` is `true`: from
      then on that room is checked against the pin, with no inventory edit.
    - `recover` renews a pin after a confirmed factory reset: it replaces the inventory's
      own pin while the inventory still has the old one.
    """

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "pins.json" if folder else None
        self._lock = threading.Lock()
        self._pins: dict[str, dict[str, str]] = _read_pins(self.path) if self.path else {}

    @staticmethod
    def key(host: Host, port: int) -> str:
        return f"{host.name} {host.address}:{port}"

    def recorded(self, host: Host, port: int) -> str | None:
        entry = self._pins.get(self.key(host, port))
        return entry.get("sha256") if entry else None

    def apply(self, host: Host, port: int) -> Host:
        """The room with the pin this store holds for it, if any (the inventory's pin and CA win)."""
        entry = self._pins.get(self.key(host, port))
        if not entry:
            return host
        tls = host.tls
        if tls.pin and entry.get("replaces") == tls.pin:
            return dataclasses.replace(host, tls=dataclasses.replace(tls, pin=entry["sha256"]))
        if tls.verify and not tls.pin and not tls.ca_bundle and not entry.get("replaces"):
            return dataclasses.replace(host, tls=dataclasses.replace(tls, pin=entry["sha256"]))
        return host

    def record(self, host: Host, port: int, fingerprint: str) -> Host:
        """Keep a pin for this room (replacing the inventory's own pin, if it has one)."""
        entry = {"sha256": fingerprint}
        if host.tls.pin:
            entry["replaces"] = host.tls.pin
        with self._lock:
            self._pins[self.key(host, port)] = entry
            if self.path:
                with locked(self.path.with_suffix(".lock")):  # other runs may record pins meanwhile
                    self._pins = {**_read_pins(self.path), self.key(host, port): entry}
                    replace_whole(self.path, json.dumps(self._pins, indent=2, sort_keys=True))
        return dataclasses.replace(host, tls=TlsPolicy(verify=host.tls.verify, ca_bundle=None, pin=fingerprint))


def _read_pins(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclasses.dataclass
class Memory:
    """The state one run reads and writes."""

    folder: Path | None
    history: History
    trust: TrustStore
    fresh: bool  # no history existed: the run starts with no memory of refused passwords

    @classmethod
    def open(cls, folder: Path | None, sources: Sequence[Path]) -> Memory:
        if folder is None:
            return cls(None, History(None), TrustStore(None), fresh=True)
        fresh = not (folder / "history.json").exists()
        return cls(folder, History(folder), TrustStore(folder / "inventories" / inventory_key(sources)), fresh)
