"""The service side on the lab, end to end over loopback: `cloud add` opens an account the
lab's room registers with, the service then sees every room registered, and a password
changed at the service is caught although the room still says it is registered."""
from __future__ import annotations

import io
from pathlib import Path

from conftest import cli
from rich.console import Console
from ruamel.yaml import YAML

from endpoints.cloud.commands import show_service_check
from endpoints.cloud.context import client_for
from endpoints.cloud.status import service_advice, service_registrations
from endpoints.inventory import load_inventory
from endpoints.lab.fleet import RoomSpec


def drop_number(inventory: Path, room: str) -> None:
    """The room is new: no number in the inventory yet (and no password file)."""
    yaml = YAML()
    data = yaml.load(inventory.read_text(encoding="utf-8"))
    for group in data["all"]["children"].values():
        if room in (group.get("hosts") or {}):
            del group["hosts"][room]["sip"]["number"]
    out = io.StringIO()
    yaml.dump(data, out)
    inventory.write_text(out.getvalue(), encoding="utf-8")
    (inventory.parent / "secrets" / f"{room}.sip").unlink()


def test_cloud_add_then_apply_then_the_service_sees_the_rooms(make_lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab([RoomSpec(name="room-1", model="SX20", transport="https"),
                    RoomSpec(name="room-2", model="Group 550", transport="rest")], delay=0.3)
    inventory = lab.inventory_path
    new_sn = lab.rooms["room-2"].spec.serial
    lab.cloud.api.remove_terminal(new_sn)  # room-2 is not at the service yet
    drop_number(inventory, "room-2")

    added = cli("cloud", "add", "-i", str(inventory))
    assert added.exit_code == 0, added.output
    host = load_inventory(inventory).hosts["room-2"]
    assert host.sip.number == "+99111700000"
    assert f"{inventory.parent / 'secrets' / 'room-2.sip'}" in added.output  # where its password goes
    notice = (inventory.parent / "mail" / f"{new_sn}.txt").read_text(encoding="utf-8")
    password = next(line.split(": ", 1)[1] for line in notice.splitlines() if line.startswith("SIP password"))
    (inventory.parent / "secrets" / "room-2.sip").write_text(password + "\n", encoding="utf-8")

    applied = cli("apply", "-i", str(inventory), "--run-dir", str(tmp_path / "runs"), "--verify-timeout", "30")
    assert applied.exit_code == 0, applied.output

    hosts = list(load_inventory(inventory).hosts.values())
    with client_for(hosts) as client:
        seen = service_registrations(client, [h.sip.number for h in hosts if h.sip.number])
        assert {n: r.state for n, r in seen.items()} == {"+99111600000": "registered", "+99111700000": "registered"}
        assert client.requests == 2  # one login, one status batch

    console = Console(file=io.StringIO(), width=160)
    shown = show_service_check(console, inventory)
    assert {room: r.state for room, r in shown.items()} == {"room-1": "registered", "room-2": "registered"}
    assert "the service sees 2 of 2 rooms registered" in console.file.getvalue()  # type: ignore[attr-defined]

    # the account's password is changed at the service: the room still says registered
    lab.cloud.api.reset_password(lab.rooms["room-1"].spec.serial)
    verified = cli("verify", "-i", str(inventory), "--run-dir", str(tmp_path / "runs"), "--limit", "room-1")
    assert verified.exit_code == 0, verified.output
    with client_for(hosts) as client:
        after = service_registrations(client, ["+99111600000", "+99111700000"])
    assert after["+99111600000"].state == "unregistered" and after["+99111700000"].state == "registered"
    advice = service_advice("registered", after["+99111600000"], "+99111600000")
    assert advice is not None and "different number or account" in advice and "password" in advice


def test_the_lab_inventory_describes_its_service(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab([RoomSpec(name="room-1", model="HDX 7000", transport="telnet")])
    host = load_inventory(lab.inventory_path).hosts["room-1"]
    assert host.cloud.api == lab.cloud.server.url and host.cloud.tls.ca_bundle is not None
    assert host.cloud.app_key is not None and host.cloud.app_key.source.startswith("file:")
    key_file = Path(host.cloud.app_key.source[5:])
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert lab.cloud.app.app_key not in lab.inventory_path.read_text()
    result = cli("cloud", "terminals", "-i", str(lab.inventory_path))
    assert result.exit_code == 0 and "1 of 1 rooms have a terminal" in result.output
