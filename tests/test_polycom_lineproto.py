"""The line API rules on their own: quoting, error lines, and reply matching over a scripted
channel that replays what real units were seen to send (protocols/polycom.md §3.5)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from endpoints.channel import Channel
from endpoints.drivers import polycom_lineproto as proto
from endpoints.errors import AuthenticationFailed, Transient, Unreachable
from endpoints.transports.base import Deadline, StreamTransport

FIXTURES = Path(__file__).parent / "fixtures" / "polycom"


class Script(StreamTransport):
    """A device stream that answers each sent command with canned text (or nothing; "" hangs up)."""

    where = "script"

    def __init__(self, greeting: str, answers: dict[str, str] | None = None) -> None:
        self.pending = [greeting]
        self.answers = answers or {}
        self.sent: list[str] = []

    def open(self, deadline: Deadline) -> None:
        return None

    def write(self, data: bytes) -> None:
        self.send(data.decode())

    def send(self, text: str) -> None:
        self.sent.append(text)
        key = text.rstrip("\r\n")
        if key in self.answers:
            self.pending.append(self.answers[key])

    def read(self, deadline: Deadline) -> bytes:
        if self.pending:
            return self.pending.pop(0).encode()
        time.sleep(deadline.timeout())
        raise Transient("script: no answer within the deadline")

    def close(self) -> None:
        pass


BANNER = ("Hi, my name is : Room\r\nHere is what I know about myself:\r\nModel: RealPresence Group 550\r\n"
          "Serial Number: 8215274422C5CV\r\nSoftware Version: Release - 6.2.2.8-670021\r\n"
          "SNMP Enabled: True\r\n")


def session(script: Script, device: str = "unit") -> proto.LineSession:
    return proto.LineSession(Channel(script, timeout=0.3, newline="\r\n"), device=device, timeout=0.3, gap=0)


@pytest.mark.parametrize(("value", "token"), [("", '""'), ("a b", '"a b"'), ("TLS", "TLS"),
                                              ("+99111612345@huaweicloud.com", "+99111612345@huaweicloud.com")])
def test_quoting(value: str, token: str) -> None:
    assert proto.quote(value) == token
    assert proto.split_tokens(f"systemsetting x {token}") == ["systemsetting", "x", value]


def test_unterminated_quote_and_unquotable_values() -> None:
    with pytest.raises(ValueError):
        proto.split_tokens('systemsetting x "open')
    for bad in ('a"b', "a\nb"):
        with pytest.raises(ValueError):
            proto.quote(bad)


def test_every_firmware_error_string_is_a_refusal() -> None:
    table = (FIXTURES / "legacyresults.txt").read_text(encoding="utf-8").splitlines()
    errors = [line.split("|", 1)[1] for line in table if line.startswith("_")]
    assert len(errors) == 7
    for text in errors + list(proto.IRM_ERRORS) + ["info: AUDIO call not enabled", "answer incoming video call failed"]:
        assert proto.error_of(text.replace("{0}", "x")) is not None, text
    for text in ("systemsetting sipenable True", "sipserver offline", "status end", "password changed"):
        assert proto.error_of(text) is None


@pytest.mark.parametrize(("product", "model"), [
    ("RealPresence Group 550", "Group 550"), ("RealPresence Group 310", "Group 310"),
    ("HDX 9006", "HDX 9000"), ("HDX 4500", "HDX 4500"), ("HDX 7000 HD", "HDX 7000"), ("VVX 600", None)])
def test_canonical_models(product: str, model: str | None) -> None:
    assert proto.canonical_model(product) == model


def test_software_drops_the_release_prefix() -> None:
    assert proto.software_of("Release - 6.2.2.8-670021") == "6.2.2.8-670021"
    assert proto.software_of('"Release - 3.1.14-56008"') == "3.1.14-56008"


def test_telnet_login_answers_the_password_prompt_without_newline() -> None:
    channel = Script("\n\n\nPassword: ", {"secret": "\r\n" + BANNER + "-> "})
    line = session(channel)
    line.login("admin", "secret")
    assert channel.sent == ["secret\r\n"]
    assert line.banner["Model"] == "RealPresence Group 550"


def test_a_second_password_prompt_is_a_refused_login() -> None:
    channel = Script("Password: ", {"wrong": "\r\nPassword: "})
    with pytest.raises(AuthenticationFailed) as raised:
        session(channel).login("admin", "wrong")
    assert "wrong" not in str(raised.value)


def test_silence_and_closed_connections_during_login() -> None:
    with pytest.raises(Transient):
        session(Script("Hi, my name is : Room\r\n")).login("admin", None)  # never a prompt
    closed = Script("")
    with pytest.raises(Unreachable):
        session(closed).login("admin", None)


def test_stale_lines_echoes_banner_and_notifications_are_skipped() -> None:
    reply = ("-> systemsetting get sipusername\r\r\n"
             "systemsetting sipenable True\r\r\n"            # a late reply to an earlier command
             "notification:callstatus:outgoing:34:x:1.2.3.4:connected:384:0:videocall\r\r\n"
             + BANNER.replace("\r\n", "\r\r\n") +
             "\r\r\n"
             "systemsetting sipusername +99111612345@huaweicloud.com\r\r\n-> ")
    channel = Script("Hi, my name is : Room\r\r\n-> ", {"systemsetting get sipusername": reply})
    line = session(channel)
    line.login("admin", None)
    lines = line.run(proto.get_setting("sipusername"))
    assert proto.value_of(lines[0], 2) == "+99111612345@huaweicloud.com"


def test_a_banner_in_place_of_the_reply_makes_the_driver_ask_again() -> None:
    channel = Script("-> ")
    line = session(channel)
    line.login("admin", None)
    channel.send = _answer_in_turn(channel, [  # type: ignore[method-assign]
        "-> serialnum\r\n\r\n" + BANNER + "-> ",
        "-> serialnum\r\nserialnum 8215274422C5CV\r\n-> "])
    assert line.run(proto.simple("serialnum")) == ["serialnum 8215274422C5CV"]
    assert channel.sent.count("serialnum\r\n") == 2


def _answer_in_turn(channel: Script, answers: list[str]):  # type: ignore[no-untyped-def]
    def send(text: str) -> None:
        channel.sent.append(text)
        if answers:
            channel.pending.append(answers.pop(0))
    return send


def test_set_reply_without_echo_glued_to_the_prompt() -> None:
    # A unit that does not echo: the reply follows the prompt on the same line.
    channel = Script("-> ", {"serialnum": "serialnum 1\r\n-> ",
                             "systemsetting siptransportprotocol TLS": "systemsetting siptransportprotocol TLS\r\n-> "})
    line = session(channel)
    line.login("admin", None)
    line.run(proto.simple("serialnum"))
    assert line.echo_known and not line.echoes
    assert line.run(proto.set_setting("siptransportprotocol", "TLS", secret=False)) == [
        "systemsetting siptransportprotocol TLS"]


def test_set_refused_after_an_echo_is_a_refusal_not_a_success() -> None:
    channel = Script("-> ", {
        "serialnum": "serialnum\n\rserialnum 1\r\n-> ",  # HDX API echo ends <LF><CR>
        "systemsetting siptransportprotocol SCTP":
            "systemsetting siptransportprotocol SCTP\n\rerror: command has illegal parameters\r\n-> "})
    line = session(channel)
    line.login("admin", None)
    line.run(proto.simple("serialnum"))
    assert line.echoes
    with pytest.raises(proto.CommandRefused) as refused:
        line.run(proto.set_setting("siptransportprotocol", "SCTP", secret=False))
    assert refused.value.reason == "error: command has illegal parameters"


def test_status_reads_until_status_end() -> None:
    channel = Script("-> ", {"status": "-> status\r\ninacall offline\r\nsipserver online\r\nstatus end\r\n-> "})
    line = session(channel)
    line.login("admin", None)
    assert line.run(proto.STATUS) == ["inacall offline", "sipserver online"]


def test_secret_values_are_masked_in_what_is_logged() -> None:
    command = proto.set_setting("sippassword", "Sip-Secret-1", secret=True)
    assert "Sip-Secret-1" in command.text and "Sip-Secret-1" not in command.shown
    password = proto.set_password("old-1", "new-2")
    assert "old-1" not in password.shown and "new-2" not in password.shown
