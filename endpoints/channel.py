"""Text over a device's byte stream: lines out, answers in, within a total deadline.

The layer between a line-oriented driver (the Cisco tshell, the Polycom line API) and its
transport (an SSH shell or a telnet socket), as scrapli's `channel` sits on its
`transport`: it decodes, buffers, waits for a pattern (a prompt, a terminator line) and
never lets a line break or another control character inside a value reach the device,
where it would end the command and start another one (a password of
`x\\r\\nsystemsetting sipenable False` must never run a command).
"""
from __future__ import annotations

import codecs
import logging
import re

from endpoints.errors import InputError, Transient
from endpoints.transports.base import Deadline, StreamTransport

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def control_character(text: str) -> str | None:
    """The first control character in `text` as `\\x0d`, or None (what every value is checked for)."""
    match = _CONTROL.search(text)
    return f"\\x{ord(match.group()):02x}" if match else None


class Channel:
    """One device's line API as text: `send_line()`, `read()`, `expect()`; one exchange at a time."""

    def __init__(self, stream: StreamTransport, *, timeout: float, newline: str = "\n") -> None:
        self.stream, self.timeout, self.newline = stream, timeout, newline
        self.where = stream.where
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def deadline(self) -> Deadline:
        """The budget of one exchange: its whole answer must arrive within `timeout`."""
        return Deadline(self.timeout)

    def send_line(self, text: str, *, shown: str | None = None) -> None:
        """Send one line; `shown` is what the debug log prints instead (secrets masked)."""
        bad = control_character(text)
        if bad is not None:
            # Values are checked before any device is touched; this is the last line of defence.
            raise InputError(f"{self.where}: refusing to send a line holding the control character {bad}")
        log.debug("%s: > %s", self.where, shown if shown is not None else text)
        self.stream.write((text + self.newline).encode("utf-8"))

    def send_raw(self, text: str) -> None:
        """Bytes the protocol itself needs (a bare newline to wake a prompt, telnet's CR LF)."""
        self.stream.write(text.encode("utf-8"))

    def read(self, deadline: Deadline) -> str:
        """The next text from the device ('' when it closed the stream); Transient past the deadline."""
        if self._pending:
            text, self._pending = self._pending, ""
            return text
        while True:
            data = self.stream.read(deadline)
            if not data:
                return ""
            text = self._decoder.decode(data)
            if text:
                return text

    def unread(self, text: str) -> None:
        """Give back text read too far (it belongs to the next answer)."""
        self._pending = text + self._pending

    def expect(self, pattern: re.Pattern[str], deadline: Deadline) -> tuple[str, re.Match[str]]:
        """Read until `pattern` matches the text so far; the text up to the match's end, and
        the match. What follows the match stays for the next read."""
        buffer = ""
        while True:
            match = pattern.search(buffer)
            if match:
                self.unread(buffer[match.end():])
                return buffer[:match.end()], match
            chunk = self.read(deadline)
            if chunk == "":
                raise Transient(f"{self.where}: the device closed the session")
            buffer += chunk

    def close(self) -> None:
        self.stream.close()
