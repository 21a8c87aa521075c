"""Parsing and building xAPI documents and terminal output, on real recordings."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from endpoints import support
from endpoints.drivers import cisco_xapi as xapi
from endpoints.errors import ProtocolError

FIXTURES = Path(__file__).parent / "fixtures" / "cisco"


def document(name: str) -> etree._Element:
    return xapi.parse_xml((FIXTURES / name).read_bytes())


# --- paths --------------------------------------------------------------------------------

def test_split_path_attaches_indexes_to_the_element_before() -> None:
    assert xapi.split_path("SIP Proxy 1 Address") == [("SIP", None), ("Proxy", 1), ("Address", None)]
    assert xapi.split_path("SIP Profile 1 Authentication 1 LoginName") == [
        ("SIP", None), ("Profile", 1), ("Authentication", 1), ("LoginName", None)]
    assert xapi.join_path(xapi.split_path("Conference 1 DefaultCall Protocol")) == "Conference 1 DefaultCall Protocol"


@pytest.mark.parametrize("bad", ["", "1 SIP", "SIP Proxy 1 2 Address"])
def test_split_path_refuses_misplaced_indexes(bad: str) -> None:
    with pytest.raises(ValueError):
        xapi.split_path(bad)


def test_xpath_to_path() -> None:
    assert xapi.xpath_to_path("Configuration/SIP/Proxy[1]/Address") == "SIP Proxy 1 Address"
    assert xapi.xpath_to_path("Configuration/Video/Input/Connector[1]/Foo") == "Video Input Connector 1 Foo"
    assert xapi.xpath_to_path("/Status/Audio/Volumee") == "Audio Volumee"


# --- real CE documents ------------------------------------------------------------------------

def test_reads_the_real_sx20_configuration() -> None:
    root = document("sx20-ce9.1.4-configuration.xml")
    assert xapi.find_value(root, "SIP Proxy 1 Address") == "172.31.254.64"
    assert xapi.find_value(root, "SIP Proxy 2 Address") == ""
    assert xapi.find_value(root, "SIP URI") == "NH-SX20@nh.vnoc1.com"
    assert xapi.find_value(root, "SIP DefaultTransport") == "TCP"
    assert xapi.find_value(root, "SIP Authentication Password") == "***"  # hidden by the device
    assert xapi.find_value(root, "NetworkServices HTTP Mode") == "HTTP+HTTPS"
    assert xapi.find_value(root, "Conference DefaultCall Protocol") == "Sip"
    assert xapi.find_value(root, "Network 1 DNS Server 2 Address") == "172.31.254.12"


def test_paths_absent_on_this_firmware_read_as_none() -> None:
    root = document("sx20-ce9.1.4-configuration.xml")
    assert xapi.find_value(root, "SIP Profile 1 URI") is None  # a TC path
    assert xapi.find_value(root, "Conference 1 DefaultCall Protocol") is None  # TC indexes Conference
    assert xapi.find_value(root, "SIP Proxy 5 Address") is None
    assert xapi.find_value(root, "SIP Type") is None
    assert xapi.find_value(root, "SIP Proxy") is None  # a subtree, not a value


def test_reads_registration_and_identity_from_the_real_sx20_status() -> None:
    root = document("sx20-ce9.1.4-status.xml")
    assert xapi.find_value(root, "SIP Registration 1 Status") == "Registered"
    assert xapi.find_value(root, "SIP Registration 1 URI") == "NH-SX20@nh.vnoc1.com"
    assert xapi.find_value(root, "SIP Proxy 1 Status") == "Active"
    values = {p: xapi.find_value(root, p) for p in xapi.IDENTITY_PATHS.values()}
    identity = xapi.identity_from(values)
    assert (identity.model, identity.software, identity.serial) == ("SX20", "ce9.1.4.3ae3106", "FTT181900JJ")
    assert identity.product == "Cisco TelePresence SX20"


def test_a_room_bar_is_recognised_from_its_recorded_status() -> None:
    root = document("roombar-roomos11.19-status.xml")
    identity = xapi.identity_from({p: xapi.find_value(root, p) for p in xapi.IDENTITY_PATHS.values()})
    assert identity.model == "Room Bar"  # the support matrix's RoomOS 11 row
    assert identity.product == "Cisco Room Bar"
    assert identity.software == "ce11.19.1.6.76526b1b094"
    assert xapi.find_value(root, "SIP Registration 1 Status") == "Inactive"


def test_tc_decoration_is_ignored_when_reading() -> None:
    # TC 7.3 answers as in the ICD test fixtures (cisco.md §1.4): item="1" everywhere.
    body = (b'<Status><SystemUnit item="1"><Software item="1"><Version item="1">TC7.3.2.14ad7cc</Version>'
            b'</Software></SystemUnit><SIP item="1"><Profile item="1"><Registration item="1">'
            b'<Status item="1">Registered</Status></Registration></Profile></SIP></Status>')
    root = xapi.parse_xml(body)
    assert xapi.find_value(root, "SystemUnit Software Version") == "TC7.3.2.14ad7cc"
    assert xapi.find_value(root, "SIP Profile 1 Registration 1 Status") == "Registered"
    assert xapi.is_tc("TC7.3.2.14ad7cc") and not xapi.is_tc("ce9.1.4.3ae3106")


def test_not_xml_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not XML"):
        xapi.parse_xml(b"<html><body>login</body")


# --- documents the drivers send -----------------------------------------------------------------

def test_configuration_document_merges_paths_in_order() -> None:
    body = xapi.configuration_document([("SIP URI", "a@b"), ("SIP Proxy 1 Address", "p:5061"),
                                        ("SIP Proxy 2 Address", ""), ("NetworkServices SIP Mode", "On")])
    root = etree.fromstring(body)
    assert [c.tag for c in root] == ["SIP", "NetworkServices"]
    assert [(c.tag, c.get("item")) for c in root[0]] == [("URI", None), ("Proxy", "1"), ("Proxy", "2")]
    assert xapi.find_value(root, "SIP Proxy 1 Address") == "p:5061"


def test_tc_configuration_document_matches_the_documented_shape() -> None:
    body = xapi.configuration_document([("SIP Profile 1 Authentication 1 LoginName", "user"),
                                        ("Conference 1 DefaultCall Protocol", "Sip")])
    assert b'<SIP><Profile item="1"><Authentication item="1"><LoginName>user</LoginName>' in body
    assert b'<Conference item="1"><DefaultCall><Protocol>Sip</Protocol>' in body


def test_command_document() -> None:
    body = xapi.command_document("SystemUnit AdminPassword Set", {"Password": "x<y"})
    assert b'<Command><SystemUnit><AdminPassword><Set command="True"><Password>x&lt;y</Password>' in body


# --- putxml answers -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><Configuration><Success/></Configuration>',
    b'<?xml version="1.0"?>\n<Configuration>\n  <Success/>\n</Configuration>\n',
    b'<?xml version="1.0"?><Command><CameraPositionSetResult item="1" status="OK"/></Command>',
])
def test_success_answers(body: bytes) -> None:
    assert xapi.put_errors(body) == []


def test_refusals_name_path_and_reason() -> None:
    bad_path = (b'<Configuration status="Error"><Reason>No match on address expression.</Reason>'
                b'<XPath>Configuration/SIP/Foo</XPath></Configuration>')
    assert xapi.put_errors(bad_path) == [xapi.PutError("SIP Foo", "No match on address expression.")]
    illegal = b'<Configuration><SIP><Proxy item="1"><Address error="True">Illegal value</Address></Proxy></SIP></Configuration>'
    assert xapi.put_errors(illegal) == [xapi.PutError("SIP Proxy 1 Address", "Illegal value")]
    command = b'<Command><PassphraseSetResult status="Error"><Reason>Wrong passphrase</Reason></PassphraseSetResult></Command>'
    assert xapi.put_errors(command) == [xapi.PutError(None, "Wrong passphrase")]
    no_action = b"<Command><ActionError><Reason>No action detected in document</Reason></ActionError></Command>"
    assert xapi.put_errors(no_action)[0].reason == "No action detected in document"
    assert xapi.put_errors(b"<Configuration/>") == [xapi.PutError(None, "the device did not confirm the change")]


def test_refusal_matching_tolerates_tc_decoration() -> None:
    refused = xapi.PutError("SIP 1 Profile 1 DefaultTransport 1", "Illegal value")
    paths = ["SIP Profile 1 URI", "SIP Profile 1 DefaultTransport"]
    assert xapi.match_refused(refused, paths) == "SIP Profile 1 DefaultTransport"
    assert xapi.match_refused(xapi.PutError("SIP Proxy 2 Address", "x"), ["SIP Proxy 1 Address"]) is None


# --- terminal mode ---------------------------------------------------------------------------------

def test_quote_round_trip() -> None:
    for value in ["plain", "with space", 'say "hi"', "", "OK"]:
        assert xapi.unquote(xapi.quote(value)) == value
    with pytest.raises(ValueError):
        xapi.quote("two\nlines")


def test_reader_cuts_answers_at_terminator_lines_only() -> None:
    reader = xapi.TerminalReader()
    output = ("*s Video Input Connector 1 SignalState: OK\r\n*s SIP Registration 1 Status: Registered\r\n"
              "*s SIP Registration 1 URI: \"a@b\"\r\n** end\r\n\r\nOK\r\n")
    replies = reader.feed(output[:30]) + reader.feed(output[30:])
    assert len(replies) == 1 and replies[0].ok
    assert replies[0].values() == {"Video Input Connector 1 SignalState": "OK",
                                   "SIP Registration 1 Status": "Registered", "SIP Registration 1 URI": "a@b"}


def test_reader_on_the_real_tc7_lines() -> None:
    lines = (FIXTURES / "tc7-xapi-response-examples.txt").read_text()
    reply = xapi.TerminalReader().feed(lines + "** end\n\nOK\n")[0]
    assert reply.values()["Call 32 CallbackNumber"] == "h323:10.243.218.234"
    assert reply.error() is None


def test_reader_skips_the_real_tc7_login_banner() -> None:
    banner = (FIXTURES / "tc7-telnet-login-transcript.txt").read_text()
    reader = xapi.TerminalReader()
    assert reader.feed(banner) == []  # nothing is an answer before the terminator
    reply = reader.feed("\nOK\n")[0]
    assert reply.lines == ["*r Login successful"] and reply.ok


def test_reader_reads_config_lines_and_errors() -> None:
    reader = xapi.TerminalReader()
    read, error, unknown = reader.feed(
        '*c xConfiguration SIP URI: "x y@z"\n*c xConfiguration SIP DefaultTransport: Tls\n** end\n\nOK\n'
        '*r Configuration (status=Error):\n*r Configuration Reason: "No match on address expression."\n'
        '*r Configuration XPath: "Configuration/SIP/Foo"\n** end\n\nERROR\n'
        "Command not recognized.\n")
    assert read.values() == {"SIP URI": "x y@z", "SIP DefaultTransport": "Tls"}
    assert error.error() == "No match on address expression." and error.xpath() == "SIP Foo"
    assert unknown.error() == "Command not recognized."


def test_reader_strips_the_echo_off_escape() -> None:
    reply = xapi.TerminalReader().feed("echo off\r\n\x1b[?1034h\r\nOK\r\n")[0]
    assert reply.ok and reply.lines == []


def test_canonical_models() -> None:
    assert support.model_of_product("SX80", None) == "SX80"
    assert support.model_of_product(None, "Cisco TelePresence SX10") == "SX10"
    assert support.model_of_product("Room Kit", "Cisco Webex Room Kit") == "Room Kit"
    assert support.model_of_product("Room Kit Pro", "Cisco Webex Room Kit Pro") is None  # not in the matrix
