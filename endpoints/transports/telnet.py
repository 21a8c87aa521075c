"""A small telnet client for line APIs (Polycom port 24/23).

It refuses every option the server offers or asks for (RFC 854/855: answer DO with
WONT and WILL with DONT), strips subnegotiations, and hands plain text upwards. The
standard library's telnetlib is gone from Python 3.13, hence this module.
"""
from __future__ import annotations

import codecs
import logging
import socket

from endpoints.errors import Transient, Unreachable

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


class TelnetTransport:
    """One telnet connection: `open()`, `send(text)`, `recv(timeout)`, `close()`."""

    def __init__(self, address: str, port: int, *, timeout: float) -> None:
        self.address, self.port, self.timeout = address, port, timeout
        self._sock: socket.socket | None = None
        self._parser = TelnetParser()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.address, self.port), timeout=self.timeout)
        except socket.gaierror as exc:
            raise Unreachable(f"cannot resolve {self.address}: {exc.strerror}") from None
        except TimeoutError:
            raise Unreachable(f"telnet {self.address}:{self.port}: connection timed out") from None
        except OSError as exc:
            raise Unreachable(f"telnet {self.address}:{self.port}: {exc.strerror or exc}") from None

    def send(self, text: str) -> None:
        data = text.encode("utf-8").replace(b"\xff", b"\xff\xff")
        try:
            self._socket().sendall(data)
        except OSError as exc:
            raise Transient(f"telnet {self.address}:{self.port}: send failed: {exc.strerror or exc}") from None

    def recv(self, timeout: float) -> str | None:
        """Text the server sent next: '' at end of stream, None when nothing came in time."""
        sock = self._socket()
        sock.settimeout(max(timeout, 0.001))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return None
        except OSError as exc:
            raise Transient(f"telnet {self.address}:{self.port}: {exc.strerror or exc}") from None
        if not data:
            return ""
        text = self._decoder.decode(self._parser.feed(data))
        self._answer_options()
        return text if text else None

    def _answer_options(self) -> None:
        if self._parser.replies:
            replies, self._parser.replies = bytes(self._parser.replies), bytearray()
            log.debug("telnet %s:%s: refusing %d option request(s)", self.address, self.port,
                      len(replies) // 3)
            try:
                self._socket().sendall(replies)
            except OSError:
                pass  # the next recv reports the broken connection

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise Transient(f"telnet {self.address}:{self.port}: not connected")
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
