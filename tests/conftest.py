"""Shared fixtures: a running lab and a way to run the command line against it."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from endpoints.cli import main
from endpoints.lab.fleet import Lab, LabSpec, RoomSpec
from endpoints.lab.net import LabLoop


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own memory (refused passwords, pins): never the user's own."""
    monkeypatch.setenv("ENDPOINTS_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def lab() -> Iterator[LabLoop]:
    """One event loop for a test module's simulated devices."""
    loop = LabLoop()
    yield loop
    loop.stop()


def start_lab(folder: Path, rooms: list[RoomSpec], *, delay: float = 0.3) -> Lab:
    lab = Lab(folder, LabSpec(rooms, delay=delay))
    lab.start()
    return lab


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[object]:
    """make_lab(rooms, delay=...) starts a lab that is stopped after the test."""
    labs: list[Lab] = []

    def make(rooms: list[RoomSpec], *, delay: float = 0.3, name: str = "lab") -> Lab:
        lab = start_lab(tmp_path / name, rooms, delay=delay)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.stop()


def cli(*args: str, cwd: Path | None = None) -> Result:
    """Run the command line in-process (CliRunner), as a user would type it."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
