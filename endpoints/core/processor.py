"""Observers of a run (Nornir's processors): the event log, live progress, streamed output,
the registration history, the backup of what was written. Each sees the same events; none
changes what the task does.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from endpoints.history import Attempt, History

if TYPE_CHECKING:
    from endpoints.core.room import Room
    from endpoints.results import RunResult

log = logging.getLogger(__name__)


class Processor:
    """Override what you need; every hook is called from the room's worker thread (or the
    runner's, for run_started/run_done), so shared state needs a lock."""

    def run_started(self, command: str, rooms: Sequence[Room]) -> None:
        """Before the first room starts."""

    def room_event(self, room: Room, event: str, fields: Mapping[str, Any]) -> None:
        """Something happened to one room (connect, identity, read, diff, write, ...)."""

    def room_done(self, room: Room) -> None:
        """The room's verdict is in (`room.result`)."""

    def run_done(self, run: RunResult) -> None:
        """After the last room, before the report is written."""


class Processors(Processor):
    """Fans every hook out to many processors; one that fails is logged, never fatal."""

    def __init__(self, processors: Iterable[Processor] = ()) -> None:
        self.items = list(processors)

    def _each(self, hook: str, *args: Any) -> None:
        for processor in self.items:
            try:
                getattr(processor, hook)(*args)
            except Exception:  # an observer's bug must not stop the run
                log.exception("processor %s failed in %s", type(processor).__name__, hook)

    def run_started(self, command: str, rooms: Sequence[Room]) -> None:
        self._each("run_started", command, rooms)

    def room_event(self, room: Room, event: str, fields: Mapping[str, Any]) -> None:
        self._each("room_event", room, event, fields)

    def room_done(self, room: Room) -> None:
        self._each("room_done", room)

    def run_done(self, run: RunResult) -> None:
        self._each("run_done", run)


class HistoryProcessor(Processor):
    """Records every registration attempt a run caused (a password sent), as it is judged."""

    def __init__(self, history: History) -> None:
        self.history = history

    def room_event(self, room: Room, event: str, fields: Mapping[str, Any]) -> None:
        if event == "attempt":
            self.history.record(str(fields["number"]), Attempt(time.time(), room.fingerprint(),
                                                               bool(fields["registered"]), str(fields["reason"])))

    def run_done(self, run: RunResult) -> None:
        self.history.flush()
