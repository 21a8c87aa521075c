"""One benchmark client: the real `endpoints` command line in this process, measured.

    python benchmarks/_client.py COUNTS.json [endpoints arguments ...]

Runs `endpoints` exactly as a user would (start-up included) and, at exit, writes to
COUNTS.json what only the client can see: the TCP connections it opened (every
`socket.connect`, whatever the API) and how long `app.execute` took. CPU time and peak
memory are the parent's business (`os.wait4` on this process).
"""
from __future__ import annotations

import atexit
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    out = Path(sys.argv[1])
    counts: dict[str, Any] = {"connections": 0, "run_wall": None}
    connect = socket.socket.connect

    def counted(self: socket.socket, address: Any) -> None:
        counts["connections"] += 1
        connect(self, address)

    socket.socket.connect = counted  # type: ignore[method-assign]
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
