"""Trust that `recover` renews: known_hosts lines and certificate pins of reset rooms.

A factory reset gives a codec a new SSH host key and a new self-signed certificate.
Only once the factory state is confirmed (the factory default login worked) does the
engine record the new key here; everywhere else a changed key stays a hard failure.
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

from endpoints.host import Host, TlsPolicy

_lock = threading.Lock()


def replace_known_host(path: Path, line: str) -> None:
    """Put `line` in the known_hosts file instead of any line for the same host name."""
    name = line.split()[0]
    with _lock:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        kept = [x for x in lines if not x.strip() or name not in x.split()[0].split(",")]
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        temp.write_text("\n".join(kept + [line]) + "\n", encoding="utf-8")
        os.chmod(temp, 0o600)
        os.replace(temp, path)


class PinStore:
    """Certificate pins renewed by `recover`, applied while the inventory still has the old pin."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "pins.json" if folder else None
        self._pins: dict[str, dict[str, str]] = {}
        if self.path and self.path.exists():
            self._pins = json.loads(self.path.read_text(encoding="utf-8"))

    def apply(self, host: Host) -> Host:
        renewed = self._pins.get(host.name)
        if renewed and host.tls.pin and host.tls.pin == renewed["old"]:
            return dataclasses.replace(host, tls=dataclasses.replace(host.tls, pin=renewed["new"]))
        return host

    def record(self, host: Host, new_pin: str) -> Host:
        """Remember the new pin (when the inventory pinned the old one); the host to use now."""
        with _lock:
            if host.tls.pin and self.path:
                self._pins[host.name] = {"old": host.tls.pin, "new": new_pin}
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(self._pins, indent=2), encoding="utf-8")
        return dataclasses.replace(host, tls=TlsPolicy(verify=host.tls.verify, ca_bundle=None, pin=new_pin))
