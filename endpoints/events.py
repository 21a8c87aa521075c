"""The run folder: an append-only event log (JSON lines), the report, and a retry list."""
from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from endpoints.core.processor import Processor
from endpoints.secrets import MASK, Secret, redact

if TYPE_CHECKING:
    from endpoints.core.room import Room


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class EventLog:
    """Thread-safe JSON-lines log; every value passes through secret redaction.

    `secrets` maps a host name to its secrets; an event is checked against its own host's
    (and the shared ones under ""), so a fleet's log costs no more per event than a room's.
    """

    def __init__(self, path: Path | None, secrets: dict[str, Iterable[Secret]] | None = None) -> None:
        self.path = path
        self._secrets = {host: list(found) for host, found in (secrets or {}).items()}
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._file = path.open("a", encoding="utf-8") if path else None

    def emit(self, host: str, event: str, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"t": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                  "elapsed": round(time.monotonic() - self._start, 3), "host": host, "event": event}
        record.update(_plain(fields))
        line = redact(json.dumps(record, ensure_ascii=False), self._secrets.get(host, []))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None


def new_run_folder(base: Path, command: str, *, check: bool = False) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    folder = base / f"{stamp}-{command}{'-check' if check else ''}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


class EventLogProcessor(Processor):
    """Every room event into the run's event log (`events.jsonl`); tracebacks only with -v."""

    def __init__(self, log: EventLog, *, verbose: bool = False) -> None:
        self.log, self.verbose = log, verbose

    def room_event(self, room: Room, event: str, fields: Mapping[str, Any]) -> None:
        if event == "internal-error" and not self.verbose:
            fields = {k: v for k, v in fields.items() if k != "traceback"}
        self.log.emit(room.name, event, **fields)
