"""HttpTransport on the wire: keep-alive, bodies of every framing, connections the device
closes, and Digest answered unasked once the challenge is known.

A raw loopback server speaks the HTTP a test needs byte for byte (aiohttp would not close
a kept connection or drop a request on cue); every answer is read by the real transport.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from endpoints.drivers.hdx_http import BasicOrDigest
from endpoints.errors import Transient
from endpoints.host import Host, TlsPolicy
from endpoints.transports.http import HttpTransport, Response

Answer = Callable[[int, bytes], bytes | None]  # (request number on its connection, request) -> bytes, or None: close


@dataclass
class RawServer:
    """Accepts connections and answers each request with what `answer` says."""

    answer: Answer
    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    close_after_answer: bool = False  # hang up after every answer (a body that ends with the connection)

    def start(self) -> int:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()
        return int(self.sock.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer, count = b"", 0
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                count += 1
                reply = self.answer(count, head)
                if reply is None:
                    return
                conn.sendall(reply)
                if self.close_after_answer:
                    return

    def stop(self) -> None:
        self.sock.close()


Serve = Callable[[Answer], tuple["RawServer", HttpTransport]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[tuple[RawServer, HttpTransport]] = []

    def make(answer: Answer) -> tuple[RawServer, HttpTransport]:
        server = RawServer(answer)
        port = server.start()
        transport = HttpTransport(Host("room-w", "127.0.0.1", tls=TlsPolicy()), "http", port, timeout=3)
        started.append((server, transport))
        return server, transport

    yield make
    for server, transport in started:
        transport.close()
        server.stop()


def ok(body: bytes = b"hello", *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_requests_share_one_kept_connection(serve: Serve) -> None:
    server, http = serve(lambda n, head: ok(b"answer %d" % n))
    answers = [http.request("GET", "/getxml", params={"location": "/Status/SIP"}).text for _ in range(5)]
    assert answers == [f"answer {n}" for n in range(1, 6)]
    assert server.connections == http.connections == 1
    assert server.requests[0].startswith(b"GET /getxml?location=%2FStatus%2FSIP HTTP/1.1\r\n")


def test_chunked_bodies_with_extensions_and_trailers(serve: Serve) -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;name=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    server, http = serve(lambda n, head: chunked)
    assert http.request("GET", "/").content == b"hello, world"
    assert http.request("GET", "/").content == b"hello, world"  # the connection stayed usable
    assert server.connections == 1


def test_a_body_without_length_ends_with_the_connection(serve: Serve) -> None:
    server, http = serve(lambda n, head: b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<Status/>")
    server.close_after_answer = True
    assert http.request("GET", "/").content == b"<Status/>"
    assert http.request("GET", "/").content == b"<Status/>"
    assert server.connections == 2  # each answer ended with its connection


def test_connection_close_is_honoured(serve: Serve) -> None:
    server, http = serve(lambda n, head: ok(b"x", "Connection: close") if n == 1 else None)
    for _ in range(3):
        assert http.request("GET", "/").content == b"x"
    assert server.connections == http.connections == 3


def test_a_kept_connection_the_device_closed_while_idle_is_opened_again(serve: Serve) -> None:
    # The device answers one request per connection and then hangs up, without saying so
    # (as a codec's web server does when a kept connection idled past its keep-alive).
    server, http = serve(lambda n, head: ok(b"x") if n == 1 else None)
    assert http.request("GET", "/").content == b"x"
    for _ in range(3):
        assert http.request("GET", "/").content == b"x"
    assert server.connections == 4


def test_a_read_the_device_dropped_as_it_arrived_goes_once_more_a_write_does_not(serve: Serve) -> None:
    drop = {"next": False}

    def answer(n: int, head: bytes) -> bytes | None:
        if drop["next"] and n > 1:  # a request on a kept connection, closed without an answer
            drop["next"] = False
            return None
        return ok(b"x")

    server, http = serve(answer)
    http.request("GET", "/")
    http._alive = lambda: http._sock is not None  # type: ignore[method-assign]  # the close is not seen in time
    drop["next"] = True
    assert http.request("GET", "/").content == b"x"  # sent again on a new connection
    assert server.connections == 2
    http.request("GET", "/")
    drop["next"] = True
    with pytest.raises(Transient, match="connection broken"):
        http.request("POST", "/putxml", content=b"<Configuration/>")  # dropped: never sent twice
    assert sum(r.startswith(b"POST") for r in server.requests) == 1


def test_header_values_cannot_carry_a_line_break(serve: Serve) -> None:
    server, http = serve(lambda n, head: ok())
    with pytest.raises(Exception, match="line break"):
        http.request("GET", "/", headers={"Cookie": "a=b\r\nX-Injected: 1"})
    assert server.requests == []


def test_digest_is_answered_unasked_once_the_challenge_is_known(serve: Serve) -> None:
    challenge = (b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="HDX", qop="auth", '
                 b'nonce="abc123", algorithm=MD5\r\nContent-Length: 0\r\n\r\n')
    server, http = serve(lambda n, head: ok() if b"Authorization: Digest" in head else challenge)
    login = BasicOrDigest("admin", "secret")
    answers: list[Response] = [http.request("POST", "/a_apicommand.cgi", auth=login, data={"apicommand": "x;"})
                               for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    sent = [r.split(b"\r\n\r\n")[0] for r in server.requests]
    assert len(sent) == 4  # one challenge, then every request answered at once
    assert b"Authorization" not in sent[0] and all(b"nc=0000000" in s for s in sent[1:])
    assert b"secret" not in b"".join(server.requests)
