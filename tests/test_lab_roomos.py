"""The RoomOS 11 personality (Room Kit, Room Bar, Desk Pro), checked against the recorded
Room Bar dumps over HTTPS and SSH with plain clients."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.fleet import LabSpec, RoomSpec
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.registration import MeetingService

DATA = Path(__file__).resolve().parent.parent / "endpoints" / "lab" / "cisco_data"
SHARED = Path("/work/shared/fixtures/cisco")
SOFTWARE = "ce11.19.1.6.76526b1b094"
PASSWORD = "RoomOS-Lab-Pw-1"


@pytest.fixture(scope="module")
def room_bar() -> Iterator[CiscoDevice]:
    loop = LabLoop()
    device = CiscoDevice("bar-1", "Room Bar", SOFTWARE, service=MeetingService(delay=0.1), serial="FOC2735LAB1",
                         admin_password=PASSWORD)
    loop.call(device.start({"https": free_port(), "http": free_port(), "ssh": free_port()}))
    yield device
    loop.call(device.stop())
    loop.stop()


def https(device: CiscoDevice) -> httpx.Client:
    return httpx.Client(base_url=f"https://127.0.0.1:{device.ports['https']}", auth=("admin", PASSWORD),
                        verify=False, timeout=5)


def shape(element: etree._Element, prefix: str = "") -> list[tuple[str, dict[str, str]]]:
    rows = []
    for child in element:
        path = f"{prefix}/{child.tag}"
        rows.append((path, dict(child.attrib)))
        rows += shape(child, path)
    return rows


def test_the_lab_ships_the_recorded_room_bar_dumps() -> None:
    if not SHARED.is_dir():
        pytest.skip("the shared fixture folder is not beside this checkout")
    for name in ("roombar-roomos11.19-status.xml", "roombar-roomos11.19-valuespace.xml"):
        assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_status_document_has_the_recorded_room_bar_tree(room_bar: CiscoDevice) -> None:
    real = etree.parse(str(DATA / "roombar-roomos11.19-status.xml")).getroot()
    with https(room_bar) as http:
        simulated = etree.fromstring(http.get("/status.xml").content)
    assert shape(simulated) == shape(real)
    assert dict(simulated.attrib) == {"product": "Cisco Codec", "version": SOFTWARE, "apiVersion": "4"}
    unit = simulated.find("SystemUnit")
    assert (unit.findtext("ProductId"), unit.findtext("ProductPlatform")) == ("Cisco Room Bar", "Room Bar")
    assert unit.findtext("Software/Version") == SOFTWARE
    assert unit.findtext("Software/DisplayName") == "RoomOS 11.19.1.6 76526b1b094"
    assert unit.findtext("Hardware/Module/SerialNumber") == "FOC2735LAB1"  # the room's, not the recording's
    assert simulated.findtext("SIP/Registration/Status") == "Inactive"


def test_valuespace_is_the_recorded_one(room_bar: CiscoDevice) -> None:
    with https(room_bar) as http:
        served = http.get("/valuespace.xml").content
    assert served == (DATA / "roombar-roomos11.19-valuespace.xml").read_bytes()


def test_ce_style_paths_and_https_by_default(room_bar: CiscoDevice) -> None:
    with https(room_bar) as http:
        ok = http.post("/putxml", content=b"<Configuration><SIP><URI>+99111600001@huaweicloud.com</URI>"
                                          b"<TlsVerify>On</TlsVerify></SIP></Configuration>")
        assert b"<Success/>" in ok.content
        tc = http.post("/putxml", content=b'<Configuration><SIP><Profile item="1"><URI>x</URI></Profile></SIP>'
                                          b"</Configuration>")
        assert b"No match on address expression." in tc.content  # no `Profile 1` level on RoomOS
        mode = etree.fromstring(http.get("/getxml", params={"location": "/Configuration/NetworkServices/HTTP"}).content)
    assert mode.findtext("NetworkServices/HTTP/Mode") == "HTTPS"
    with httpx.Client(base_url=f"http://127.0.0.1:{room_bar.ports['http']}", auth=("admin", PASSWORD)) as plain:
        answer = plain.get("/status.xml")
    assert answer.is_redirect and answer.headers["Location"].startswith("https://")


def test_lab_specs_accept_the_roomos_models(tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text("rooms:\n"
                    "  - {name: bar, model: room bar, transport: https}\n"
                    "  - {name: kit, model: Room Kit, transport: ssh}\n"
                    "  - {name: desk, model: desk-pro, transport: https}\n")
    rooms = LabSpec.load(spec).rooms
    assert [(r.model, r.software) for r in rooms] == [("Room Bar", SOFTWARE), ("Room Kit", SOFTWARE),
                                                     ("Desk Pro", SOFTWARE)]
    with pytest.raises(KeyError, match="support matrix"):
        RoomSpec("x", "SX30", "https")
    with pytest.raises(KeyError, match="offers"):
        RoomSpec("x", "Room Bar", "telnet")
