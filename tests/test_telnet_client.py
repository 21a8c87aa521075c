"""The telnet client: option refusal, subnegotiation, escaping, against a real socket."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from endpoints.errors import Unreachable
from endpoints.lab.net import LabLoop, free_port
from endpoints.transports.base import Deadline
from endpoints.transports.telnet import DO, DONT, IAC, SB, SE, WILL, WONT, TelnetParser, TelnetTransport


def test_parser_refuses_every_option_and_strips_commands() -> None:
    parser = TelnetParser()
    data = bytes([IAC, DO, 1, IAC, WILL, 3, IAC, DONT, 5, IAC, WONT, 6]) + b"Pass" + bytes(
        [IAC, SB, 24, 1, IAC, IAC, IAC, SE]) + b"word: " + bytes([IAC, IAC]) + b"\r\x00x"
    assert parser.feed(data) == b"Password: \xff\rx"
    assert bytes(parser.replies) == bytes([IAC, WONT, 1, IAC, DONT, 3])


def test_parser_keeps_state_across_chunks() -> None:
    parser = TelnetParser()
    out = b"".join(parser.feed(bytes([b])) for b in bytes([IAC, DO, 24]) + b"ok")
    assert out == b"ok" and bytes(parser.replies) == bytes([IAC, WONT, 24])


@pytest.fixture(scope="module")
def lab() -> Iterator[LabLoop]:
    loop = LabLoop()
    yield loop
    loop.stop()


def test_transport_against_a_negotiating_server(lab: LabLoop) -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(bytes([IAC, DO, 1, IAC, WILL, 1]) + "Grüße\r\n".encode() + bytes([IAC, IAC]))
        await writer.drain()
        received.append(await reader.readexactly(6))
        received.append(await reader.readexactly(5))
        writer.close()

    port = free_port()
    server = lab.call(asyncio.start_server(handle, "127.0.0.1", port))
    telnet = TelnetTransport("127.0.0.1", port, timeout=2)
    telnet.open()
    data, deadline = b"", Deadline(3)
    while not data.endswith(b"\xff"):  # IAC IAC: one 0xff data byte
        data += telnet.read(deadline)
    telnet.write("ab\xffc".encode())  # the 0xff byte of the UTF-8 text goes out as IAC IAC
    while telnet.read(deadline) != b"":
        pass
    telnet.close()
    server.close()
    assert data == "Grüße\r\n".encode() + b"\xff"
    assert received == [bytes([IAC, WONT, 1, IAC, DONT, 1]), b"ab\xc3\xbfc"]


def test_refused_port_is_unreachable() -> None:
    with pytest.raises(Unreachable):
        TelnetTransport("127.0.0.1", free_port(), timeout=1).open()
