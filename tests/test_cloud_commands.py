"""`endpoints cloud terminals` and `endpoints cloud add` against the simulated service, over
real loopback HTTPS: the join, the numbers written into a commented inventory (diff shown
and asserted), refusals before anything is sent, --check, and no App Key anywhere."""
from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli

from endpoints.cloud.inventory_write import NotWritable, is_yaml_inventory, write_numbers
from endpoints.lab.service_api import StandaloneService
from endpoints.lab.service_api_auth import App

APP_ID, APP_KEY = "c0ffee00c0ffee00c0ffee00c0ffee00", "commands-app-key-7d1f0e9b2a"
DEVICE = "/v1/usg/dcs/corp/device"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[StandaloneService]:
    with StandaloneService([App(APP_ID, APP_KEY)], tmp_path / "service") as running:
        yield running


def cloud_vars(service: StandaloneService, folder: Path) -> str:
    (folder / "app-key").write_text(APP_KEY + "\n", encoding="utf-8")
    return (f"    cloud:\n      api: {service.url}   # the service API\n      app_id: \"{APP_ID}\"\n"
            f"      app_key: {{file: app-key}}\n      tls_verify: {service.ca_path}\n"
            "      notify_email: facilities@example.com\n")


ROOMS = """\
  children:
    building-a:
      hosts:
        room-a101:   # lobby, next to the lifts
          address: 10.0.0.11
          model: SX20
          serial: 'FTT0001A'
        # the board room keeps its own display name
        room-a102:
          address: 10.0.0.12
          model: Group 550
          serial: "8211000002"
          sip:
            display_name: 'Board room'   # as the board wants it
        room-a103:
          address: 10.0.0.13
          model: HDX 7000
          serial: HDX0003
          sip: {display_name: Lab}
"""


def commented_inventory(service: StandaloneService, folder: Path) -> Path:
    path = folder / "inventory.yaml"
    path.write_text("# Building A (kept by facilities; do not reorder)\nall:\n  vars:\n"
                    + cloud_vars(service, folder) + ROOMS, encoding="utf-8")
    return path


def test_cloud_add_writes_the_numbers_keeping_comments_order_and_quoting(service: StandaloneService,
                                                                           tmp_path: Path) -> None:
    service.api.seed("HDX0003", "room-a103", "polycom", "+99111600103")  # already at the service
    inventory = commented_inventory(service, tmp_path)
    before = inventory.read_text(encoding="utf-8")
    report = tmp_path / "add.json"

    result = cli("cloud", "add", "-i", str(inventory), "--report", str(report))

    assert result.exit_code == 0, result.output
    after = inventory.read_text(encoding="utf-8")
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm=""))
    print("\n".join(diff))
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line for line in diff[2:] if line.startswith("+")]
    assert removed == ["-          sip: {display_name: Lab}"]
    assert added == ['+          sip:', '+            number: "+99111700000"',  # room-a101: new sip after serial
                     '+            number: "+99111700001"',  # room-a102: first key of its sip
                     '+          sip: {number: "+99111600103", display_name: Lab}']  # known terminal, gap filled
    for line in before.splitlines():
        if "#" in line:
            assert line in after.splitlines()  # every comment, on its own line as written
    assert "serial: 'FTT0001A'" in after and "display_name: 'Board room'" in after
    assert "+99111700000" in result.output and "+99111700001" in result.output
    assert "secrets/room-a101.sip" in result.output and "email/SMS" in result.output
    mail = (tmp_path / "service" / "mail" / "FTT0001A.txt")
    assert mail.stat().st_mode & 0o777 == 0o600 and "SIP password:" in mail.read_text()
    data = json.loads(report.read_text())
    assert data["hosts"]["room-a101"]["action"] == "added" and data["hosts"]["room-a103"]["action"] == "exists"
    assert data["summary"]["added"] == 2 and data["inventory_written"] is True
    added_body = service.api.terminals["FTT0001A"]
    assert (added_body.model, added_body.name, added_body.dept_code) == ("cisco", "room-a101", "1")
    assert service.api.terminals["8211000002"].model == "polycom"

    again = cli("cloud", "add", "-i", str(inventory))  # nothing left to add: nothing sent, file unchanged
    assert again.exit_code == 0 and inventory.read_text(encoding="utf-8") == after
    assert service.api.requests.get(f"POST {DEVICE}") == 2


def test_cloud_add_check_adds_and_writes_nothing(service: StandaloneService, tmp_path: Path) -> None:
    inventory = commented_inventory(service, tmp_path)
    before = inventory.read_text(encoding="utf-8")
    result = cli("cloud", "add", "-i", str(inventory), "--check")
    assert result.exit_code == 0, result.output
    assert "would add" in result.output and "nothing was added or written" in result.output
    assert inventory.read_text(encoding="utf-8") == before
    assert f"POST {DEVICE}" not in service.api.requests and not service.api.terminals


@pytest.mark.parametrize(("cut", "key"), [("          serial: 'FTT0001A'\n", "serial"),
                                           ("      notify_email: facilities@example.com\n", "cloud.notify_email")])
def test_cloud_add_refuses_bad_input_before_anything_is_sent(service: StandaloneService, tmp_path: Path,
                                                              cut: str, key: str) -> None:
    inventory = commented_inventory(service, tmp_path)
    inventory.write_text(inventory.read_text().replace(cut, ""), encoding="utf-8")
    result = cli("cloud", "add", "-i", str(inventory))
    assert result.exit_code == 1
    assert f"key '{key}'" in result.output and f"{inventory}:" in result.output
    assert service.api.total_requests() == 0


def test_cloud_terminals_joins_by_serial(service: StandaloneService, tmp_path: Path) -> None:
    service.api.seed("FTT0001A", "Lobby", "cisco", "+99111600101")
    service.api.seed("8211000002", "Board", "polycom", "+99111600999")  # not the inventory's number
    service.api.seed("ORPHAN01", "Old room", "cisco", "+99111600500")  # no room names it
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("all:\n  vars:\n" + cloud_vars(service, tmp_path) + ROOMS.replace(
        "          serial: 'FTT0001A'\n", "          serial: 'ftt0001a'\n          sip: {number: '+99111600101'}\n"
    ).replace("            display_name: 'Board room'", "            number: '+99111600102'") + (
        "        room-a104:\n          address: 10.0.0.14\n          model: SX10\n"), encoding="utf-8")
    report = tmp_path / "terminals.json"

    result = cli("cloud", "terminals", "-i", str(inventory), "--report", str(report))

    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    hosts = data["hosts"]
    assert hosts["room-a101"]["terminal"] == {"sn": "FTT0001A", "name": "Lobby", "model": "cisco",
                                              "number": "+99111600101", "status": "enabled"}
    assert hosts["room-a101"]["number_matches"] is True  # SN matched whatever its case
    assert hosts["room-a102"]["number_matches"] is False
    assert hosts["room-a103"] == {"serial": "HDX0003", "terminal": None, "number_matches": None,
                                  "inventory_number": None, "service": None}
    assert hosts["room-a104"]["terminal"] is None  # no serial at all
    assert [t["sn"] for t in data["unmatched_terminals"]] == ["ORPHAN01"]
    assert hosts["room-a101"]["service"] == {"state": "unregistered", "number": "+99111600101"}
    assert data["summary"] == {"rooms": 4, "with_terminal": 2, "without_terminal": 2, "number_mismatch": 1,
                               "unmatched_terminals": 1, "requests": 3}
    assert "differs" in result.output and "ORPHAN01" in result.output and "no serial" in result.output

    limited = cli("cloud", "terminals", "-i", str(inventory), "--limit", "room-a101", "--report", str(report))
    assert limited.exit_code == 0
    data = json.loads(report.read_text())
    assert list(data["hosts"]) == ["room-a101"]
    assert [t["sn"] for t in data["unmatched_terminals"]] == ["ORPHAN01"]  # room-a102 still names its terminal


def test_no_app_key_or_token_in_output_report_or_log(service: StandaloneService, tmp_path: Path) -> None:
    inventory = commented_inventory(service, tmp_path)
    report = tmp_path / "r.json"
    outputs = []
    for words in (["cloud", "terminals"], ["cloud", "add"], ["cloud", "add", "--check"]):
        result = cli(*words, "-i", str(inventory), "-vv", "--report", str(report))
        assert result.exit_code == 0, result.output
        assert "appauth" in result.output  # the -v log is in there
        outputs += [result.output, report.read_text()]
    tokens = list(service.api.authority._tokens)
    assert tokens
    for text in outputs:
        assert APP_KEY not in text
        assert not any(token in text for token in tokens)
    (tmp_path / "app-key").write_text("wrong-" + APP_KEY, encoding="utf-8")
    refused = cli("cloud", "terminals", "-i", str(inventory), "-v")
    assert refused.exit_code == 2 and "cloud.app_key" in refused.output
    assert APP_KEY not in refused.output


def test_only_yaml_inventories_are_written(tmp_path: Path) -> None:
    ini = tmp_path / "hosts"
    ini.write_text("# rooms\n[building_a]\nroom-a101 ansible_host=10.0.0.11\n", encoding="utf-8")
    assert not is_yaml_inventory(ini) and not is_yaml_inventory(tmp_path / "x.ini")
    with pytest.raises(NotWritable):
        write_numbers(ini, {"room-a101": "+99111700000"}, {})
