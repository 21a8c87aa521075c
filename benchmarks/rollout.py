"""Rollout speed against the lab: wall time of one `apply` versus its lower bound.

N simulated rooms (Cisco over HTTP by default), each adding L seconds to every reply and
registering R seconds after a change, served by `endpoints lab up` in its own process as
a real building would be. With k requests per room (counted on the simulators) and F
forks, no run can beat max(R + k*L, N*k*L/F); a design that held a slot while a room
registers would take about N*(k*L + R)/F. This prints both, for several --forks values.

    python benchmarks/rollout.py --rooms 200 --latency 0.02 --delay 2 --forks 10 50 100
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console

from endpoints import app
from endpoints.core.options import Options


def write_spec(path: Path, args: argparse.Namespace) -> None:
    rooms = [{"name": f"room-{i + 1:04d}", "model": args.model, "transport": args.transport,
              "building": f"building-{chr(ord('a') + i // 100 % 26)}"} for i in range(args.rooms)]
    path.write_text(yaml.safe_dump({"rooms": rooms, "delay": args.delay, "latency": args.latency}))


def endpoints(*words: str) -> str:
    done = subprocess.run([sys.executable, "-m", "endpoints", *words], check=True, capture_output=True, text=True)
    return done.stdout


def one_run(args: argparse.Namespace, forks: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="endpoints-bench-") as tmp:
        folder = Path(tmp)
        write_spec(folder / "spec.yaml", args)
        endpoints("lab", "up", "--spec", str(folder / "spec.yaml"), "--detach", "--dir", str(folder / "lab"))
        try:
            options = Options("apply", forks=forks, verify_timeout=args.delay * 10 + 60, first_poll=args.first_poll)
            started = time.perf_counter()
            request = app.Request(options, (folder / "lab" / "inventory.yaml",), run_dir=folder / "runs",
                                  state_dir=folder / "state")
            quiet = Console(file=io.StringIO())
            run = app.execute(request, quiet, quiet)
            wall = time.perf_counter() - started
            rooms = json.loads(endpoints("lab", "status", "--json", "--dir", str(folder / "lab")))
        finally:
            endpoints("lab", "down", "--dir", str(folder / "lab"))
    summary = run.summary()
    k = sum(r["requests"] for r in rooms) / args.rooms
    bound = max(args.delay + k * args.latency, args.rooms * k * args.latency / forks)
    naive = args.rooms * (k * args.latency + args.delay) / forks
    return {"forks": forks, "wall": wall, "k": k, "bound": bound, "naive": naive,
            "ok": summary["changed"] + summary["ok"], "bad": args.rooms - summary["changed"] - summary["ok"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=200, help="N (up to 1000 and more)")
    parser.add_argument("--latency", type=float, default=0.02, help="L: seconds added to every reply")
    parser.add_argument("--delay", type=float, default=2.0, help="R: seconds from a change to registration")
    parser.add_argument("--forks", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--model", default="SX20")
    parser.add_argument("--transport", default="http")
    parser.add_argument("--first-poll", type=float, default=0.5)
    args = parser.parse_args()
    print(f"N={args.rooms} rooms, {args.model} over {args.transport}, L={args.latency:g} s, R={args.delay:g} s")
    print(f"{'forks':>6} {'wall s':>8} {'k req/room':>10} {'bound s':>8} {'wall/bound':>10} "
          f"{'slot-holding s':>14} {'vs slot-holding':>15} {'ok':>5} {'not ok':>6}")
    for forks in args.forks:
        r = one_run(args, forks)
        print(f"{r['forks']:>6} {r['wall']:>8.2f} {r['k']:>10.1f} {r['bound']:>8.2f} {r['wall'] / r['bound']:>10.2f} "
              f"{r['naive']:>14.2f} {r['naive'] / r['wall']:>14.2f}x {r['ok']:>5.0f} {r['bad']:>6.0f}", flush=True)


if __name__ == "__main__":
    main()
