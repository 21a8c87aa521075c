"""The application: one command over the selected rooms, from inventory to report.

inventory -> selected rooms -> desired state (checked before any device is touched) ->
rooms through their task (`endpoints.tasks`, on `endpoints.core.runner`) -> run folder,
report, recap. The command line, the demo and the Ansible modules all come through here,
so every check and every output is the same whichever way a run starts.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console

from endpoints import output
from endpoints.channel import control_character
from endpoints.core.options import Options
from endpoints.core.processor import HistoryProcessor, Processor, Processors
from endpoints.core.room import Room
from endpoints.core.runner import Runner
from endpoints.desired import DesiredSip, desired_state
from endpoints.errors import InputError
from endpoints.events import EventLog, EventLogProcessor, new_run_folder
from endpoints.host import Host
from endpoints.profiles import TEMPLATE, ProfileSet, template_context
from endpoints.results import RunResult
from endpoints.secrets import Secret, SecretError, redact
from endpoints.state import Memory, state_dir
from endpoints.tasks import TASKS, TaskSpec

log = logging.getLogger(__name__)
DEFAULT_RUN_DIR = Path(".endpoints/runs")
EXIT_INPUT = 1


@dataclass(frozen=True)
class Request:
    """One run as the user asked for it."""

    options: Options
    inventory: tuple[Path, ...]
    limit: str | None = None
    profile_dirs: tuple[Path, ...] = ()
    run_dir: Path = DEFAULT_RUN_DIR
    report: Path | None = None
    html: Path | None = None
    csv: Path | None = None
    state_dir: Path | None = None
    diff: bool = False
    verbose: int = 0
    rollback_run: Path | None = None  # rollback: the run folder whose backup is put back
    extra_processors: tuple[Processor, ...] = field(default=(), compare=False)


def execute(request: Request, out: Console | None = None, err: Console | None = None) -> RunResult:
    """Load, check, run and show one command; InputError before any device is touched."""
    from endpoints.inventory import load_inventory
    from endpoints.limit import select

    out, err = out or output.console(), err or output.stderr_console()
    spec = TASKS[request.options.command]
    inventory = load_inventory(list(request.inventory))
    hosts = [inventory.hosts[name] for name in select(inventory, request.limit)]
    configure_logging(request.verbose, hosts)
    profiles = ProfileSet.load(request.profile_dirs)
    prepared = prepare(hosts, profiles, spec, request.options)  # bad input stops here, before any device
    if request.options.cloud:
        from endpoints.cloud.context import cloud_settings

        cloud_settings(hosts)  # one service for the selected rooms, with its keys: checked now
    check_outputs(request)
    backup = _backup(request)
    memory = Memory.open(state_dir(request.state_dir), request.inventory)
    if spec.sip and spec.writes and not request.options.check and memory.fresh:
        err.print(f"note: no memory of earlier runs in {memory.folder}: passwords the service refused before "
                  "cannot be recognised (use the same --state-dir as earlier runs)", highlight=False)
    if request.options.check:
        out.print(output.check_banner(request.options.command), highlight=False)
    folder = new_run_folder(request.run_dir, request.options.command, check=request.options.check)
    events = EventLog(folder / "events.jsonl", {h.name: h.secrets() for h in hosts})
    live = output.LiveOutput(out, err, request.options.command, diff=request.diff,
                             facts=request.options.command == "facts")
    processors: list[Processor] = [EventLogProcessor(events, verbose=bool(request.verbose)),
                                   HistoryProcessor(memory.history), live, *request.extra_processors]
    if spec.writes and not request.options.check:
        from endpoints.backup import BackupProcessor

        processors.append(BackupProcessor(folder))
    started = _now()
    try:
        with _stop_on_sigterm():
            run = run_rooms(hosts, prepared, profiles, request.options, memory, Processors(processors), backup)
    finally:
        live.close()
        events.close()
    if request.options.cloud and not run.interrupted:
        service_verdicts(run, hosts, out)
    if request.options.command == "doctor" and not run.interrupted:
        proxy_preflight(run, prepared, request.options, out)
    run.meta = _meta(request, started, folder)
    write_outputs(run, folder, request)
    out.print(output.totals_line(run), highlight=False)
    _tell_outputs(out, run, folder)
    return run


def run_rooms(hosts: Sequence[Host], prepared: dict[str, DesiredSip | None], profiles: ProfileSet,
              options: Options, memory: Memory, processors: Processors,
              backup: dict[str, Any] | None = None) -> RunResult:
    """Run one task over rooms already checked by `prepare` (the Ansible modules start here)."""
    spec = TASKS[options.command]
    rooms = [Room(h, prepared[h.name], profiles, options, memory, processors) for h in hosts]
    for room in rooms:
        room.backup = (backup or {}).get(room.name)
    processors.run_started(options.command, rooms)
    try:
        finished = Runner(options.forks).run(rooms, spec.run, processors.room_done)
    finally:
        memory.history.flush()
    run = RunResult(options.command, {room.name: room.result for room in rooms}, interrupted=not finished,
                    check=options.check)
    processors.run_done(run)
    return run


# --- checks before any device is touched --------------------------------------------------

def prepare(hosts: Sequence[Host], profiles: ProfileSet, spec: TaskSpec, options: Options) -> dict[str, DesiredSip | None]:
    """Every room's input, checked before any device is touched; raises InputError."""
    from endpoints.inventory import check_drivable

    prepared: dict[str, DesiredSip | None] = {}
    for host in hosts:
        check_drivable(host)
        _check_login(host, spec)
        desired = None
        if spec.sip:
            desired = desired_state(host, resolve_proxy=options.resolve_proxy)
            if spec.writes and not options.check and desired.password is None:
                raise InputError("no SIP password: set sip.password", file=host.origin("sip"), key="sip.password")
            _resolve(host, desired.password, "sip.password")
            _check_rendered(host, desired, profiles)
        prepared[host.name] = desired
    return prepared


def _check_login(host: Host, spec: TaskSpec) -> None:
    credentials = host.device_credentials
    _resolve(host, credentials.password, "device_credentials.password")
    for key, value in (("device_credentials.username", credentials.username),
                       ("device_credentials.password", credentials.password.reveal() if credentials.password else "")):
        bad = control_character(value)
        if bad is not None:  # at a login prompt a line break would end the login and start a command
            raise InputError(f"holds the control character {bad}, which no device takes in a login", key=key,
                             file=host.origin(key))
    if spec.admin_password and credentials.password is None:
        raise InputError("recover restores the admin password from the inventory: set it",
                         file=host.origin("device_credentials"), key="device_credentials.password")


def _resolve(host: Host, secret: Secret | None, key: str) -> None:
    if secret is None:
        return
    try:
        secret.reveal()
    except SecretError:
        raise  # it names the file, the line and the key where the secret is written


def _check_rendered(host: Host, desired: DesiredSip, profiles: ProfileSet) -> None:
    """Render every profile this room may get, and refuse a value no device would store as sent."""
    family = host.profile and profiles.get(host.profile, where=host.origin("profile")).vendor
    context = template_context(desired, host)
    for profile in profiles.profiles.values():
        if (family and profile.vendor != family) or (host.profile and host.profile != profile.name):
            continue
        for setting, value in profile.render(desired, host):
            text = value.reveal() if isinstance(value, Secret) else value
            bad = control_character(text)
            if bad is None:
                continue
            names = [n for n in TEMPLATE.findall(setting.value) if control_character(_text(context.get(n)))]
            key = _inventory_key(names[0]) if names else ""
            where = host.origin(key) if key else setting.source
            raise InputError(f"holds the control character {bad}, which would end the command on a line API "
                             f"or be stored altered (setting {setting.setting!r})", file=where, key=key or "value")


def _text(value: Any) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value or "")


def _inventory_key(template_name: str) -> str:
    """The inventory key behind a template name (`host.name` is the host's own name)."""
    return {"sip.enabled": "", "host.name": "", "host.address": "address", "host.serial": "serial"}.get(
        template_name, template_name)


def check_outputs(request: Request) -> None:
    """Every output path is usable before the first device is touched."""
    for option, path in (("--report", request.report), ("--html", request.html), ("--csv", request.csv)):
        if path is None:
            continue
        if path.is_dir():
            raise InputError(f"{option} {path} is a folder: give a file name")
        parent = path.parent if str(path.parent) else Path(".")
        if parent.exists() and not os.access(parent, os.W_OK):
            raise InputError(f"{option}: cannot write in {parent}")
        if not parent.exists() and not _creatable(parent):
            raise InputError(f"{option}: cannot create the folder {parent}")
    run_dir = request.run_dir
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"--run-dir {run_dir} is a file: give a folder")
    if not run_dir.exists() and not _creatable(run_dir):
        raise InputError(f"--run-dir: cannot create the folder {run_dir}")
    if run_dir.exists() and not os.access(run_dir, os.W_OK):
        raise InputError(f"--run-dir: cannot write in {run_dir}")


def _creatable(folder: Path) -> bool:
    existing = next((p for p in [folder, *folder.parents] if p.exists()), Path("."))
    return existing.is_dir() and os.access(existing, os.W_OK)


def _backup(request: Request) -> dict[str, Any] | None:
    if request.rollback_run is None:
        return None
    from endpoints.backup import load_backup

    return load_backup(request.rollback_run)


# --- outputs --------------------------------------------------------------------------------

def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _meta(request: Request, started: str, folder: Path) -> dict[str, Any]:
    try:
        version = metadata.version("endpoints-sip")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"tool": "endpoints", "version": version, "command": request.options.command,
            "check": request.options.check, "limit": request.limit,
            "inventory": [str(p) for p in request.inventory], "started": started, "finished": _now(),
            "run_dir": str(folder)}


def write_outputs(run: RunResult, folder: Path, request: Request) -> None:
    text = json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"
    (folder / "report.json").write_text(text, encoding="utf-8")
    if request.report:
        request.report.parent.mkdir(parents=True, exist_ok=True)
        request.report.write_text(text, encoding="utf-8")
    retry = [name for name, r in run.hosts.items() if r.status not in ("ok", "changed")]
    (folder / "retry.txt").write_text("".join(f"{name}\n" for name in retry), encoding="utf-8")
    if request.html or request.csv:
        from endpoints.report import write_csv, write_html

        if request.html:
            write_html(run.to_json(), request.html)
        if request.csv:
            write_csv(run.to_json(), request.csv)


# --- after the rooms: the service's word, the proxies' path ------------------------------------

SERVICE_ASKS = 3  # a registration the room just made may reach the service's status a moment later
SERVICE_PAUSE = 1.0


def service_verdicts(run: RunResult, hosts: Sequence[Host], out: Console) -> None:
    """`--cloud`: ask the service for every room's number (in batches); a room it does not see
    registered fails, with advice that tells the room's side from the service's."""
    from endpoints.cloud.context import client_for
    from endpoints.cloud.status import normalise_number, service_advice, service_registrations

    numbers = {h.name: normalise_number(h.sip.number or (h.sip.uri or "").split("@")[0]) for h in hosts}
    with client_for(hosts) as client:
        answers = service_registrations(client, [n for n in numbers.values() if n])
        for _ in range(SERVICE_ASKS - 1):
            late = [n for n, a in answers.items() if a.state != "registered" and _device_registered(run, numbers, n)]
            if not late:
                break
            time.sleep(SERVICE_PAUSE)
            answers.update(service_registrations(client, late))
        requests = client.requests
    for host in hosts:
        number, result = numbers[host.name], run.hosts[host.name]
        if not number:
            result.service = {"state": "unknown", "number": None}
            continue
        answer = answers[number]
        result.service = answer.to_json(number)
        device = result.registration.state if result.registration else None
        if answer.state != "registered" and result.status in ("ok", "changed"):
            result.fail("failed", f"the meeting service does not see {number} registered ({answer.detail})",
                        service_advice(device, answer, number))
            for line in output.room_lines(result, diff=False, facts=False)[:1] + [f"    advice: {result.advice}"]:
                out.print(line, highlight=False)
    seen = sum(1 for r in run.hosts.values() if r.service and r.service["state"] == "registered")
    out.print(f"the meeting service sees {seen} of {output.rooms(len(run.hosts))} registered "
              f"[dim](asked in {requests} request(s))[/]", highlight=False)


def _device_registered(run: RunResult, numbers: dict[str, str], number: str) -> bool:
    return any(n == number and (r := run.hosts[name].registration) is not None and r.state == "registered"
               for name, n in numbers.items())


def proxy_preflight(run: RunResult, prepared: dict[str, DesiredSip | None], options: Options, out: Console) -> None:
    """`doctor`: every distinct outbound proxy of the selected rooms, checked from this machine."""
    from endpoints import doctor

    proxies: dict[Any, list[str]] = {}
    for name, desired in prepared.items():
        if desired is not None:
            proxies.setdefault(desired.proxy, []).append(name)
    without_dns = {name for name, r in run.hosts.items()
                   if any(c["name"] == "dns servers" and not c["passed"] and not c.get("skipped") for c in r.checks)}
    reports = doctor.check_proxies(proxies, timeout=options.timeout, forks=options.forks,
                                   rooms_without_dns=without_dns)
    doctor.render(out, reports)
    run.extra["proxies"] = [r.to_json() for r in reports]
    run.failed_checks = doctor.exit_code(reports) != doctor.EXIT_OK


def _tell_outputs(console: Console, run: RunResult, folder: Path) -> None:
    console.print(f"[dim]event log and report: {folder}[/]")
    if any(r.status not in ("ok", "changed") for r in run.hosts.values()):
        console.print(f"[dim]rerun the rooms that did not end ok: --limit @{folder / 'retry.txt'}[/]")


def exit_code(run: RunResult) -> int:
    return run.exit_code() if not run.interrupted else (run.exit_code() or 2)


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """A terminated run ends like an interrupted one: sessions closed, report written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RedactingFilter(logging.Filter):
    """Last line of defence: any secret value that reaches a log line is masked."""

    def __init__(self, hosts: Sequence[Host]) -> None:
        super().__init__()
        self.secrets = list({id(s): s for h in hosts for s in h.secrets()}.values())

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        return True


def configure_logging(verbosity: int, hosts: Sequence[Host]) -> None:
    """Warnings always (e.g. a key accepted during recover), more with -v; secrets masked.
    Libraries (paramiko's tracebacks on a broken handshake) speak only with -v."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "endpoints", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.endpoints = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter(hosts))
    if verbosity:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
    root.addHandler(handler)
    logging.getLogger("httpcore").setLevel(logging.INFO)  # its DEBUG prints session cookies
    quiet = logging.CRITICAL + 1
    logging.getLogger("paramiko").setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING if verbosity else quiet)
    root.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING)


@contextmanager
def input_errors() -> Iterator[None]:
    """Bad input is one line on stderr and exit 1 (the contract's usage/inventory error), never a traceback."""
    try:
        yield
    except InputError as error:
        output.stderr_console().print(f"[red]error:[/] {error}", highlight=False)
        sys.exit(EXIT_INPUT)
