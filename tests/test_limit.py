from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from endpoints.errors import InputError
from endpoints.inventory import Inventory, load_inventory
from endpoints.limit import select

INVENTORY = """
all:
  hosts:
    lobby: {address: 10.0.0.9}
  children:
    bldg-a:
      children:
        cisco-a:
          hosts:
            room-a101: {address: 10.0.1.1}
            room-a102: {address: 10.0.1.2}
        polycom-a:
          hosts:
            room-a201: {address: 10.0.1.3}
    bldg-b:
      hosts:
        room-b101: {address: 10.0.2.1}
        room-b201.example.com: {address: 10.0.2.2}
    boardrooms:
      hosts:
        room-a201:
        room-b101:
"""
ALL = ["lobby", "room-a101", "room-a102", "room-a201", "room-b101", "room-b201.example.com"]


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY).lstrip())
    return load_inventory(path)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (None, ALL),
        ("all", ALL),
        ("*", ALL),
        ("room-a102", ["room-a102"]),
        ("room-b201.example.com", ["room-b201.example.com"]),
        ("bldg-a", ["room-a101", "room-a102", "room-a201"]),
        ("cisco-a", ["room-a101", "room-a102"]),
        ("ungrouped", ["lobby"]),
        ("room-a1*", ["room-a101", "room-a102"]),
        ("room-?201*", ["room-a201", "room-b201.example.com"]),
        ("room-[ab]10[12]", ["room-a101", "room-a102", "room-b101"]),
        ("*-a", ["room-a101", "room-a102", "room-a201"]),  # globs match group names too
        ("~^room-b", ["room-b101", "room-b201.example.com"]),
        ("~a\\d01$", ["room-a101", "room-a201"]),
        ("room-a102:room-b101", ["room-a102", "room-b101"]),
        ("room-b101,room-a102", ["room-a102", "room-b101"]),
        ("room-b101, room-a102", ["room-a102", "room-b101"]),
        ("bldg-a:&boardrooms", ["room-a201"]),
        ("bldg-a,&boardrooms", ["room-a201"]),
        ("bldg-a:!cisco-a", ["room-a201"]),
        ("bldg-a,!room-a101,!lobby", ["room-a102", "room-a201"]),
        ("!bldg-a", ["lobby", "room-b101", "room-b201.example.com"]),
        ("&boardrooms", ["room-a201", "room-b101"]),
        # Ansible order: unions, then intersections, then exclusions, whatever was written
        ("!cisco-a:bldg-a", ["room-a201"]),
        ("&boardrooms:!room-b101:bldg-b:bldg-a", ["room-a201"]),
        ("bldg-a:&boardrooms:bldg-b", ["room-a201", "room-b101"]),
    ],
)
def test_patterns(inventory: Inventory, pattern: str | None, expected: list[str]) -> None:
    if not expected:
        with pytest.raises(InputError, match="matches no host"):
            select(inventory, pattern)
    else:
        assert select(inventory, pattern) == expected


def test_group_name_wins_over_host_of_the_same_name(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "all:\n  hosts:\n    lobby: {address: x}\n    room-1: {address: y}\n"
        "  children:\n    room-1:\n      hosts:\n        lobby:\n"
    )
    inventory = load_inventory(path)
    # a plain name that is a group selects the group's hosts (Ansible), not the host
    assert select(inventory, "room-1") == ["lobby"]
    # a glob looks at both
    assert select(inventory, "room-[1]") == ["lobby", "room-1"]


def test_result_is_in_inventory_order(inventory: Inventory) -> None:
    assert select(inventory, "room-b101:lobby:room-a102") == ["lobby", "room-a102", "room-b101"]


def test_limit_file(inventory: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "retry").write_text("# failed last time\nroom-a102\n\n  room-b101  \n!room-b101\n")
    monkeypatch.chdir(tmp_path)
    assert select(inventory, "@retry") == ["room-a102"]
    assert select(inventory, "@retry,lobby") == ["lobby", "room-a102"]
    assert select(inventory, "bldg-a:@retry") == ["room-a101", "room-a102", "room-a201"]


def test_limit_file_missing(inventory: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="cannot read --limit file") as caught:
        select(inventory, "@nope.txt")
    assert caught.value.file == "nope.txt"


def test_no_match_is_an_error(inventory: Inventory) -> None:
    with pytest.raises(InputError, match=r"--limit 'room-z\*' matches no host"):
        select(inventory, "room-z*")
    with pytest.raises(InputError, match="matches no host"):
        select(inventory, "bldg-a:&bldg-b")
    with pytest.raises(InputError, match="matches no host"):
        select(inventory, "all:!all")


def test_term_matching_nothing_warns(inventory: Inventory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert select(inventory, "room-a102,room-a1O2") == ["room-a102"]
    assert "'room-a1O2' matches no host" in caplog.text


def test_empty_pattern_and_bad_regex(inventory: Inventory) -> None:
    with pytest.raises(InputError, match="is empty"):
        select(inventory, " , ")
    with pytest.raises(InputError, match="bad regular expression"):
        select(inventory, "~room-(")


@pytest.mark.parametrize("pattern", ["~[", "~a[", "room-[a", "bldg-a:~[x"])
def test_an_unbalanced_bracket_is_an_error_not_the_whole_fleet(inventory: Inventory, pattern: str) -> None:
    with pytest.raises(InputError, match="unbalanced|bad regular expression"):
        select(inventory, pattern)


def test_an_empty_regex_is_an_error(inventory: Inventory) -> None:
    with pytest.raises(InputError, match="'~' needs a regular expression"):
        select(inventory, "~")


def test_matching_no_host_is_said_once(inventory: Inventory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(InputError) as caught:
        select(inventory, "room-z*")
    assert str(caught.value) == "--limit 'room-z*' matches no host"
    assert "matches no host" not in caplog.text
    with caplog.at_level(logging.WARNING), pytest.raises(InputError) as caught:
        select(inventory, "room-z*:&bldg-a")
    assert "('room-z*' match nothing)" in str(caught.value) and "matches no host" not in caplog.text


def test_a_limit_file_is_bounded() -> None:
    with pytest.raises(InputError, match="larger than 8 MiB"):
        select(Inventory(hosts={}, groups={}, path=Path("x")), "@/dev/zero")
