"""One benchmark client: the real `endpoints` command line in this process, measured.

    python benchmarks/_client.py COUNTS.json [endpoints arguments ...]
    ENDPOINTS_BENCH_PROFILE=OUT.pstats python benchmarks/_client.py ...   # cProfile, every thread

Runs `endpoints` exactly as a user would (start-up included) and, at exit, writes to
COUNTS.json what only the client can see: the TCP connections it opened (every
`socket.connect`, whatever the API) and how long `app.execute` took. CPU time and peak
memory are the parent's business (`os.wait4` on this process).
"""
from __future__ import annotations

import atexit
import cProfile
import json
import os
import pstats
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any


def profile_every_thread(out: Path) -> None:
    """cProfile sees one thread; the rooms run on worker threads: one profiler per thread,
    each on its thread's CPU clock (waits for the network or the GIL are not counted),
    merged at exit."""
    profilers: list[cProfile.Profile] = []

    def start(*_: Any) -> None:
        sys.setprofile(None)
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.enable()

    def save() -> None:
        main_profiler.disable()
        stats = pstats.Stats(main_profiler)
        for profiler in profilers:
            stats.add(profiler)
        stats.dump_stats(str(out))

    threading.setprofile(start)
    main_profiler = cProfile.Profile(time.thread_time)
    main_profiler.enable()
    atexit.register(save)


def main() -> None:
    if os.environ.get("ENDPOINTS_BENCH_PROFILE"):
        profile_every_thread(Path(os.environ["ENDPOINTS_BENCH_PROFILE"]))
    out = Path(sys.argv[1])
    counts: dict[str, Any] = {"connections": 0, "run_wall": None}
    connect = socket.socket.connect

    def counted(self: socket.socket, address: Any) -> None:
        counts["connections"] += 1
        connect(self, address)

    socket.socket.connect = counted  # type: ignore[method-assign, assignment]
    atexit.register(lambda: out.write_text(json.dumps(counts)))

    from endpoints import app, cli

    execute = app.execute

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(*args, **kwargs)
        finally:
            counts["run_wall"] = time.perf_counter() - started

    app.execute = timed  # type: ignore[assignment]
    sys.argv = ["endpoints", *sys.argv[2:]]
    cli.main()


if __name__ == "__main__":
    main()
