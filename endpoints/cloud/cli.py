"""`endpoints cloud ...`: the meeting service's side of a rollout (mounted by endpoints/cli.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from endpoints import output
from endpoints.app import input_errors


def _options(func: Any) -> Any:
    for option in reversed([
        click.option("-i", "--inventory", "inventory", required=True, type=click.Path(path_type=Path),
                     help="Inventory file (Ansible YAML shape)."),
        click.option("--limit", default=None, help="Ansible pattern: names, groups, globs, a:b, a:&b, a:!b."),
        click.option("--report", type=click.Path(path_type=Path), default=None, help="Write a JSON report here."),
        click.option("--timeout", default=15.0, show_default=True, help="Seconds per request to the service."),
        click.option("-v", "--verbose", count=True, help="Log the service requests to stderr (secrets masked)."),
    ]):
        func = option(func)
    return func


@click.group()
def cloud() -> None:
    """The meeting service: terminals at the service, and the numbers it assigns."""


@cloud.command("terminals")
@_options
def terminals(inventory: Path, limit: str | None, report: Path | None, timeout: float, verbose: int) -> None:
    """The service's terminals joined with the inventory by serial (SN)."""
    from endpoints.cloud.commands import run_terminals

    with input_errors():
        code = run_terminals(inventory, output.console(), limit=limit, report=report,
                             verbose=verbose, timeout=timeout)
    sys.exit(code)


@cloud.command("add")
@_options
@click.option("--check", is_flag=True, help="Say what would be added; add and write nothing.")
def add(inventory: Path, limit: str | None, report: Path | None, timeout: float, verbose: int, check: bool) -> None:
    """Add a third-party terminal for each room the service lacks; write its number into the inventory."""
    from endpoints.cloud.commands import run_add

    with input_errors():
        code = run_add(inventory, output.console(), limit=limit, check=check,
                       report=report, verbose=verbose, timeout=timeout)
    sys.exit(code)
