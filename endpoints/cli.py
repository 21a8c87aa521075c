"""The command line: click options in, `endpoints.app` does the work, an exit code out.

Nothing imports this module (the boundary test checks it): the demo, the benchmarks and
the Ansible modules call `endpoints.app` directly.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from endpoints import app, output
from endpoints.cloud.cli import cloud as cloud_commands
from endpoints.core.options import Options
from endpoints.errors import InputError
from endpoints.profiles import ProfileSet

EXIT_INPUT = app.EXIT_INPUT
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
POSITIVE = click.FloatRange(min=0, min_open=True)


def _options(*options: Decorator) -> Decorator:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func
    return apply


common = _options(
    click.option("-i", "--inventory", "inventory", required=True, multiple=True, type=click.Path(path_type=Path),
                 help="Inventory: a YAML or INI file or a folder, as Ansible reads them (repeatable, merged in order)."),
    click.option("--limit", default=None, help="Ansible pattern: names, groups, globs, ~regex, a:b, a:&b, a:!b, @file."),
    click.option("--forks", default=10, show_default=True, type=click.IntRange(1, 1000),
                 help="Concurrent device sessions."),
    click.option("--report", type=click.Path(path_type=Path), default=None, help="Write the JSON run report here."),
    click.option("--html", type=click.Path(path_type=Path), default=None, help="Write a one-page HTML report here."),
    click.option("--csv", type=click.Path(path_type=Path), default=None, help="Write one CSV row per room here."),
    click.option("--profiles", "profile_dirs", multiple=True, type=click.Path(path_type=Path),
                 help="A folder of extra or overriding profiles (repeatable)."),
    click.option("--run-dir", type=click.Path(path_type=Path), default=app.DEFAULT_RUN_DIR, show_default=True,
                 help="Where each run keeps its event log, report and retry list."),
    click.option("--state-dir", type=click.Path(path_type=Path), default=None,
                 help="The tool's memory (refused passwords, trusted certificates); default "
                      "$ENDPOINTS_STATE_DIR, else $XDG_STATE_HOME/endpoints (~/.local/state/endpoints)."),
    click.option("--timeout", default=10.0, show_default=True, type=POSITIVE,
                 help="Seconds per device request, the whole answer included."),
    click.option("-v", "--verbose", count=True, help="Log protocol steps to stderr (secrets masked); -vv more."),
)
verify_timeout = click.option("--verify-timeout", default=120.0, show_default=True, type=POSITIVE,
                              help="Seconds to wait for registration.")
resolve_proxy = click.option("--resolve-proxy", is_flag=True,
                             help="Resolve the proxy's name to an IP here, for rooms that cannot resolve names.")
diff = click.option("--diff", is_flag=True, help="Show before and after of every change (secrets masked).")
cloud = click.option("--cloud", is_flag=True,
                     help="Also ask the meeting service whether it sees each room registered (cloud.* keys).")
write_options = _options(
    click.option("--no-verify", is_flag=True, help="Do not wait for registration after writing."),
    diff, verify_timeout, resolve_proxy)


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


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Shell completion: eval \"$(_ENDPOINTS_COMPLETE=bash_source endpoints)\" (zsh_source, fish_source).")
@click.version_option(package_name="endpoints-sip")
def main() -> None:
    """Put SIP registration onto Cisco and Polycom rooms and prove that every room registered."""
    _more_open_files()


def _more_open_files() -> None:
    """Each room keeps its connection while it waits for registration, so 1000 rooms need
    1000 sockets at once, more than the usual soft limit of 1024: take the hard limit."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # an unlimited hard limit some systems refuse as a soft one
            pass


def _example(text: str) -> str:
    return "\b\nExample:\n  " + text


@main.command(epilog=_example("endpoints facts -i inventory.yaml --limit building-a"))
@common
def facts(**kw: Any) -> None:
    """Read model, software, serial, SIP settings and registration; change nothing."""
    _run("facts", kw)


@main.command(epilog=_example("endpoints plan -i inventory.yaml --diff"))
@common
@resolve_proxy
@diff
def plan(**kw: Any) -> None:
    """Show per room what apply would change; change nothing."""
    _run("plan", kw)


@main.command(epilog=_example("endpoints apply -i inventory.yaml --limit building-a --diff"))
@common
@write_options
@cloud
@click.option("--check", is_flag=True, help="Show what would change; change nothing.")
@click.option("--force-password", is_flag=True,
              help="Send the SIP password even to rooms already registered (causes a re-registration).")
def apply(**kw: Any) -> None:
    """Push the settings that differ, then verify registration."""
    _run("apply", kw)


@main.command(epilog=_example("endpoints recover -i inventory.yaml --limit room-a101"))
@common
@write_options
def recover(**kw: Any) -> None:
    """Apply for rooms just factory reset: factory login once, new keys trusted only there,
    admin password restored, first-boot wizard finished, whole profile pushed."""
    _run("recover", kw)


@main.command(epilog=_example("endpoints verify -i inventory.yaml --cloud"))
@common
@verify_timeout
@cloud
def verify(**kw: Any) -> None:
    """Read registration state only (waits while a room is still registering)."""
    _run("verify", kw)


@main.command(epilog=_example("endpoints trust -i inventory.yaml   # then, fingerprints compared: --accept"))
@common
@click.option("--accept", is_flag=True, help="Record the new host keys and certificates (never a changed one).")
def trust(**kw: Any) -> None:
    """First contact: show each room's SSH host key and HTTPS certificate (new, known or
    changed) without logging in; --accept records the new ones."""
    _run("trust", kw)


@main.command(epilog=_example("endpoints rollback -i inventory.yaml --run .endpoints/runs/20261201-101500-123-apply"))
@common
@click.option("--run", "rollback_run", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="The run folder of the apply or recover to undo.")
@click.option("--check", is_flag=True, help="Show what would be put back; change nothing.")
@diff
@verify_timeout
def rollback(**kw: Any) -> None:
    """Write back what a past apply or recover run changed (passwords are listed, not restored)."""
    _run("rollback", kw)


@main.command(epilog=_example("SSL_CERT_FILE=corp-ca.pem endpoints doctor -i inventory.yaml --limit building-a"))
@common
def doctor(**kw: Any) -> None:
    """Preflight, changing nothing: each room's own word on its DNS, clock and proxy, then DNS,
    TCP, TLS and a SIP OPTIONS from here to every distinct outbound proxy."""
    _run("doctor", kw)


@main.command(epilog=_example("endpoints report .endpoints/runs/20261201-101500-123-apply --html building.html"))
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--html", type=click.Path(path_type=Path), default=None, help="Write a one-page HTML report here.")
@click.option("--csv", type=click.Path(path_type=Path), default=None, help="Write one CSV row per room here.")
def report(run_dir: Path, html: Path | None, csv: Path | None) -> None:
    """The report of a past run (its run folder, or a --report JSON file) as HTML or CSV."""
    from endpoints.report import load_run, write_csv, write_html

    with app.input_errors():
        if not html and not csv:
            raise InputError("say what to write: --html FILE and/or --csv FILE")
        loaded = load_run(run_dir)
        if html:
            write_html(loaded, html)
        if csv:
            write_csv(loaded, csv)
    output.console().print(f"written: {', '.join(str(p) for p in (html, csv) if p)}", highlight=False)


def _run(command: str, kw: dict[str, Any]) -> None:
    with app.input_errors():
        options = Options(
            command=command, check=kw.get("check", False), verify=not kw.get("no_verify", False),
            verify_timeout=kw.get("verify_timeout", 120.0), forks=kw["forks"],
            force_password=kw.get("force_password", False), resolve_proxy=kw.get("resolve_proxy", False),
            accept=kw.get("accept", False), cloud=kw.get("cloud", False), timeout=kw["timeout"])
        request = app.Request(
            options=options, inventory=tuple(kw["inventory"]), limit=kw.get("limit"),
            profile_dirs=tuple(kw.get("profile_dirs") or ()), run_dir=kw["run_dir"], report=kw.get("report"),
            html=kw.get("html"), csv=kw.get("csv"), state_dir=kw.get("state_dir"), diff=kw.get("diff", False),
            verbose=kw.get("verbose", 0), rollback_run=kw.get("rollback_run"))
        code = app.exit_code(app.execute(request))
    sys.exit(code)


main.add_command(cloud_commands)


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
@click.option("--sip", is_flag=True, help="Also run a SIP proxy (Kamailio, TLS, a lab CA) and give it to the rooms.")
@click.option("--untrusted", is_flag=True, help="Write a first contact's inventory: nothing pinned, no known hosts.")
def lab_up(folder: Path, rooms: int, spec: Path | None, like: Path | None, http_only: bool, delay: float,
           latency: float, detach: bool, sip: bool, untrusted: bool) -> None:
    """Start a simulated fleet and write its inventory."""
    from endpoints.lab import commands

    console = output.console()
    with app.input_errors():
        if detach:
            args = ["--rooms", str(rooms), "--delay", str(delay), "--latency", str(latency)]
            args += ["--http-only"] if http_only else []
            args += ["--spec", str(spec)] if spec else []
            args += ["--like", str(like)] if like else []
            args += ["--sip"] if sip else []
            args += ["--untrusted"] if untrusted else []
            commands.up_detached(folder, args, console)
            return
        fleet = _fleet(rooms, spec, like, http_only, delay, latency)
        fleet.trusted = fleet.trusted and not untrusted
        commands.up(folder, fleet, console, sip=sip)


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

    with app.input_errors():
        commands.status(folder, output.console(), as_json)


@lab.command("reset")
@LAB_DIR
@click.argument("room")
def lab_reset(folder: Path, room: str) -> None:
    """Factory-reset one simulated room."""
    from endpoints.lab import commands

    with app.input_errors():
        commands.reset(folder, room, output.console())


@lab.command("down")
@LAB_DIR
def lab_down(folder: Path) -> None:
    """Stop the running lab."""
    from endpoints.lab import commands

    with app.input_errors():
        commands.down(folder, output.console())


@main.command()
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Keep the demo's lab files (inventory, run folders) here.")
def demo(keep: Path | None) -> None:
    """Start a lab, show plan, apply and verify, show a failure and its advice, stop the lab."""
    from endpoints.demo import run_demo

    with app.input_errors():
        sys.exit(run_demo(output.console(), keep))
