"""An independent client against the simulator: netmiko's `cisco_tp` driver (PTY, CR LF,
the literal `OK` prompt) must work with the simulated tshell as with a real codec."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from netmiko import ConnectHandler

from endpoints.lab.cisco import CiscoDevice
from endpoints.lab.net import LabLoop, free_port
from endpoints.lab.registration import MeetingService

PASSWORD = "Netmiko-Dev-Pw-4"


@pytest.fixture(scope="module")
def codec() -> Iterator[tuple[CiscoDevice, int]]:
    loop = LabLoop()
    device = CiscoDevice("room-nm", "SX20", "ce9.4.0.cd3c4c6", service=MeetingService(delay=0.2),
                         serial="FTT18190NM1", admin_password=PASSWORD)
    port = free_port()
    loop.call(device.start({"ssh": port}))
    device.preset({"SIP URI": "+99111612345@huaweicloud.com", "SIP DisplayName": "Room NM"})
    yield device, port
    loop.call(device.stop())
    loop.stop()


def test_netmiko_cisco_tp_reads_status_and_configuration(codec: tuple[CiscoDevice, int]) -> None:
    device, port = codec
    # cisco_tp waits for "\r\n(OK|ERROR|Command not recognized\.)\r\n", but netmiko 4.x turns
    # CR LF into LF before matching unless told not to: a netmiko quirk, not a device one.
    # Keeping CR LF also shows the simulator ends lines with CR LF under a PTY, as tshell does.
    connection = ConnectHandler(device_type="cisco_tp", host="127.0.0.1", port=port, username="admin",
                                password=PASSWORD, allow_agent=False, use_keys=False, fast_cli=True,
                                conn_timeout=5, disable_lf_normalization=True,
                                # disconnect() probes for a config-mode prompt tshell never shows
                                read_timeout_override=2)
    try:
        assert connection.find_prompt() == "OK"
        unit = connection.send_command("xStatus SystemUnit")
        assert '*s SystemUnit ProductId: "Cisco TelePresence SX20"' in unit
        assert '*s SystemUnit Software Version: "ce9.4.0.cd3c4c6"' in unit
        assert '*s SystemUnit Hardware Module SerialNumber: "FTT18190NM1"' in unit
        sip = connection.send_command("xConfiguration SIP")
        assert '*c xConfiguration SIP URI: "+99111612345@huaweicloud.com"' in sip
        assert "*c xConfiguration SIP DefaultTransport: Auto" in sip
        assert '*c xConfiguration SIP Authentication Password: "***"' in sip
        assert sip.rstrip().endswith("** end\r\n\r\nOK")
        assert connection.send_command("xBogus").strip().endswith("Command not recognized.")
    finally:
        connection.disconnect()
    assert device.counters.writes == 0
