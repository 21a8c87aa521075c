"""The service side on the lab, end to end over loopback: `cloud add` opens an account the
lab's room registers with, the service then sees every room registered, and a password
changed at the service is caught although the room still says it is registered."""
from __future__ import annotations

import io
import json
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


def test_apply_and_verify_cloud_ask_the_service_for_every_room(make_lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab([RoomSpec(name=f"room-{i}", model=model, transport=transport) for i, (model, transport) in
                    enumerate([("SX20", "https"), ("Group 550", "rest"), ("HDX 7000", "telnet"), ("SX80", "ssh")])])
    inventory, runs = str(lab.inventory_path), str(tmp_path / "runs")
    applied = cli("apply", "-i", inventory, "--cloud", "--run-dir", runs, "--report", str(tmp_path / "a.json"),
                  "-v")
    assert applied.exit_code == 0, applied.output
    hosts = json.loads((tmp_path / "a.json").read_text())["hosts"]
    assert {name: h["service"]["state"] for name, h in hosts.items()} == {name: "registered" for name in hosts}
    assert "sees 4 of 4 rooms registered" in applied.output
    assert "asked in 2 request(s)" in applied.output  # one login, one batch for every room
    key = (lab.folder / "secrets" / "cloud-app-key").read_text().strip()
    assert key
    for text in (applied.output, (tmp_path / "a.json").read_text(),
                 *(p.read_text() for p in Path(runs).glob("*/events.jsonl"))):
        assert key not in text

    # the account's password is changed at the service: the room itself still says registered
    lab.cloud.api.reset_password(lab.rooms["room-0"].spec.serial)
    verified = cli("verify", "-i", inventory, "--cloud", "--run-dir", runs, "--report", str(tmp_path / "v.json"))
    assert verified.exit_code == 2, verified.output
    room = json.loads((tmp_path / "v.json").read_text())["hosts"]["room-0"]
    assert room["status"] == "failed" and room["registration"]["state"] == "registered"
    assert room["service"] == {"state": "unregistered", "number": lab.rooms["room-0"].spec.number}
    assert "different number or account" in room["advice"]


def test_cloud_needs_its_keys_before_any_device_is_touched(make_lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab([RoomSpec(name="room-0", model="SX20", transport="https")])
    text = lab.inventory_path.read_text().replace("app_id:", "app_idx:")
    broken = lab.folder / "broken.yaml"
    broken.write_text(text)
    result = cli("apply", "-i", str(broken), "--cloud", "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1 and "app_id" in result.output
    assert lab.rooms["room-0"].device.counters.writes == 0
