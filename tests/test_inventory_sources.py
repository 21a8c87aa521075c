"""Every form Ansible reads: INI, folders, several -i, host lists, vars folders, ranges; errors at file:line."""
from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path

import pytest

from endpoints.errors import InputError
from endpoints.inventory import load_inventory
from endpoints.inventory.ranges import PatternError, expand, split_port


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(*sources: Path | str) -> InputError:
    with pytest.raises(InputError) as caught:
        load_inventory(list(sources))
    return caught.value


# --- INI -------------------------------------------------------------------------------

INI = """
# the network team's file
lobby ansible_host=10.0.0.9 model=SX10 transport=http

[building_a]
room-a[101:102] model=SX20 transport=https room_capacity=12 asset_tag="AV 0001"
room-a201:2222 model=SX80 transport=ssh serial=0123

[building_a:vars]
location=Building A
ntp_server=10.0.0.1
projector=False

[campus:children]
building_a
"""


def test_ini_groups_vars_children_and_inline_values(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, "hosts.ini", INI))
    assert list(inventory.hosts) == ["lobby", "room-a101", "room-a102", "room-a201"]
    assert inventory.groups["campus"] == {"room-a101", "room-a102", "room-a201"}
    assert inventory.groups["ungrouped"] == {"lobby"}
    a101 = inventory.hosts["room-a101"]
    assert (a101.model, a101.transport, a101.address) == ("SX20", "https", "room-a101")
    assert a101.vars == {"room_capacity": 12, "asset_tag": "AV 0001", "location": "Building A",
                         "ntp_server": "10.0.0.1", "projector": False}
    assert a101.groups == ("building_a", "campus")
    a201 = inventory.hosts["room-a201"]
    assert a201.ansible_port == 2222 and a201.port("ssh", 22) == 2222 and a201.port("https", 443) == 443
    assert a201.serial == "0123"  # not a Python number: kept as text, as in Ansible
    assert a201.origin("serial") == f"{tmp_path / 'hosts.ini'}:6"
    assert a201.origin("location") == f"{tmp_path / 'hosts.ini'}:9"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("[web]\nroom-1 adress=10.0.0.1\n", 2, "unknown key 'adress' (did you mean 'address'?)"),
    ("[web]\nroom-1 address\n", 2, "expected key=value after the host name, got 'address'"),
    ("[web]\nroom-1 name='open\n", 2, "cannot read this host line"),
    ("[web:vars]\nlocation=A\n", 1, "[web:vars] is for a group this file never declares"),
    ("[campus:children]\nweb\n", 2, "[campus:children] names group 'web', which this file never declares"),
    ("[web:hostz]\n", 1, "has an unknown type 'hostz'"),
    ("[web group]\n", 1, "is not a section header"),
    ("[web]\nroom-1\n[web:vars]\nntp=a\nntp=b\n", 5, "duplicate key 'ntp' (first written at line 4)"),
    ("[web]\nroom-1 sip.number=+99111612345\n", 2, "'sip.number' is one variable, not 'number' inside 'sip'"),
    ("[web]\nroom-[1:]\n", 2, "has no end"),
    ("all:\n  hosts:\n", 1, "is this file YAML? Name it .yaml or .yml"),
])
def test_ini_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, "hosts.ini", text)
    error = error_of(path)
    assert (error.file, error.line) == (str(path), line)
    assert message in str(error)


def test_ini_children_declared_later_in_the_file(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, "hosts", "[campus:children]\nbldg\n[bldg]\nroom-1 model=SX20\n"))
    assert inventory.groups["campus"] == {"room-1"}


# --- which files, in which format ----------------------------------------------------------


def test_extensionless_files_are_yaml_when_they_read_as_a_mapping_else_ini(tmp_path: Path) -> None:
    yaml_one = write(tmp_path, "a/inventory", "all:\n  hosts:\n    room-y: {model: SX20}\n")
    ini_one = write(tmp_path, "b/inventory", "room-i model=SX20\n[g]\nroom-j model=SX20\n")
    inventory = load_inventory([yaml_one, ini_one])
    assert list(inventory.hosts) == ["room-y", "room-i", "room-j"]
    assert inventory.sources == (yaml_one, ini_one)


def test_a_folder_reads_what_ansible_reads_and_skips_what_it_skips(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site, "10-rooms.yml", "all:\n  hosts:\n    room-1:\n")
    write(site, "20-more.ini", "room-2\n")
    write(site, "sub/30-deeper.yaml", "all:\n  hosts:\n    room-3:\n")
    for skipped in ("hosts.retry", "old.yml~", "README.md", "notes.txt", ".hidden.yml", "x.bak", "ansible.cfg",
                    "x.orig", "x.swp", "x.rst"):
        write(site, skipped, "not: [an inventory\n")
    write(site, "group_vars/all.yml", "location: here\n")
    inventory = load_inventory(site)
    assert list(inventory.hosts) == ["room-1", "room-2", "room-3"]
    assert inventory.hosts["room-2"].vars == {"location": "here"}


def test_a_broken_file_in_a_folder_names_itself(tmp_path: Path) -> None:
    write(tmp_path, "site/ok.yml", "all:\n  hosts:\n    room-1:\n")
    broken = write(tmp_path, "site/broken.yml", "all:\n  hosts:\n    room-2: {model: SX20\n")
    error = error_of(tmp_path / "site")
    assert error.file == str(broken) and "YAML syntax error" in str(error)


def test_a_host_list_source(tmp_path: Path) -> None:
    inventory = load_inventory("10.0.0.1,room-b:2222,")
    assert list(inventory.hosts) == ["10.0.0.1", "room-b"]
    assert inventory.hosts["room-b"].ansible_port == 2222
    assert inventory.groups["ungrouped"] == {"10.0.0.1", "room-b"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("inv.toml", "[all]\n", "TOML inventories are not read"),
    ("aws_ec2.yml", "plugin: amazon.aws.aws_ec2\n", "inventory plugin's configuration"),
])
def test_what_endpoints_does_not_run_is_refused_with_advice(tmp_path: Path, name: str, text: str,
                                                             message: str) -> None:
    assert message in str(error_of(write(tmp_path, name, text)))


def test_an_inventory_script_is_not_run(tmp_path: Path) -> None:
    script = write(tmp_path, "ec2.py", "#!/usr/bin/env python3\nprint('{}')\n")
    os.chmod(script, 0o755)
    assert "inventory script, which endpoints does not run" in str(error_of(script))


def test_missing_source(tmp_path: Path) -> None:
    assert "cannot read inventory: no such file or folder" in str(error_of(tmp_path / "nope.yaml"))
    with pytest.raises(InputError, match="no inventory given"):
        load_inventory([])


# --- several sources and vars folders --------------------------------------------------


def test_two_sources_merge_in_order(tmp_path: Path) -> None:
    first = write(tmp_path, "one/inv.yaml", """
        all:
          children:
            bldg:
              vars: {location: first}
              hosts:
                room-1: {model: SX20, asset_tag: A1}
        """)
    second = write(tmp_path, "two/inv.ini", "[bldg]\nroom-1 asset_tag=B1\nroom-2\n[bldg:vars]\nlocation=second\n")
    inventory = load_inventory([first, second])
    assert list(inventory.hosts) == ["room-1", "room-2"]
    assert inventory.hosts["room-1"].vars == {"location": "second", "asset_tag": "B1"}
    assert inventory.hosts["room-1"].model == "SX20"
    assert inventory.hosts["room-1"].source == f"{first}:6"


def test_vars_files_and_folders_beside_each_source_with_precedence(tmp_path: Path) -> None:
    inv = write(tmp_path, "inv.yaml", """
        all:
          vars: {level: all-inventory, only_all: x}
          children:
            parent:
              vars: {level: parent-inventory}
              children:
                child:
                  vars: {level: child-inventory, child_only: inventory}
                  hosts:
                    room-1: {level: host-inventory, host_only: inventory}
                    room-2:
        """)
    write(tmp_path, "group_vars/all.yml", "level: all-file\nonly_all: all-file\n")
    write(tmp_path, "group_vars/parent/10-a.yml", "level: parent-file\n")
    write(tmp_path, "group_vars/parent/20-b.yml", "")  # empty: adds nothing
    write(tmp_path, "host_vars/room-1", "host_only: file\n")  # no extension
    inventory = load_inventory(inv)
    room1, room2 = inventory.hosts["room-1"], inventory.hosts["room-2"]
    assert room1.vars["level"] == "host-inventory"
    assert room1.vars["host_only"] == "file"  # host_vars files beat the inventory's host entry
    assert room2.vars["level"] == "parent-file"  # any group_vars file beats every inventory-file group var
    assert room2.vars["only_all"] == "all-file" and room2.vars["child_only"] == "inventory"
    assert room2.origin("level") == f"{tmp_path / 'group_vars' / 'parent' / '10-a.yml'}:1"


def test_errors_in_vars_files_name_their_file_and_line(tmp_path: Path) -> None:
    inv = write(tmp_path, "inv.yaml", "all:\n  children:\n    bldg:\n      hosts:\n        room-1: {model: SX20}\n")
    bad = write(tmp_path, "group_vars/bldg/20-sip.yml", "# SIP for the building\nsip:\n  proxi: p:5061\n")
    error = error_of(inv)
    assert (error.file, error.line, error.key) == (str(bad), 3, "sip.proxi")
    assert "did you mean 'proxy'?" in str(error)
    bad.write_text("sip:\n  proxy: [a, b]\n")
    error = error_of(inv)
    assert (error.file, error.line, error.key) == (str(bad), 2, "sip.proxy")
    assert "host 'room-1': must be a string (got a list)" in str(error)


def test_a_vars_file_for_no_group_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inv = write(tmp_path, "inv.yaml", "all:\n  children:\n    building_a:\n      hosts:\n        room-1:\n")
    write(tmp_path, "group_vars/buidling_a.yml", "location: A\n")
    with caplog.at_level(logging.WARNING):
        assert load_inventory(inv).hosts["room-1"].vars == {}
    assert "no group or host named 'buidling_a'" in caplog.text and "did you mean 'building_a'?" in caplog.text


def test_relative_paths_in_vars_files_are_relative_to_the_inventory_folder(tmp_path: Path) -> None:
    inv = write(tmp_path, "site/inv.yaml", "all:\n  hosts:\n    room-1:\n")
    write(tmp_path, "site/group_vars/all.yml", "sip: {password: {file: secrets/sip.pw}}\nknown_hosts: keys/known\n")
    room = load_inventory(inv).hosts["room-1"]
    assert room.sip.password is not None and room.sip.password.source == f"file:{tmp_path / 'site' / 'secrets' / 'sip.pw'}"
    assert room.known_hosts == tmp_path / "site" / "keys" / "known"


# --- host patterns -----------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "names"), [
    ("room-a[101:103]", ["room-a101", "room-a102", "room-a103"]),
    ("desk[01:03]", ["desk01", "desk02", "desk03"]),
    ("desk[8:10]", ["desk8", "desk9", "desk10"]),
    ("huddle-[a:c]", ["huddle-a", "huddle-b", "huddle-c"]),
    ("lab[1:10:4]", ["lab1", "lab5", "lab9"]),
    ("pod[1:2]-[a:b]", ["pod1-a", "pod1-b", "pod2-a", "pod2-b"]),
    ("[:2]x", ["0x", "1x", "2x"]),
    ("plain", ["plain"]),
])
def test_ranges(pattern: str, names: list[str]) -> None:
    assert expand(pattern) == names


@pytest.mark.parametrize(("pattern", "message"), [
    ("r[1:2:3:4]", "must be [begin:end] or [begin:end:step]"),
    ("r[01:100]", "the same number of digits"),
    ("r[5:1]", "begins after its end"),
    ("r[1:5:0]", "the step must be a whole number above 0"),
    ("r[1:x]", "must count numbers or single letters"),
    ("r[1:3", "no closing ']'"),
    ("r[1:100000000]", "names more than 65,536 hosts"),
])
def test_bad_ranges(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message.replace("[", r"\[").replace("]", r"\]")):
        expand(pattern)


@pytest.mark.parametrize(("pattern", "split"), [
    ("room-a101:2222", ("room-a101", 2222)),
    ("10.0.0.1:22", ("10.0.0.1", 22)),
    ("[2001:db8::1]:8443", ("2001:db8::1", 8443)),
    ("room-a[101:103]:24", ("room-a[101:103]", 24)),
    ("room-a[101:103]", ("room-a[101:103]", None)),
    ("2001:db8::1", ("2001:db8::1", None)),
    ("odd name:22", ("odd name:22", None)),  # not an address: Ansible keeps the colon
])
def test_ports_in_patterns(pattern: str, split: tuple[str, int | None]) -> None:
    assert split_port(pattern) == split


def test_a_range_in_yaml_names_every_room_with_the_same_vars(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, "inv.yaml", """
        all:
          hosts:
            room-a[01:03]:
              model: SX20
              sip: {number: "+99111600000"}
        """))
    assert list(inventory.hosts) == ["room-a01", "room-a02", "room-a03"]
    assert {h.model for h in inventory.hosts.values()} == {"SX20"}
    assert inventory.hosts["room-a02"].address == "room-a02"


def test_a_bad_range_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "inv.yaml", "all:\n  hosts:\n    ok:\n    room-[5:1]:\n")
    error = error_of(path)
    assert (error.line, error.key) == (4, "all.hosts.room-[5:1]") and "begins after its end" in str(error)


def test_the_readme_ini_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Inventory"):readme.index("## Commands")]
    ini = section.split("```ini\n")[1].split("```")[0]
    sip = section.split("INI cannot nest")[1].split("```yaml\n")[1].split("```")[0]
    write(tmp_path, "host_vars/room-a101.yml", sip)
    inventory = load_inventory(write(tmp_path, "hosts", ini))
    assert list(inventory.hosts) == ["lobby", "room-a101", "room-a102", "room-a103", "room-a201"]
    assert inventory.groups["campus"] == {"room-a101", "room-a102", "room-a103", "room-a201"}
    a101, a201 = inventory.hosts["room-a101"], inventory.hosts["room-a201"]
    assert a101.sip.number == "+99111612345" and a101.vars["location"] == "Building A"
    assert (a201.address, a201.port("https", 443)) == ("10.20.2.1", 8443)
