"""Servers for the doctor's tests, on loopback only.

- `kamailio(...)`: Debian's Kamailio with its TLS module, answering OPTIONS (the real thing,
  started through `endpoints.lab.sip_server`, the same code `lab up --sip` uses), or a
  clear skip when it is not installed (CI installs it in `.ci/run`, so it runs there).
- `TlsServer`: a few lines of Python that accept TLS and then behave badly on purpose:
  say nothing, trickle `100 Trying` forever, or answer with a chosen reply. It also keeps
  the requests it received, so the tests can read what doctor sent.
"""
from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from endpoints.lab.sip_server import (
    CertificateAuthority,
    Issued,
    SipServer,
    kamailio_binary,
    tls_module_installed,
)

LAB_NAME = "sip.lab.test"


def require_kamailio() -> None:
    binary = kamailio_binary()
    if binary is None:
        pytest.skip("kamailio is not installed (apt-get install kamailio kamailio-tls-modules; .ci/run does)")
    if not tls_module_installed(binary):
        pytest.skip("kamailio's TLS module is not installed (apt-get install kamailio-tls-modules)")


@contextmanager
def kamailio(folder: Path, certificate: Issued, addresses: tuple[str, ...] = ("127.0.0.1",)) -> Iterator[SipServer]:
    require_kamailio()
    server = SipServer(folder, certificate, addresses=addresses)
    with server:
        yield server


def write_bundle(folder: Path, *authorities: CertificateAuthority) -> Path:
    """A CA bundle file, as SSL_CERT_FILE wants it."""
    path = folder / f"bundle-{len(list(folder.glob('bundle-*')))}.pem"
    path.write_bytes(b"".join(a.cert_pem for a in authorities))
    return path


Behaviour = Callable[["TlsServer", ssl.SSLSocket], None]


def silent(server: TlsServer, conn: ssl.SSLSocket) -> None:
    """Read whatever comes and never answer."""
    conn.settimeout(0.1)
    while not server.stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def trickle(server: TlsServer, conn: ssl.SSLSocket) -> None:
    """Answer `100 Trying` every 0.2 s for ever: only a total deadline ends the wait."""
    request = server.read_request(conn)
    while not server.stop.is_set():
        conn.sendall(reply_to(request, "100 Trying"))
        if server.stop.wait(0.2):
            return


def answer(status: str, *, before: tuple[str, ...] = ()) -> Behaviour:
    """Read one request, send the provisional replies `before`, then `status`."""
    def behaviour(server: TlsServer, conn: ssl.SSLSocket) -> None:
        request = server.read_request(conn)
        for provisional in before:
            conn.sendall(reply_to(request, provisional))
        conn.sendall(reply_to(request, status))
        server.stop.wait(5)
    return behaviour


def reply_to(request: str, status: str) -> bytes:
    """A response copying Via, From, To, Call-ID and CSeq from the request (RFC 3261 §8.2.6.2)."""
    copied = [line for line in request.split("\r\n")[1:]
              if line.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    return ("\r\n".join([f"SIP/2.0 {status}", *copied, "Server: test-tls-server", "Content-Length: 0"])
            + "\r\n\r\n").encode()


class TlsServer:
    """Accepts TLS on 127.0.0.1 with `certificate` and runs `behaviour` per connection."""

    def __init__(self, certificate: Issued, behaviour: Behaviour, *, address: str = "127.0.0.1",
                 on_accept: Callable[[], None] | None = None) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
            certificate.write(cert, key)
            self.context.load_cert_chain(cert, key)
        self.behaviour = behaviour
        self.on_accept = on_accept
        self.listener = socket.create_server((address, 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.requests: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TlsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.listener.close()

    def read_request(self, conn: ssl.SSLSocket) -> str:
        """One request's head, kept in `requests` for the test to read."""
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        text = data.decode()
        self.requests.append(text)
        return text

    def _serve(self) -> None:
        workers = []
        while not self.stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            worker = threading.Thread(target=self._handle, args=(raw,), daemon=True)
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join(10)

    def _handle(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(5)
            with self.context.wrap_socket(raw, server_side=True) as conn:
                if self.on_accept:
                    self.on_accept()
                self.behaviour(self, conn)
        except (OSError, ssl.SSLError):
            pass  # a client that refused our certificate, or went away: its side is what is tested
        finally:
            raw.close()
