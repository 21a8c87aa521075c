"""`backup.json` in every apply and recover run folder: what each room held before the run wrote.

Written as the run goes (after every write), so an interrupted run still has it; read by
`endpoints rollback --run DIR`. Per room, the value before the run of every setting the
run wrote; a secret setting is named without a value (it cannot be read back).
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from endpoints.core.processor import Processor
from endpoints.errors import InputError

if TYPE_CHECKING:
    from endpoints.core.room import Room

FILE = "backup.json"


class BackupProcessor(Processor):
    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, Any]] = {}
        self._encoded: dict[str, str] = {}  # each room's entry as JSON, encoded when it changes

    def room_event(self, room: Room, event: str, fields: Mapping[str, Any]) -> None:
        if event != "write":
            return
        with self._lock:
            entry = self._rooms.setdefault(room.name, {
                "address": room.host.address, "transport": room.transport, "profile": fields.get("profile"),
                "settings": [], "secrets": []})
            known = {s["path"] for s in entry["settings"]} | set(entry["secrets"])
            for item in fields.get("backup", []):
                if item["path"] in known:
                    continue  # the value before the *run*: a later visit's "before" is our own write
                if item["secret"]:
                    entry["secrets"].append(item["setting"])
                else:
                    entry["settings"].append({"setting": item["setting"], "path": item["path"],
                                              "before": item["before"]})
            self._encoded[room.name] = f"{json.dumps(room.name)}: {json.dumps(entry, ensure_ascii=False)}"
            self._save()

    def _save(self) -> None:
        """The whole file before the write goes out; only the room that changed is encoded
        again (encoding every room at every write made a fleet's run quadratic)."""
        temp = self.path.with_suffix(".tmp")
        temp.write_text('{"rooms": {\n' + ",\n".join(self._encoded.values()) + "\n}}\n", encoding="utf-8")
        os.replace(temp, self.path)


def load_backup(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The rooms of a run folder's backup; InputError when there is none to use."""
    path = Path(run_dir) / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no backup.json here: only apply and recover runs keep one", file=str(run_dir)) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the backup: {exc}", file=str(path)) from None
    rooms = data.get("rooms") if isinstance(data, dict) else None
    if not isinstance(rooms, dict):
        raise InputError("not a backup of endpoints (no `rooms`)", file=str(path))
    return rooms
