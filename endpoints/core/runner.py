"""The runner: every room through its task, `forks` at a time, none holding a slot while it waits.

A task is a generator (`Room -> Steps`): it works in a worker slot until it yields a pause
(a room waiting for registration), then gives the slot up; the runner resumes it on any
free worker when the pause is over. So a fleet of N rooms takes about
max(R + k*L, N*k*L/F) rather than N*(k*L + R)/F (R registration time, k requests of L
seconds, F forks).

Everything that goes wrong for one room ends in that room's verdict: a device fault
(retried when `retryable`, after a back-off, on a fresh visit), an input gap found only
once the device answered, or a bug, which is logged with its traceback in the event log.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from endpoints.core.room import Room, Steps
from endpoints.errors import DeviceError, InputError
from endpoints.secrets import redact

log = logging.getLogger(__name__)

Task = Callable[[Room], Steps]


class _Visit:
    """One room's progress through its task."""

    def __init__(self, room: Room, task: Task) -> None:
        self.room, self.task = room, task
        self.steps: Steps | None = None

    def step(self) -> float | None:
        """Run until the task pauses (the pause) or ends (None)."""
        room = self.room
        try:
            if self.steps is None:
                room.reached = True
                self.steps = self.task(room)
            return next(self.steps)
        except StopIteration:
            return None
        except DeviceError as error:
            self.close()
            if error.retryable and room.tries < room.options.retries:
                room.tries += 1
                room.emit("retry", kind=type(error).__name__, error=str(error), attempt=room.tries)
                return 0.5 * 2 ** (room.tries - 1)
            room.fail(error)
        except InputError as error:  # found only once the device answered, e.g. recover needs `serial`
            self.close()
            room.result.fail("failed", str(error), "Fix this room's entry in the inventory and run again.")
        except Exception as error:  # a bug must fail one room, not the run
            self.close()
            room.emit("internal-error", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
            room.result.fail("failed", f"internal error: {type(error).__name__}: {error}",
                             "This is a bug in endpoints: rerun with -v and report it with the event log.")
        return None

    def close(self) -> None:
        """End the task where it stands: its `with` blocks close their device sessions."""
        steps, self.steps = self.steps, None
        if steps is not None:
            try:
                steps.close()
            except Exception:  # closing must never hide the outcome
                log.debug("%s: error while ending the task", self.room.name, exc_info=True)


class Runner:
    """Runs visits on `forks` worker threads; a visit waiting between steps holds none."""

    def __init__(self, forks: int) -> None:
        self.forks = max(1, forks)
        self._due: list[tuple[float, int, _Visit]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._active = 0

    def run(self, rooms: Sequence[Room], task: Task, on_done: Callable[[Room], None]) -> bool:
        """Every room to its verdict; False when interrupted (Ctrl-C, SIGTERM)."""
        visits = [_Visit(room, task) for room in rooms]
        self._on_done = on_done
        pool = ThreadPoolExecutor(max_workers=self.forks, thread_name_prefix="room")
        for visit in visits:
            self._push(visit, 0.0)
        try:
            self._dispatch(pool)
            return True
        except KeyboardInterrupt:
            with self._cond:
                self._due = []  # waiting rooms are abandoned; in-flight steps finish
            return False
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for visit in visits:
                if not visit.room.done:
                    visit.close()
                    abandon(visit.room)
                    on_done(visit.room)

    def _push(self, visit: _Visit, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), visit))
            self._active += 1
            self._cond.notify()

    def _dispatch(self, pool: ThreadPoolExecutor) -> None:
        with self._cond:
            while self._active:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    visit = heapq.heappop(self._due)[2]
                    pool.submit(self._run, visit)
                wait = self._due[0][0] - now if self._due else None
                self._cond.wait(timeout=0.5 if wait is None else min(wait, 0.5))

    def _run(self, visit: _Visit) -> None:
        delay = visit.step()
        if delay is None:
            finish(visit.room)
        with self._cond:
            self._active -= 1
            if delay is None:
                self._on_done(visit.room)
            else:
                heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), visit))
                self._active += 1
            self._cond.notify()


def abandon(room: Room) -> None:
    """An interrupted run: a room never reached is `skipped`; one mid-visit has `failed`."""
    if room.reached:
        room.result.fail("failed", "interrupted before its verdict",
                         "The run was interrupted: rerun with --limit @<retry file>.")
    else:
        room.result.fail("skipped", "not reached: the run was interrupted",
                         "The run was interrupted: rerun with --limit @<retry file>.")
    finish(room)


def finish(room: Room) -> None:
    """Seal the verdict: time taken, and no message that carries a secret (defence in depth)."""
    room.done = True
    result = room.result
    result.seconds = time.monotonic() - room.started
    secrets = list(room.host.secrets())
    for field in ("error", "advice"):
        text = getattr(result, field)
        if text:
            setattr(result, field, redact(text, secrets))
    result.warnings = [redact(w, secrets) for w in result.warnings]
    room.emit("verdict", status=result.status, error=result.error, advice=result.advice,
              seconds=round(result.seconds, 3), recovered=result.recovered,
              registration=result.registration.state if result.registration else None)
