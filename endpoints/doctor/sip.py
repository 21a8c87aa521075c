"""A SIP `OPTIONS` request and the reading of its answer (RFC 3261), over any stream socket.

OPTIONS asks a server what it supports and changes nothing: the gentlest request that a
SIP proxy must answer. Any final response, even `403` or `404`, proves that SIP over this
TLS path reaches a SIP server; a `1xx` is only "still working on it".
"""
from __future__ import annotations

import re
import secrets
import socket
import time
from dataclasses import dataclass, field

from endpoints import __version__
from endpoints.desired import Proxy

MAX_MESSAGE = 65536
BRANCH_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7: branches of compliant clients start with it
COMPACT = {"i": "call-id", "l": "content-length", "v": "via", "f": "from", "t": "to", "m": "contact",
           "c": "content-type", "k": "supported"}
_STATUS = re.compile(r"^SIP/2\.0 (\d{3}) ?(.*)$")


@dataclass(frozen=True)
class OptionsRequest:
    text: str
    call_id: str
    branch: str
    tag: str

    @property
    def wire(self) -> bytes:
        return self.text.encode("utf-8")


def options_request(proxy: Proxy, local: tuple[str, int]) -> OptionsRequest:
    """A fresh OPTIONS for the proxy, sent from `local` (the socket's own address and port)."""
    target = f"{_bracketed(proxy.host)}:{proxy.port}"
    here = f"{_bracketed(local[0])}:{local[1]}"
    branch = BRANCH_COOKIE + secrets.token_hex(8)
    tag = secrets.token_hex(6)
    call_id = f"{secrets.token_hex(12)}@{_bracketed(local[0])}"
    lines = [
        f"OPTIONS sip:{target};transport=tls SIP/2.0",
        f"Via: SIP/2.0/TLS {here};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:endpoints-doctor@{_bracketed(local[0])}>;tag={tag}",
        f"To: <sip:{target}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        f"Contact: <sip:endpoints-doctor@{here};transport=tls>",
        "Accept: application/sdp",
        f"User-Agent: endpoints-doctor/{__version__}",
        "Content-Length: 0",
    ]
    return OptionsRequest("\r\n".join(lines) + "\r\n\r\n", call_id, branch, tag)


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}".rstrip()

    @property
    def final(self) -> bool:
        return self.status >= 200

    @property
    def server(self) -> str:
        return self.headers.get("server") or self.headers.get("user-agent") or ""


class NotSip(Exception):
    """The peer sent something that is not a SIP response."""


class Closed(Exception):
    """The peer closed the connection before a final response."""


class NoAnswer(Exception):
    """The deadline passed before a final response; carries the provisional ones seen."""

    def __init__(self, provisional: list[Response]) -> None:
        super().__init__("no final response")
        self.provisional = provisional


def exchange(sock: socket.socket, request: OptionsRequest, deadline: float) -> Response:
    """Send the request and read until its final response or the deadline (time.monotonic)."""
    sock.settimeout(max(deadline - time.monotonic(), 0.001))
    sock.sendall(request.wire)
    buffer = b""
    provisional: list[Response] = []
    while True:
        message, buffer = _split_message(buffer)
        if message is not None:
            response = parse_response(message)
            if response.headers.get("call-id") != request.call_id:
                continue  # not an answer to this request (a stray or a keep-alive)
            if response.final:
                return response
            provisional.append(response)
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoAnswer(provisional)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(8192)
        except TimeoutError:
            raise NoAnswer(provisional) from None
        if not chunk:
            raise Closed()
        buffer += chunk
        if len(buffer) > MAX_MESSAGE:
            raise NotSip(f"more than {MAX_MESSAGE} bytes without a complete SIP message")


def _split_message(buffer: bytes) -> tuple[bytes | None, bytes]:
    """One whole message (head and body by Content-Length) off the front, if there is one."""
    buffer = buffer.lstrip(b"\r\n")  # RFC 5626 keep-alive CRLFs between messages
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if buffer and not b"SIP/2.0".startswith(buffer[:7]):
            raise NotSip(_preview(buffer))
        return None, buffer
    head = buffer[: end + 4]
    length = _content_length(head)
    if len(buffer) < end + 4 + length:
        return None, buffer
    return buffer[: end + 4 + length], buffer[end + 4 + length:]


def _content_length(head: bytes) -> int:
    match = re.search(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)", head, re.IGNORECASE)
    return int(match.group(1)) if match else 0


def parse_response(message: bytes) -> Response:
    """Status line and headers (names lower-cased, compact forms expanded, folded lines joined)."""
    text = message.decode("utf-8", errors="replace")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    status = _STATUS.match(lines[0])
    if not status:
        raise NotSip(_preview(message))
    headers: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:
            headers[name] += " " + line.strip()
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise NotSip(f"header line without a colon: {line[:60]!r}")
        name = COMPACT.get(key.strip().lower(), key.strip().lower())
        headers.setdefault(name, value.strip())
    return Response(int(status.group(1)), status.group(2).strip(), headers)


def _preview(data: bytes) -> str:
    return f"the reply is not SIP: {data[:60].decode('latin-1')!r}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
