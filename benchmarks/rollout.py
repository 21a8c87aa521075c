"""Rollout speed against the lab: wall time of one `apply` versus its lower bound.

N simulated rooms (Cisco over HTTP by default), each adding L seconds to every reply and
registering R seconds after a change. With k requests per room and F forks, a run
cannot beat max(R + k*L, N*k*L/F); a design that holds a slot while a room registers
would take about N*(k*L + R)/F. This prints both, for several --forks values.

    python benchmarks/rollout.py --rooms 200 --latency 0.02 --delay 2 --forks 10 50 100
"""
from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from rich.console import Console

from endpoints import engine
from endpoints.cli import run_command
from endpoints.lab.fleet import Lab, LabSpec, RoomSpec


def lab_spec(rooms: int, model: str, transport: str, latency: float, delay: float) -> LabSpec:
    specs = [RoomSpec(name=f"room-{i + 1:04d}", model=model, transport=transport,
                      building=f"building-{i // 100 + 1}") for i in range(rooms)]
    return LabSpec(specs, delay=delay, latency=latency)


def one_run(args: argparse.Namespace, forks: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="endpoints-bench-") as tmp:
        spec = lab_spec(args.rooms, args.model, args.transport, args.latency, args.delay)
        with Lab(Path(tmp) / "lab", spec) as lab:
            console = Console(file=io.StringIO())
            options = engine.Options("apply", forks=forks, verify_timeout=args.delay * 10 + 60,
                                     first_poll=args.first_poll)
            started = time.perf_counter()
            run = run_command(options, lab.inventory_path, console, run_dir=Path(tmp) / "runs")
            wall = time.perf_counter() - started
            requests = sum(getattr(d.counters, "requests", 0) for d in lab.devices())
        summary = run.summary()
        k = requests / args.rooms if requests else float("nan")
        bound = max(args.delay + k * args.latency, args.rooms * k * args.latency / forks)
        naive = args.rooms * (k * args.latency + args.delay) / forks
        return {"forks": forks, "wall": wall, "k": k, "bound": bound, "naive": naive,
                "ok": summary["changed"] + summary["ok"], "bad": args.rooms - summary["changed"] - summary["ok"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02, help="L: seconds added to every reply")
    parser.add_argument("--delay", type=float, default=2.0, help="R: seconds from a change to registration")
    parser.add_argument("--forks", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--model", default="SX20")
    parser.add_argument("--transport", default="http")
    parser.add_argument("--first-poll", type=float, default=0.5)
    args = parser.parse_args()
    print(f"rooms={args.rooms} model={args.model} transport={args.transport} "
          f"L={args.latency:g}s R={args.delay:g}s")
    print(f"{'forks':>6} {'wall s':>8} {'k req/room':>10} {'bound s':>8} {'wall/bound':>10} "
          f"{'slot-holding s':>14} {'speed-up':>8} {'ok':>5} {'not ok':>6}")
    for forks in args.forks:
        r = one_run(args, forks)
        print(f"{r['forks']:>6} {r['wall']:>8.2f} {r['k']:>10.1f} {r['bound']:>8.2f} {r['wall'] / r['bound']:>10.2f} "
              f"{r['naive']:>14.2f} {r['naive'] / r['wall']:>8.2f} {r['ok']:>5.0f} {r['bad']:>6.0f}")


if __name__ == "__main__":
    main()
