"""A small telnet client for line APIs (Polycom port 24/23).

It refuses every option the server offers or asks for (RFC 854/855: answer DO with
WONT and WILL with DONT), strips subnegotiations, and hands the data bytes upwards. The
standard library's telnetlib is gone from Python 3.13, hence this module.
"""
from __future__ import annotations

import logging
import socket

from endpoints.errors import Transient
from endpoints.transports.base import Deadline, StreamTransport, connect_tcp, map_os_error

log = logging.getLogger(__name__)

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
_REFUSAL = {DO: WONT, WILL: DONT}


class TelnetParser:
    """Splits the server's bytes into data and option requests; collects our refusals."""

    def __init__(self) -> None:
        self._state = "data"
        self._verb = 0
        self._pending_cr = False
        self.replies = bytearray()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            self._step(byte, out)
        return bytes(out)

    def _step(self, byte: int, out: bytearray) -> None:
        state = self._state
        if state == "data":
            self._data(byte, out)
        elif state == "iac":
            self._after_iac(byte, out)
        elif state == "option":
            self._state = "data"
            refusal = _REFUSAL.get(self._verb)
            if refusal is not None:
                self.replies += bytes([IAC, refusal, byte])
        elif state == "sb":
            self._state = "sb-iac" if byte == IAC else "sb"
        else:  # sb-iac: IAC SE ends a subnegotiation, IAC IAC is data inside it
            self._state = "data" if byte == SE else "sb"

    def _data(self, byte: int, out: bytearray) -> None:
        if byte == IAC:
            self._state = "iac"
            return
        if self._pending_cr:
            self._pending_cr = False
            if byte == 0:  # CR NUL is a bare CR on the wire
                return
        if byte == 13:
            self._pending_cr = True
        out.append(byte)

    def _after_iac(self, byte: int, out: bytearray) -> None:
        if byte == IAC:
            self._state = "data"
            out.append(IAC)
        elif byte in (DO, DONT, WILL, WONT):
            self._state, self._verb = "option", byte
        elif byte == SB:
            self._state = "sb"
        else:  # NOP, GA, AYT ...: no data
            self._state = "data"


class TelnetTransport(StreamTransport):
    """One telnet connection as a byte stream; option requests are refused as they come."""

    def __init__(self, address: str, port: int, *, timeout: float, where: str = "") -> None:
        self.address, self.port, self.timeout = address, port, timeout
        self.where = where or f"telnet {address}:{port}"
        self._sock: socket.socket | None = None
        self._parser = TelnetParser()

    def open(self, deadline: Deadline | None = None) -> None:
        self._sock = connect_tcp(self.address, self.port, deadline or Deadline(self.timeout), self.where,
                                 "telnet")

    def write(self, data: bytes) -> None:
        try:
            self._socket().sendall(data.replace(b"\xff", b"\xff\xff"))
        except OSError as exc:
            raise map_os_error(exc, self.where, connecting=False) from None

    def read(self, deadline: Deadline) -> bytes:
        """Data bytes the server sent next (options stripped and answered); b"" at end of stream."""
        sock = self._socket()
        while True:
            if deadline.expired():
                raise Transient(f"{self.where}: no complete answer within {deadline.seconds:g} s")
            sock.settimeout(deadline.timeout(1.0))
            try:
                raw = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                raise map_os_error(exc, self.where, connecting=False) from None
            if not raw:
                return b""
            data = self._parser.feed(raw)
            self._answer_options()
            if data:
                return data

    def _answer_options(self) -> None:
        if self._parser.replies:
            replies, self._parser.replies = bytes(self._parser.replies), bytearray()
            log.debug("%s: refusing %d option request(s)", self.where, len(replies) // 3)
            try:
                self._socket().sendall(replies)
            except OSError:
                pass  # the next read reports the broken connection

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise Transient(f"{self.where}: not connected")
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
