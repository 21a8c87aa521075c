"""The command line: facts, plan, apply, verify, recover, and the lab."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from endpoints import engine, output
from endpoints.errors import InputError
from endpoints.events import EventLog, new_run_folder
from endpoints.history import History
from endpoints.host import Host
from endpoints.profiles import ProfileSet
from endpoints.results import RunResult
from endpoints.secrets import redact
from endpoints.trust import PinStore

EXIT_INPUT = 1


class RedactingFilter(logging.Filter):
    """Last line of defence: any secret value that reaches a log line is masked."""

    def __init__(self, hosts: list[Host]) -> None:
        super().__init__()
        self.secrets = list({id(s): s for h in hosts for s in h.secrets()}.values())

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        return True


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-i", "--inventory", "inventory", required=True, type=click.Path(path_type=Path),
                     help="Inventory file (Ansible YAML shape)."),
        click.option("--limit", default=None, help="Ansible pattern: names, groups, globs, ~regex, a:b, a:&b, a:!b, @file."),
        click.option("--forks", default=10, show_default=True, type=click.IntRange(1, 1000),
                     help="Concurrent device sessions."),
        click.option("--report", type=click.Path(path_type=Path), default=None, help="Write the JSON run report here."),
        click.option("--profiles", "profile_dirs", multiple=True, type=click.Path(path_type=Path),
                     help="A folder of extra or overriding profiles (repeatable)."),
        click.option("--run-dir", type=click.Path(path_type=Path), default=Path(".endpoints/runs"), show_default=True,
                     help="Where each run keeps its event log, report and retry list."),
        click.option("--timeout", default=10.0, show_default=True, help="Seconds per device request."),
        click.option("-v", "--verbose", count=True, help="Log protocol steps to stderr (secrets masked)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def verify_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--verify-timeout", default=120.0, show_default=True,
                        help="Seconds to wait for registration.")(func)
    return func


def sip_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--resolve-proxy", is_flag=True,
                        help="Resolve the proxy's name to an IP here, for rooms that cannot resolve names.")(func)
    return func


class _Commands(click.Group):
    """Usage errors exit 1, as the contract says: click's own 2 means "some host failed" here."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as shown:
            shown.show()
            sys.exit(EXIT_INPUT)
        except click.UsageError as error:
            error.show()
            sys.exit(EXIT_INPUT)
        except click.exceptions.Abort:
            output.stderr_console().print("aborted", highlight=False)
            sys.exit(EXIT_INPUT)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="endpoints")
def main() -> None:
    """Put SIP registration onto Cisco and Polycom rooms and prove that every room registered."""


@main.command()
@common
def facts(**kw: Any) -> None:
    """Read model, software, serial, SIP settings and registration; change nothing."""
    _run("facts", kw)


@main.command()
@common
@sip_options
def plan(**kw: Any) -> None:
    """Show per room what apply would change; change nothing."""
    _run("plan", kw)


def write_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What every command that writes to rooms takes."""
    func = click.option("--no-verify", is_flag=True, help="Do not wait for registration after writing.")(func)
    func = click.option("--diff", is_flag=True, help="Show before and after of every change (secrets masked).")(func)
    return verify_options(sip_options(func))


@main.command()
@common
@write_options
@click.option("--check", is_flag=True, help="Show what would change; change nothing.")
@click.option("--force-password", is_flag=True,
              help="Send the SIP password even to rooms already registered (causes a re-registration).")
def apply(**kw: Any) -> None:
    """Push the settings that differ, then verify registration."""
    _run("apply", kw)


@main.command()
@common
@write_options
def recover(**kw: Any) -> None:
    """Apply for rooms just factory reset: factory login once, new keys trusted only there,
    admin password restored, first-boot wizard finished, whole profile pushed."""
    _run("recover", kw)


@main.command()
@common
@verify_options
def verify(**kw: Any) -> None:
    """Read registration state only (waits while a room is still registering)."""
    _run("verify", kw)


def _run(command: engine.Command, kw: dict[str, Any]) -> None:
    with _input_errors():
        code = _execute(command, kw, Console(highlight=False, soft_wrap=True))
    sys.exit(code)


def _execute(command: engine.Command, kw: dict[str, Any], console: Console) -> int:
    options = engine.Options(
        command=command, check=kw.get("check", False), verify=not kw.get("no_verify", False),
        verify_timeout=kw.get("verify_timeout", 120.0), forks=kw["forks"],
        force_password=kw.get("force_password", False), resolve_proxy=kw.get("resolve_proxy", False),
        timeout=kw["timeout"])
    run = run_command(options, kw["inventory"], console, limit=kw.get("limit"),
                      profile_dirs=kw.get("profile_dirs") or (), run_dir=kw["run_dir"], report=kw.get("report"),
                      diff=kw.get("diff", False), verbose=kw.get("verbose", 0))
    return run.exit_code() if not run.interrupted else (run.exit_code() or 2)


def run_command(options: engine.Options, inventory_path: Path, console: Console, *, limit: str | None = None,
                profile_dirs: tuple[Path, ...] = (), run_dir: Path = Path(".endpoints/runs"),
                report: Path | None = None, diff: bool = False, verbose: int = 0) -> RunResult:
    """Load, check, run and show one command; InputError before any device is touched."""
    from endpoints.inventory import load_inventory
    from endpoints.limit import select

    inventory = load_inventory(inventory_path)
    hosts = [inventory.hosts[name] for name in select(inventory, limit)]
    _logging(verbose, hosts)
    profiles = ProfileSet.load(profile_dirs)
    engine.prepare(hosts, profiles, options)  # bad input stops here, before any device
    folder = new_run_folder(run_dir, options.command)
    events = EventLog(folder / "events.jsonl", {h.name: h.secrets() for h in hosts})
    progress = output.Progress(output.stderr_console(), options.command)
    previous = _stop_on_sigterm()
    try:
        state = Path(run_dir).parent
        run = engine.run(hosts, profiles, options, events, progress, History(state), PinStore(state))
    finally:
        _restore_sigterm(previous)
        progress.close()
        events.close()
    _write_outputs(run, folder, report)
    output.show(console, run, diff=diff, facts=options.command == "facts")
    _tell_outputs(console, run, folder)
    return run


def _stop_on_sigterm() -> Any:
    """A terminated run ends like an interrupted one: sessions closed, report written."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _write_outputs(run: RunResult, folder: Path, report: Path | None) -> None:
    text = json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"
    (folder / "report.json").write_text(text, encoding="utf-8")
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
    retry = [name for name, r in run.hosts.items() if r.status not in ("ok", "changed")]
    (folder / "retry.txt").write_text("".join(f"{name}\n" for name in retry), encoding="utf-8")


def _tell_outputs(console: Console, run: RunResult, folder: Path) -> None:
    console.print(f"[dim]event log and report: {folder}[/]")
    if any(r.status not in ("ok", "changed") for r in run.hosts.values()):
        console.print(f"[dim]rerun the rooms that did not end ok: --limit @{folder / 'retry.txt'}[/]")


def _logging(verbosity: int, hosts: list[Host]) -> None:
    """Warnings always (e.g. a key accepted during recover), more with -v; secrets masked."""
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
    root.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING)


# --- the lab --------------------------------------------------------------------------

LAB_DIR = click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path(".endpoints/lab"),
                       show_default=True, help="Where the lab keeps its inventory, secrets and manifest.")


@main.group()
def lab() -> None:
    """A simulated building on loopback, to rehearse a rollout without hardware."""


@lab.command("up")
@LAB_DIR
@click.option("--rooms", default=9, show_default=True, type=click.IntRange(1, 5000), help="Number of rooms.")
@click.option("--spec", type=click.Path(path_type=Path, exists=True), default=None,
              help="A YAML fleet description (rooms with model, transport, state ...).")
@click.option("--like", "like", type=click.Path(path_type=Path, exists=True), default=None,
              help="Mirror a real inventory (names, groups, models, transports, numbers) to rehearse it.")
@click.option("--http-only", is_flag=True, help="Only rooms driven over HTTP(S) and REST (for large labs).")
@click.option("--delay", default=1.0, show_default=True, help="Seconds from a SIP change to the verdict.")
@click.option("--latency", default=0.0, show_default=True, help="Seconds each simulated device adds per reply.")
@click.option("--detach", is_flag=True, help="Serve in the background and return.")
@click.option("--untrusted", is_flag=True, help="Write a first contact's inventory: nothing pinned, no known hosts.")
def lab_up(folder: Path, rooms: int, spec: Path | None, like: Path | None, http_only: bool, delay: float,
           latency: float, detach: bool, untrusted: bool) -> None:
    """Start a simulated fleet and write its inventory."""
    from endpoints.lab import commands

    console = Console(highlight=False, soft_wrap=True)
    with _input_errors():
        if detach:
            args = ["--rooms", str(rooms), "--delay", str(delay), "--latency", str(latency)]
            args += ["--http-only"] if http_only else []
            args += ["--spec", str(spec)] if spec else []
            args += ["--like", str(like)] if like else []
            args += ["--untrusted"] if untrusted else []
            commands.up_detached(folder, args, console)
            return
        fleet = _fleet(rooms, spec, like, http_only, delay, latency)
        fleet.trusted = fleet.trusted and not untrusted
        commands.up(folder, fleet, console)


def _fleet(rooms: int, spec: Path | None, like: Path | None, http_only: bool, delay: float,
           latency: float) -> Any:
    from endpoints.inventory import load_inventory
    from endpoints.lab.fleet import LabSpec, rehearsal_of

    if spec:
        return LabSpec.load(spec)
    if like:
        return rehearsal_of(load_inventory(like), ProfileSet.load(), delay=delay)
    return LabSpec.mixed(rooms, http_only=http_only, delay=delay, latency=latency)


@lab.command("status")
@LAB_DIR
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def lab_status(folder: Path, as_json: bool) -> None:
    """Show each simulated room's settings, registration and counters."""
    from endpoints.lab import commands

    with _input_errors():
        commands.status(folder, Console(highlight=False, soft_wrap=True), as_json)


@lab.command("reset")
@LAB_DIR
@click.argument("room")
def lab_reset(folder: Path, room: str) -> None:
    """Factory-reset one simulated room."""
    from endpoints.lab import commands

    with _input_errors():
        commands.reset(folder, room, Console(highlight=False, soft_wrap=True))


@lab.command("down")
@LAB_DIR
def lab_down(folder: Path) -> None:
    """Stop the running lab."""
    from endpoints.lab import commands

    with _input_errors():
        commands.down(folder, Console(highlight=False, soft_wrap=True))


@main.command()
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Keep the demo's lab files (inventory, run folders) here.")
def demo(keep: Path | None) -> None:
    """Start a lab, show plan, apply and verify, show a failure and its advice, stop the lab."""
    from endpoints.demo import run_demo

    with _input_errors():
        sys.exit(run_demo(Console(highlight=False, soft_wrap=True), keep))


class _input_errors:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if isinstance(error, InputError):
            output.stderr_console().print(f"[red]error:[/] {error}", highlight=False)
            sys.exit(EXIT_INPUT)
