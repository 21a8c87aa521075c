"""Our loader against `ansible-inventory --list` (ansible-core) on realistic inventories.

For every inventory under tests/inventories/, hosts, group membership and the merged
variables the tool keeps (address, port, username, password source, model, transport,
ports, sip.*, serial, profile, free variables) must be what Ansible itself computes.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from endpoints import support
from endpoints.host import Host
from endpoints.inventory import Inventory, load_inventory
from endpoints.inventory.schema import CONNECTION_KEYS, HASH_KEY, TOOL_KEYS
from endpoints.secrets import Secret

HERE = Path(__file__).parent / "inventories"
# The tool merges mappings deep (the contract) unless an inventory says `replace`: the same
# files through ansible-inventory with the matching hash_behaviour must give the same hosts.
MERGE = {"ANSIBLE_HASH_BEHAVIOUR": "merge"}
CASES = {
    "yaml-nested-groups": (["yaml_campus/inventory.yml"], MERGE),
    "ini-vars-children-ranges": (["ini_site/hosts.ini"], MERGE),
    "folder-with-vars-files-and-folders": (["folder_site"], MERGE),
    "two-sources-yaml-and-ini": (["two_sources/base/inventory.yaml", "two_sources/overlay/hosts"], MERGE),
    "host-ranges-and-ports": (["ranges/inventory.yaml"], MERGE),
    "deep-merge": (["merge_switch/inventory.yaml"], MERGE),
    "ansible-replace-switch": (["replace_switch/inventory.yml"], {}),
}
ANSIBLE_INTERNAL = {"inventory_file", "inventory_dir", HASH_KEY}

needs_ansible = pytest.mark.skipif(importlib.util.find_spec("ansible") is None,
                                   reason="ansible-core is not installed (pip install '.[test]'): "
                                          "the comparison with ansible-inventory cannot run")


def ansible_inventory(sources: list[Path], tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """`ansible-inventory --list` with Ansible's config, home and temp isolated into tmp_path."""
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    isolated = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    isolated.update({
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"), "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "HOME": str(tmp_path), "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0", **env,
    })
    command = [sys.executable, "-m", "ansible.cli.inventory", "--list"]
    for source in sources:
        command += ["-i", str(source)]
    done = subprocess.run(command, cwd=tmp_path, env=isolated, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def memberships(listing: dict[str, Any]) -> dict[str, set[str]]:
    groups = {g: body for g, body in listing.items() if g != "_meta"}

    def members(name: str) -> set[str]:
        body = groups.get(name, {})
        return set(body.get("hosts", [])).union(*(members(c) for c in body.get("children", [])))

    return {g: members(g) for g in groups}


def expected_view(name: str, hostvars: dict[str, Any]) -> dict[str, Any]:
    """What the tool must make of Ansible's merged variables for one host."""
    def last(*keys: str) -> Any:
        found = [hostvars[k] for k in keys if hostvars.get(k) is not None]
        return found[-1] if found else None

    credentials = hostvars.get("device_credentials") or {}
    sip = hostvars.get("sip") or {}
    return {
        "address": hostvars.get("address") or last("ansible_host", "ansible_ssh_host") or name,
        "ansible_port": last("ansible_port", "ansible_ssh_port"),
        "username": credentials.get("username") or last("ansible_user", "ansible_ssh_user") or "admin",
        "password": _source(credentials.get("password") or last("ansible_password", "ansible_ssh_pass",
                                                                "ansible_ssh_password")),
        "model": support.canonical_model(hostvars["model"]) if "model" in hostvars else None,
        "transport": hostvars["transport"].lower() if "transport" in hostvars else None,
        "ports": hostvars.get("ports") or {},
        "sip": {k: str(v) for k, v in sip.items() if k != "password"},
        "sip_password": _source(sip.get("password")),
        "serial": str(hostvars["serial"]) if "serial" in hostvars else None,
        "profile": hostvars.get("profile"),
        "ssh_host_key": hostvars.get("ssh_host_key", "strict"),
        "vars": {k: v for k, v in hostvars.items()
                 if k not in (*TOOL_KEYS, *CONNECTION_KEYS, *ANSIBLE_INTERNAL)},
    }


def _source(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        ((how, ref),) = value.items()
        return f"{how}:{ref}"
    return "inline"


def our_view(host: Host) -> dict[str, Any]:
    password = host.device_credentials.password
    sip_password = host.sip.password
    return {
        "address": host.address,
        "ansible_port": host.ansible_port,
        "username": host.device_credentials.username,
        "password": _our_source(password),
        "model": host.model,
        "transport": host.transport,
        "ports": host.ports,
        "sip": {k: v for k, v in vars(host.sip).items() if k != "password" and v is not None},
        "sip_password": _our_source(sip_password),
        "serial": host.serial,
        "profile": host.profile,
        "ssh_host_key": host.ssh_host_key,
        "vars": {k: _revealed(v) for k, v in host.vars.items()},
    }


def _our_source(secret: Secret | None) -> str | None:
    if secret is None:
        return None
    source = secret.source
    if source.startswith("file:"):
        return f"file:{Path(source[5:]).name}"  # ours is resolved to a path; Ansible keeps the text
    return source


def _revealed(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return value


def _normalise_file_sources(view: dict[str, Any]) -> dict[str, Any]:
    for key in ("password", "sip_password"):
        if view[key] and view[key].startswith("file:"):
            view[key] = f"file:{Path(view[key][5:]).name}"
    return view


def compare(ours: Inventory, listing: dict[str, Any]) -> int:
    """Assert agreement; the number of hosts compared."""
    hostvars = listing["_meta"]["hostvars"]
    theirs = memberships(listing)
    assert set(ours.hosts) == theirs["all"]
    for group, members in theirs.items():
        assert ours.groups.get(group) == members, group
    for group, members in ours.groups.items():
        if members:
            assert group in theirs, group
    for name, host in ours.hosts.items():
        in_groups = {g for g, m in theirs.items() if name in m and g != "all"}
        assert set(host.groups) == in_groups, name
        expected = _normalise_file_sources(expected_view(name, hostvars.get(name, {})))
        assert our_view(host) == expected, name
        assert host.origin("address").rpartition(":")[2].isdigit()
    return len(ours.hosts)


@needs_ansible
@pytest.mark.parametrize("case", list(CASES))
def test_loads_as_ansible_inventory_does(case: str, tmp_path: Path) -> None:
    sources, env = CASES[case]
    paths = [HERE / s for s in sources]
    listing = ansible_inventory(paths, tmp_path, env)
    compared = compare(load_inventory(paths), listing)
    assert compared >= 2
