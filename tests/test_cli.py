"""The command line's outer contract: input errors, exit codes, help."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from endpoints.results import HostResult, RunResult
from tests.conftest import cli

EXAMPLE = Path(__file__).resolve().parent.parent / "inventory.example.yaml"


def example_copy(tmp_path: Path) -> Path:
    target = tmp_path / "inventory.yaml"
    shutil.copy(EXAMPLE, target)
    return target


def test_the_example_inventory_is_valid_and_needs_its_secrets(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINTS_DEVICE_PASSWORD", raising=False)
    result = cli("plan", "-i", str(example_copy(tmp_path)), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1
    assert "ENDPOINTS_DEVICE_PASSWORD is not set" in result.output
    assert "device_credentials.password" in result.output
    assert not (tmp_path / "runs").exists(), "nothing may run before the input is right"


def test_an_invalid_key_in_the_example_exits_1_naming_file_line_and_key(tmp_path: Path) -> None:
    inventory = example_copy(tmp_path)
    lines = inventory.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "model: SX80" in line)
    lines.insert(index + 1, lines[index].replace("model: SX80", "modell: SX80"))
    inventory.write_text("\n".join(lines) + "\n")
    result = cli("plan", "-i", str(inventory))
    assert result.exit_code == 1
    assert f"inventory.yaml:{index + 2}" in result.output
    assert "modell" in result.output and "did you mean 'model'" in result.output


@pytest.mark.parametrize("text, words", [
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20, sip: {number: '+99111612345', password: x,"
     " transport: udp}}\n", ["sip.transport", "UDP"]),
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20, sip: {number: 'abc', password: x}}\n",
     ["sip.number"]),
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20, sip: {number: '+99111612345', password: x,"
     " proxy: 'a:b:c'}}\n", ["sip.proxy"]),
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20, sip: {number: '+99111612345'}}\n",
     ["sip.password"]),
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX21}\n", ["model", "SX21"]),
    ("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20, transport: telnet}\n", ["transport"]),
])
def test_bad_input_for_apply_exits_1_before_any_device(tmp_path: Path, text: str, words: list[str]) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(text)
    result = cli("apply", "-i", str(inventory), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1, result.output
    assert "inv.yaml" in result.output
    for word in words:
        assert word in result.output
    assert not (tmp_path / "runs").exists()


def test_limit_matching_nothing_is_a_usage_error(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("all:\n  hosts:\n    r1: {address: 10.0.0.1, model: SX20}\n")
    result = cli("facts", "-i", str(inventory), "--limit", "nope*")
    assert result.exit_code == 1 and "nope" in result.output


def test_exit_codes_follow_the_contract() -> None:
    def run(*statuses: str) -> int:
        return RunResult("apply", {f"h{i}": HostResult(f"h{i}", status=s)  # type: ignore[arg-type]
                                   for i, s in enumerate(statuses)}).exit_code()

    assert run("ok", "changed") == 0
    assert run("ok", "failed") == 2
    assert run("unreachable", "ok") == 4
    assert run("failed", "unreachable", "changed") == 6


def test_help_lists_every_command() -> None:
    result = cli("--help")
    for command in ("facts", "plan", "apply", "verify", "recover", "lab", "demo"):
        assert command in result.output
    apply = cli("apply", "--help").output
    for option in ("--limit", "--forks", "--report", "--check", "--diff", "--verify-timeout", "--no-verify"):
        assert option in apply


@pytest.mark.parametrize("words", [["apply"], ["bogus"], ["apply", "-i", "x.yaml", "--forks", "0"], []])
def test_usage_errors_exit_1_not_2(words: list[str]) -> None:
    result = cli(*words)
    assert result.exit_code == 1, result.output
