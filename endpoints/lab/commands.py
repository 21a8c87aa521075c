"""`endpoints lab up|status|reset|down`: run a simulated building and look at it."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from endpoints.errors import InputError
from endpoints.lab import control, sip_server
from endpoints.lab.fleet import Lab, LabSpec


def _refuse_a_second_lab(folder: Path) -> None:
    if not (folder / "manifest.json").exists():
        return
    try:
        control.request(folder, "GET", "/status", timeout=5)
    except InputError:
        return  # a stale manifest from a lab that is gone
    raise InputError("a lab is already running here: `endpoints lab down` first, or use another --dir",
                     file=str(folder / "manifest.json"))


def up(folder: Path, spec: LabSpec, console: Console, *, sip: bool = False) -> None:
    """Serve the lab in this process until `lab down` or Ctrl-C (`sip`: with a Kamailio proxy)."""
    folder.mkdir(parents=True, exist_ok=True)
    _refuse_a_second_lab(folder)
    (folder / "manifest.json").unlink(missing_ok=True)
    started = time.monotonic()
    proxy = sip_server.start_lab_proxy(folder) if sip else None
    lab = Lab(folder, spec, proxy=proxy.proxy if proxy else "")
    try:
        lab.start()
    except BaseException:
        if proxy:
            proxy.stop()
        raise
    assert lab.loop is not None
    stop = asyncio.Event()
    lab.write_manifest(lab.loop.call(control.serve_control(lab, stop)))
    console.print(f"lab: {len(lab.rooms)} simulated rooms on 127.0.0.1 in {time.monotonic() - started:.1f} s")
    console.print(f"inventory: {lab.inventory_path}")
    console.print("try: endpoints plan -i " + str(lab.inventory_path))
    if proxy:
        console.print(sip_server.how_to_doctor(proxy, lab.inventory_path))
    console.print("stop with Ctrl-C or `endpoints lab down`", style="dim")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: lab.loop.loop.call_soon_threadsafe(stop.set) if lab.loop else None)
    try:
        lab.loop.call(stop.wait(), timeout=None)
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
        if proxy:
            proxy.stop()
        (folder / "manifest.json").unlink(missing_ok=True)
        console.print("lab: stopped")


def up_detached(folder: Path, args: list[str], console: Console, wait: float = 900.0) -> None:
    """Start `lab up` in the background and return once it serves."""
    folder.mkdir(parents=True, exist_ok=True)
    _refuse_a_second_lab(folder)
    manifest_path = folder / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    log = (folder / "lab.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "endpoints", "lab", "up", *args, "--dir", str(folder)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InputError(f"the lab did not start; see {folder / 'lab.log'}", file=str(folder))
        if manifest_path.exists() and control.manifest(folder).get("control"):
            console.print(f"lab: serving in the background (pid {process.pid}); inventory: {folder / 'inventory.yaml'}")
            if "--sip" in args:
                console.print(sip_server.doctor_hint(folder))
            return
        time.sleep(0.2)
    process.terminate()
    raise InputError("the lab did not start in time", file=str(folder))


def status(folder: Path, console: Console, as_json: bool) -> list[dict[str, Any]]:
    rooms: list[dict[str, Any]] = control.request(folder, "GET", "/status")["rooms"]
    if as_json:
        import json

        console.print_json(json.dumps(rooms))
        return rooms
    table = Table("room", "model", "transport", "registration", "writes", "attempts", "failed logins", "SIP",
                  box=None, pad_edge=False)
    if not console.is_terminal:
        console.width = max(console.width, 180)
    for room in rooms:
        reg = room["registration"] + (f" ({room['failure']})" if room["failure"] else "")
        if room["locked"]:
            reg += " LOCKED"
        table.add_row(room["room"], room["model"], room["transport"], reg, str(room["writes"]),
                      str(room["attempts"]), str(room["logins_failed"]), _sip_summary(room["settings"]))
    console.print(table)
    return rooms


SUMMARY = {"uri": ("URI", "sipusername"), "proxy": ("Proxy 1 Address", "sipproxyserver"),
           "transport": ("DefaultTransport", "siptransportprotocol")}


def _sip_summary(settings: dict[str, Any]) -> str:
    """URI, proxy and transport, whatever the vendor calls them."""
    parts = []
    for label, suffixes in SUMMARY.items():
        value = next((v for k, v in settings.items() if k.endswith(suffixes) and v), "")
        if value:
            parts.append(f"{label}={value}")
    return " ".join(parts) or "-"


def reset(folder: Path, room: str, console: Console) -> None:
    control.request(folder, "POST", f"/rooms/{room}/reset")
    console.print(f"lab: {room} factory reset (new host key and certificate; admin password back to default)")


def down(folder: Path, console: Console, wait: float = 30.0) -> None:
    pid = int(control.manifest(folder).get("pid", 0))
    try:
        control.request(folder, "POST", "/down")
    except InputError:
        if pid:
            _kill(pid)
    deadline = time.monotonic() + wait
    while (folder / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    console.print("lab: down")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
