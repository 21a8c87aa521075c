"""Rollout speed against the lab: one `apply` per scenario, measured from outside.

N simulated rooms, each adding L seconds to every reply and registering R seconds after
a change, are served by `endpoints lab up` in its own process, as a real building would
be; the client is the real `endpoints apply` command line in a process of its own
(`_client.py`), so its CPU time and peak memory are the whole program's, start-up
included. A minimal client needs k = 4 requests per room (session begin, one putxml, one
timely getxml, session end), so with F forks no run can beat
max(R + k*L, N*k*L/F) (`bound`); a design that held a slot while a room registers would
take about N*(k*L + R)/F.

Per scenario it prints: wall (the run, `app.execute`) against the bound, the client's
CPU per room and peak RSS, TCP connections per room (counted by the client), logins per
room (counted by the simulators), requests per room (counted by the simulators), and the
rooms that ended ok. Each figure is printed next to the last recorded one
(`benchmarks/results.json`, committed), then the targets of issue 16 with their ratios.

    make bench                                   # every scenario, recorded
    python benchmarks/rollout.py --scenario ce-http-100-f50 ce-ssh-100-f50
    python benchmarks/rollout.py --rooms 200 --latency 0.02 --delay 2 --forks 10 50   # ad hoc, not recorded
    python benchmarks/rollout.py --scenario ce-http-100-f50 --profile       # cProfile: top entries
    python benchmarks/rollout.py --readme        # README's Speed table from results.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
README = ROOT / "README.md"
K_MINIMAL = 4  # session begin, one putxml, one timely getxml, session end
CPU_TARGET_MS = 10.0
RSS_TARGET_MB = 200.0
CONNECTIONS_TARGET = 3.0
LOGINS_TARGET = 2.0


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: int
    model: str
    transport: str
    latency: float
    delay: float
    forks: int
    wall_target: float | None = None  # wall / bound at most this (issue 16)
    cisco: bool = False  # the connection and login targets are the CE rooms'
    settle: bool = True  # the operator's profiles say how long these rooms take to register


SCENARIOS = [
    Scenario("ce-http-100-f5", 100, "SX20", "http", 0.05, 4.0, 5, wall_target=2.0, cisco=True),
    Scenario("ce-http-100-f50", 100, "SX20", "http", 0.05, 4.0, 50, wall_target=1.25, cisco=True),
    Scenario("ce-http-1000-f200", 1000, "SX20", "http", 0.05, 4.0, 200, wall_target=3.0, cisco=True),
    Scenario("ce-http-100-f50-no-settle", 100, "SX20", "http", 0.05, 4.0, 50, cisco=True, settle=False),
    Scenario("ce-ssh-100-f5", 100, "SX20", "ssh", 0.05, 4.0, 5, cisco=True),
    Scenario("ce-ssh-100-f50", 100, "SX20", "ssh", 0.05, 4.0, 50, cisco=True),
    Scenario("group-rest-100-f5", 100, "Group 500", "rest", 0.05, 4.0, 5),
    Scenario("group-rest-100-f50", 100, "Group 500", "rest", 0.05, 4.0, 50),
    Scenario("group-telnet-100-f5", 100, "Group 500", "telnet", 0.05, 4.0, 5),
    Scenario("group-telnet-100-f50", 100, "Group 500", "telnet", 0.05, 4.0, 50),
]
BY_NAME = {s.name: s for s in SCENARIOS}


# --- one run ------------------------------------------------------------------------------

def raise_open_files() -> None:
    """1000 rooms each keeping a connection for their visit need more descriptors than the
    usual soft limit of 1024: take the hard limit (the CLI does the same for itself)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def compile_package() -> None:
    """Byte-compile the package as `pip install` does, so that the client's start-up is an
    installed copy's (an editable checkout with PYTHONDONTWRITEBYTECODE compiles every module
    at every start)."""
    import endpoints

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(endpoints.__file__).parent)], check=True)


def endpoints(*words: str) -> str:
    done = subprocess.run([sys.executable, "-m", "endpoints", *words], check=True, capture_output=True, text=True)
    return done.stdout


def write_spec(path: Path, s: Scenario) -> None:
    rooms = [{"name": f"room-{i + 1:04d}", "model": s.model, "transport": s.transport,
              "building": f"building-{chr(ord('a') + i // 100 % 26)}"} for i in range(s.rooms)]
    path.write_text(yaml.safe_dump({"rooms": rooms, "delay": s.delay, "latency": s.latency}))


def write_profiles(folder: Path, delay: float) -> None:
    """What an operator who timed this fleet would write: each built-in profile extended
    with `registration.settle`, the seconds these rooms take to register after a change
    (the lab's R), so the first poll comes when a verdict can be there."""
    from endpoints.profiles import ProfileSet

    folder.mkdir()
    for name, profile in ProfileSet.load().profiles.items():
        spec = profile.registration
        registration: dict[str, Any] = {"status": spec.status, "states": dict(spec.states), "settle": delay}
        if spec.reason:
            registration["reason"] = spec.reason
        if spec.via:
            registration["via"] = spec.via
        (folder / f"lab-{name}.yaml").write_text(yaml.safe_dump(
            {"name": f"lab-{name}", "extends": name, "registration": registration}))


def run_client(folder: Path, s: Scenario, profile: bool) -> tuple[dict[str, Any], resource.struct_rusage, int]:
    """The command line in its own process; its counts, its rusage and its exit code."""
    counts = folder / "client.json"
    command = [sys.executable, str(HERE / "_client.py"), str(counts), "apply",
               "-i", str(folder / "lab" / "inventory.yaml"), "--forks", str(s.forks),
               "--verify-timeout", str(s.delay * 10 + 60), "--run-dir", str(folder / "runs"),
               "--state-dir", str(folder / "state"), "--report", str(folder / "report.json")]
    if s.settle:
        write_profiles(folder / "profiles", s.delay)
        command += ["--profiles", str(folder / "profiles")]
    with open(folder / "client.log", "wb") as log:
        env = {**os.environ, "ENDPOINTS_BENCH_PROFILE": str(folder / "client.pstats")} if profile else None
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return json.loads(counts.read_text()), usage, process.returncode


def one_run(s: Scenario, *, profile: bool = False, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="endpoints-bench-") as tmp:
        folder = Path(tmp)
        write_spec(folder / "spec.yaml", s)
        endpoints("lab", "up", "--spec", str(folder / "spec.yaml"), "--detach", "--dir", str(folder / "lab"))
        try:
            started = time.perf_counter()
            counts, usage, code = run_client(folder, s, profile)
            process_wall = time.perf_counter() - started
            rooms = json.loads(endpoints("lab", "status", "--json", "--dir", str(folder / "lab")))
        finally:
            endpoints("lab", "down", "--dir", str(folder / "lab"))
        if code not in (0, 2, 4, 6):
            sys.exit(f"{s.name}: the client failed ({code}):\n{(folder / 'client.log').read_text()[-3000:]}")
        report = json.loads((folder / "report.json").read_text())
        if profile:
            print_profile(folder / "client.pstats")
        if keep is not None:
            shutil.copytree(folder, keep, dirs_exist_ok=True)
    statuses = Counter(h["status"] for h in report["hosts"].values())
    wall = counts["run_wall"]
    bound = max(s.delay + K_MINIMAL * s.latency, s.rooms * K_MINIMAL * s.latency / s.forks)
    return {
        "wall": round(wall, 2), "bound": round(bound, 2), "wall_ratio": round(wall / bound, 2),
        "process_wall": round(process_wall, 2),
        "cpu_ms_per_room": round((usage.ru_utime + usage.ru_stime) * 1000 / s.rooms, 2),
        "rss_mb": round(usage.ru_maxrss / 1024, 1),
        "connections_per_room": round(counts["connections"] / s.rooms, 2),
        "logins_per_room": round(sum(r.get("logins", 0) for r in rooms) / s.rooms, 2),
        "requests_per_room": round(sum(r["requests"] for r in rooms) / s.rooms, 2),
        "ok": statuses["ok"] + statuses["changed"], "not_ok": s.rooms - statuses["ok"] - statuses["changed"],
        "sessions_open": sum(r["sessions_open"] for r in rooms),
    }


# --- what is printed ------------------------------------------------------------------------

COLUMNS = [("wall", "wall s", "{:.2f}"), ("bound", "bound s", "{:.2f}"), ("wall_ratio", "wall/bound", "{:.2f}"),
           ("cpu_ms_per_room", "CPU ms/room", "{:.1f}"), ("rss_mb", "RSS MB", "{:.0f}"),
           ("connections_per_room", "conn/room", "{:.2f}"), ("logins_per_room", "logins/room", "{:.2f}"),
           ("requests_per_room", "req/room", "{:.2f}"), ("ok", "ok", "{:.0f}"), ("not_ok", "not ok", "{:.0f}"),
           ("sessions_open", "left open", "{:.0f}")]


def cell(key: str, fmt: str, now: dict[str, Any], last: dict[str, Any] | None) -> str:
    text = fmt.format(now[key])
    if last is not None and key in last:
        text += f" ({fmt.format(last[key])})"
    return text


def print_header() -> None:
    print(f"{'scenario':<26} {'N':>5} {'forks':>5} " + " ".join(f"{title:>16}" for _, title, _ in COLUMNS))
    print("(each figure next to the last recorded one, in brackets)")


def print_row(s: Scenario, now: dict[str, Any], last: dict[str, Any] | None) -> None:
    cells = " ".join(f"{cell(key, fmt, now, last):>16}" for key, _, fmt in COLUMNS)
    print(f"{s.name:<26} {s.rooms:>5} {s.forks:>5} {cells}", flush=True)


def targets(s: Scenario, r: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(target, figure, figure/target) of issue 16 for one scenario: a ratio above 1 misses."""
    found = []
    if s.wall_target is not None:
        found.append((f"wall <= {s.wall_target:g} x bound", r["wall_ratio"], r["wall_ratio"] / s.wall_target))
    found.append((f"CPU <= {CPU_TARGET_MS:g} ms/room", r["cpu_ms_per_room"], r["cpu_ms_per_room"] / CPU_TARGET_MS))
    if s.rooms >= 1000:
        found.append((f"peak RSS <= {RSS_TARGET_MB:g} MB", r["rss_mb"], r["rss_mb"] / RSS_TARGET_MB))
    if s.cisco:
        found.append((f"connections <= {CONNECTIONS_TARGET:g}/room", r["connections_per_room"],
                      r["connections_per_room"] / CONNECTIONS_TARGET))
        found.append((f"logins <= {LOGINS_TARGET:g}/room", r["logins_per_room"],
                      r["logins_per_room"] / LOGINS_TARGET))
    return found


def print_targets(done: list[tuple[Scenario, dict[str, Any]]], recorded: dict[str, Any]) -> None:
    print("\nissue 16 targets (ratio = figure / target; above 1.00 misses; last recorded ratio in brackets)")
    for s, r in done:
        last = recorded.get(s.name)
        earlier = {t[0]: t[2] for t in targets(s, last)} if last else {}
        for name, figure, ratio in targets(s, r):
            before = f" ({earlier[name]:.2f})" if name in earlier else ""
            print(f"  {s.name:<26} {name:<24} {figure:>8.2f}  ratio {ratio:.2f}{before}"
                  f"{'' if ratio <= 1 else '  MISSED'}")


def print_profile(path: Path, top: int = 25) -> None:
    """The client's cProfile (every thread): the top functions by own time and by time under them."""
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"\nprofile of the client (cProfile, every thread; its overhead inflates the figures above), "
              f"top {top} by {order}:")
        stats = pstats.Stats(str(path), stream=sys.stdout)
        stats.strip_dirs().sort_stats(order).print_stats(top)


# --- the record and the README ----------------------------------------------------------------

def load_results() -> dict[str, Any]:
    return json.loads(RESULTS.read_text())["scenarios"] if RESULTS.exists() else {}


def save_results(recorded: dict[str, Any]) -> None:
    ordered = {s.name: recorded[s.name] for s in SCENARIOS if s.name in recorded}
    RESULTS.write_text(json.dumps({"scenarios": ordered}, indent=2) + "\n")


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


BEGIN, END = "<!-- speed table: benchmarks/rollout.py --readme -->", "<!-- end of speed table -->"


def readme_table(recorded: dict[str, Any]) -> str:
    lines = ["| scenario | N | API | forks | wall | bound | wall/bound | CPU/room | peak RSS | connections/room "
             "| logins/room | requests/room | ok |", "|" + "---|" * 13]
    for s in SCENARIOS:
        r = recorded.get(s.name)
        if r is None:
            continue
        api = f"{s.model} {s.transport}"
        lines.append(f"| {s.name} | {s.rooms} | {api} | {s.forks} | {r['wall']:.1f} s | {r['bound']:.1f} s "
                     f"| {r['wall_ratio']:.2f} | {r['cpu_ms_per_room']:.1f} ms | {r['rss_mb']:.0f} MB "
                     f"| {r['connections_per_room']:.2f} | {r['logins_per_room']:.2f} | {r['requests_per_room']:.2f} "
                     f"| {r['ok']}/{s.rooms} |")
    return "\n".join(lines)


def write_readme(recorded: dict[str, Any], readme: Path) -> None:
    text = readme.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"{readme}: no speed table markers ({BEGIN} ... {END})")
    readme.write_text(text[:start + len(BEGIN)] + "\n" + readme_table(recorded) + "\n" + text[end:])
    print(f"{readme}: Speed table rewritten from {RESULTS.name}")


# --- the command line -------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", nargs="+", choices=list(BY_NAME), help="named scenarios (default: all)")
    parser.add_argument("--rooms", type=int, help="an ad-hoc fleet of N rooms (not recorded)")
    parser.add_argument("--latency", type=float, default=0.05, help="L: seconds added to every reply")
    parser.add_argument("--delay", type=float, default=4.0, help="R: seconds from a change to registration")
    parser.add_argument("--forks", type=int, nargs="+", default=[5, 50])
    parser.add_argument("--model", default="SX20")
    parser.add_argument("--transport", default="http")
    parser.add_argument("--profile", action="store_true", help="profile the client (cProfile, every thread), print the top")
    parser.add_argument("--no-record", action="store_true", help="do not update benchmarks/results.json")
    parser.add_argument("--json", type=Path, help="also write this run's figures here")
    parser.add_argument("--keep", type=Path, help="keep the last run's folder (lab, report, logs) here")
    parser.add_argument("--readme", nargs="?", type=Path, const=README, metavar="FILE",
                        help="rewrite the Speed table of the README (or FILE) from results.json")
    args = parser.parse_args()
    raise_open_files()
    compile_package()
    recorded = load_results()
    if args.readme:
        write_readme(recorded, args.readme)
        return
    if args.rooms:
        chosen = [Scenario(f"ad-hoc-{args.rooms}-f{f}", args.rooms, args.model, args.transport, args.latency,
                           args.delay, f, cisco=args.model.upper().startswith("SX")) for f in args.forks]
    else:
        chosen = [BY_NAME[name] for name in args.scenario] if args.scenario else SCENARIOS
    record = not (args.rooms or args.no_record or args.profile)
    print(f"client: the endpoints command line; lab: its own process; {os.cpu_count()} CPUs; "
          f"k = {K_MINIMAL} requests per room for the bound")
    print_header()
    done = []
    for s in chosen:
        r = one_run(s, profile=args.profile, keep=args.keep)
        print_row(s, r, recorded.get(s.name))
        done.append((s, r))
    print_targets(done, recorded)
    if args.json:
        args.json.write_text(json.dumps({s.name: {**asdict(s), **r} for s, r in done}, indent=2))
    if record:
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        for s, r in done:
            recorded[s.name] = {**r, "recorded": stamp, "commit": commit()}
        save_results(recorded)
        print(f"\nrecorded in {RESULTS.relative_to(ROOT)}; `python benchmarks/rollout.py --readme` rewrites the "
              "README's table")


if __name__ == "__main__":
    main()
