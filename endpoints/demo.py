"""`endpoints demo`: the whole job against a simulated building, start to finish.

A small lab (every model, every transport, rooms fresh from the factory, rooms with an
old set-up, one already right, and one whose inventory carries a wrong SIP password),
then plan, apply (with registration proved), and a second apply that must write nothing.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from endpoints import app
from endpoints.core.options import Options
from endpoints.lab.fleet import MIX, Lab, LabSpec, RoomSpec
from endpoints.results import RunResult

WRONG = "room-a010"


def demo_spec() -> LabSpec:
    spec = LabSpec.mixed(len(MIX), delay=1.0)
    spec.rooms.append(RoomSpec(name=WRONG, model="SX20", transport="https", wrong_password=True))
    return spec


def run_demo(console: Console, keep: Path | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="endpoints-demo-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        lab = Lab(folder / "lab", demo_spec())
        console.rule("endpoints demo: a simulated building on 127.0.0.1")
        lab.start()
        try:
            return _story(console, lab, folder)
        finally:
            lab.stop()


def _story(console: Console, lab: Lab, folder: Path) -> int:
    for name, room in lab.rooms.items():
        note = "  (its inventory carries a wrong SIP password)" if room.spec.wrong_password else ""
        console.print(f"  {name}: {room.spec.model} {room.spec.software} over {room.spec.transport}, "
                      f"{room.spec.state}{note}")
    inventory = lab.inventory_path
    console.print(f"inventory: {inventory}\n")

    def run(options: Options, *, diff: bool = False, html: Path | None = None) -> RunResult:
        request = app.Request(options, (inventory,), run_dir=folder / "runs", state_dir=folder / "state", diff=diff,
                              html=html)
        return app.execute(request, console)

    console.rule("1. endpoints plan: what would change (nothing is written)")
    run(Options("plan"))

    console.rule("2. endpoints apply: write what differs, then prove registration")
    page = folder / "apply.html" if keep_files(folder) else None
    first = run(Options("apply", verify_timeout=30, forks=10), diff=True, html=page)

    console.rule("3. endpoints apply again: every room ok, nothing written, nobody re-registers")
    writes, attempts = _counts(lab)
    second = run(Options("apply", verify_timeout=30))
    writes_after, attempts_after = _counts(lab)
    console.print(f"the simulated rooms saw {writes_after - writes} writes and "
                  f"{attempts_after - attempts} registration attempts during the second apply")

    console.rule("4. endpoints verify --cloud: the meeting service's own word on every number")
    service = run(Options("verify", verify_timeout=30, cloud=True))
    if page:
        console.print(f"the apply's report as a page: {page}")
    code = _verdict(console, first, second, writes_after - writes, attempts_after - attempts)
    seen = {name for name, r in service.hosts.items() if r.service and r.service["state"] == "registered"}
    if code == 0 and seen != set(service.hosts) - {WRONG}:
        console.print(f"[red]demo: the service did not see {sorted(set(service.hosts) - {WRONG} - seen)}[/]")
        return 1
    return code


def keep_files(folder: Path) -> bool:
    return not folder.name.startswith("endpoints-demo-")


def _counts(lab: Lab) -> tuple[int, int]:
    devices = list(lab.devices())
    return sum(d.counters.writes for d in devices), sum(d.registration.attempts for d in devices)


def _verdict(console: Console, first: RunResult, second: RunResult, writes: int, attempts: int) -> int:
    unexpected = [name for name, r in first.hosts.items() if (r.status in ("failed", "unreachable")) != (name == WRONG)]
    if unexpected or writes:
        console.print(f"[red]demo: unexpected outcome for {', '.join(unexpected) or 'the second apply'}[/]")
        return 1
    console.print(f"\n[green]demo complete[/]: every room registered except {WRONG}, whose failure and advice "
                  "are shown above; run it yourself with `endpoints lab up` and `endpoints apply -i ...`.")
    return 0
