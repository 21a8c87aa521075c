"""HTTP(S) to one device, with the inventory's trust policy, a total deadline per request
and one mapping of errors to ours.

Shared by the Cisco xAPI and Polycom drivers: it knows nothing of either API. It never
follows redirects (a driver decides what a redirect means) and never reads proxies or
CA paths from the environment: trust comes from the inventory alone.

- Certificate pins are checked inside the TLS handshake, before a single request byte
  (and so before any Basic-auth header) goes to the peer.
- A total deadline per request: a device that drips its answer cannot hold a room for
  ever, because every socket operation waits at most what is left of the request's
  `Deadline`.
- One connection per room, kept alive across the room's requests (and across its wait
  for registration): each new connection is a TCP and TLS handshake the codec's small web
  server must accept. A kept connection the device closed while idle is noticed before
  the next request and opened again.

HTTP/1.1 is spoken here directly over the socket rather than through httpx: a room's
handful of requests to one device needs none of a general client's machinery (URL
objects, cookie jars, proxies, connection pools, redirect and auth flows), and that
machinery was most of the tool's CPU per request (see benchmarks/rollout.py). What is
implemented is what the devices use: Content-Length and chunked bodies, keep-alive,
Basic authentication and a pluggable challenge-response (`Auth`, for HDX Digest).
"""
from __future__ import annotations

import hashlib
import json as jsonlib
import logging
import select
import socket
import ssl
import threading
from base64 import b64encode
from collections.abc import Callable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any, Literal, Protocol, Self
from urllib.parse import urlencode

from endpoints.errors import (
    CertificateChanged,
    DeviceError,
    InputError,
    ProtocolError,
    TLSVerifyFailed,
    Transient,
    Unreachable,
)
from endpoints.host import Host
from endpoints.transports.base import Deadline, map_os_error, reason

log = logging.getLogger(__name__)

Scheme = Literal["http", "https"]
TRUST_HINT = ("codecs carry self-signed certificates: check sha256:{fp} and record it with `endpoints trust "
              "--accept` (or pin it with tls_verify: sha256:{fp})")
REDIRECTS = (301, 302, 303, 307, 308)
MAX_HEAD = 64 * 1024  # status line and headers; a device never sends more
MAX_BODY = 64 * 1024 * 1024
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")


def fingerprint(der: bytes) -> str:
    """The pin form of a certificate: sha256 of the DER bytes, lower-case hex, no colons."""
    return hashlib.sha256(der).hexdigest()


def normalise_pin(pin: str) -> str:
    return pin.lower().removeprefix("sha256:").replace(":", "").strip()


class Headers:
    """Response headers: case-insensitive, in the order received, repeated names kept."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self._items if k.lower() == wanted), default)

    def get_list(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self._items if k.lower() == wanted]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


class Response:
    """One answer, read whole: what the drivers look at."""

    __slots__ = ("status_code", "reason", "headers", "content")

    def __init__(self, status_code: int, reason: str, headers: Headers, content: bytes) -> None:
        self.status_code, self.reason, self.headers, self.content = status_code, reason, headers, content

    @property
    def text(self) -> str:
        content_type = self.headers.get("content-type") or ""
        charset = next((p.split("=", 1)[1].strip(' "') for p in content_type.split(";")[1:]
                        if p.strip().lower().startswith("charset=")), "utf-8")
        try:
            return self.content.decode(charset, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def is_redirect(self) -> bool:
        return self.status_code in REDIRECTS and "location" in self.headers

    @property
    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for header in self.headers.get_list("set-cookie"):
            try:
                parsed = SimpleCookie(header)
            except CookieError:
                continue
            found.update({name: morsel.value for name, morsel in parsed.items()})
        return found


class Auth(Protocol):
    """A challenge-response login (HTTP Digest): headers for a request, and whether a 401's
    challenge was understood so that the request goes once more with new headers."""

    def headers(self, method: str, target: str) -> dict[str, str]: ...

    def challenge(self, response: Response) -> bool: ...


class HttpTransport:
    """One device's HTTP(S) API: `request()` returns the response or raises a DeviceError."""

    def __init__(self, host: Host, scheme: Scheme, port: int, *, timeout: float,
                 trust_changed_key: bool = False) -> None:
        self.host, self.scheme, self.port = host, scheme, port
        self.timeout = timeout
        self.trust_changed_key = trust_changed_key
        self.presented_fingerprint: str | None = None  # of the last TLS handshake
        self.key_changed = False  # a changed certificate was accepted (recovery only)
        self.connections = 0  # TCP connections made
        self.authority = _url_host(host.address) + ("" if port == (443 if scheme == "https" else 80) else f":{port}")
        self.base_url = f"{scheme}://{_url_host(host.address)}:{port}"
        self.where = f"{host.name} ({self.base_url})"
        self._context = self._ssl_context() if scheme == "https" else None
        self._check: Callable[[bytes], None] = self._check_certificate  # after every handshake
        self._sock: socket.socket | None = None
        self._buffer = b""  # bytes read past the end of the last answer (never expected)

    # --- public API ----------------------------------------------------------------------

    def request(self, method: str, path: str, *, deadline: Deadline | None = None,
                params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
                content: bytes | str | None = None, json: Any = None, data: Mapping[str, str] | None = None,
                auth: tuple[str, str] | Auth | None = None, follow_redirects: bool = False) -> Response:
        """Send one request and read its whole answer within the deadline (default: the
        transport's timeout); redirects are returned, not followed."""
        deadline = deadline or Deadline(self.timeout)
        target = path + ("?" + urlencode(params) if params else "")
        fields = dict(headers or {})
        body = _body(content, json, data, fields)
        challenger = None
        if isinstance(auth, tuple):
            fields["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        elif auth is not None:
            challenger = auth
            fields.update(auth.headers(method, target))
        response = self._exchange(method, target, fields, body, deadline)
        if challenger is not None and response.status_code == 401 and challenger.challenge(response):
            response = self._exchange(method, target, {**fields, **challenger.headers(method, target)}, body,
                                      deadline)
        log.debug("%s %s %s -> %s", self.host.name, method, path, response.status_code)
        return response

    def close(self) -> None:
        sock, self._sock, self._buffer = self._sock, None, b""
        if sock is not None:
            try:
                sock.close()
            except OSError:  # closing must never hide the real outcome
                log.debug("%s: error while closing the connection", self.host.name, exc_info=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one exchange --------------------------------------------------------------------

    def _exchange(self, method: str, target: str, fields: dict[str, str], body: bytes,
                  deadline: Deadline) -> Response:
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.authority}", "Accept: */*",
                "User-Agent: endpoints"]
        for name, value in fields.items():
            if "\r" in value or "\n" in value:
                raise ProtocolError(f"{self.where}: a line break in the {name} header")
            head.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        reused = self._alive()
        try:
            sock = self._connected(deadline)
        except TLSVerifyFailed:
            if not (self.trust_changed_key and self.host.tls.verify and not self.host.tls.pin):
                raise
            self._accept_unverified()
            sock = self._connected(deadline)
        try:
            try:
                return self._round_trip(sock, method, message, deadline)
            except _NoAnswer:
                self.close()
                if not (reused and method in IDEMPOTENT):
                    raise
            # The device closed the kept connection just as the request went: once more.
            return self._round_trip(self._connected(deadline), method, message, deadline)
        except _NoAnswer:
            self.close()
            raise Transient(f"{self.where}: connection broken: the device closed the connection "
                            "without an answer") from None
        except BaseException:
            self.close()
            raise

    def _round_trip(self, sock: socket.socket, method: str, message: bytes, deadline: Deadline) -> Response:
        try:
            try:
                sock.settimeout(deadline.timeout())
                sock.sendall(message)
            except OSError as exc:  # the device went away between requests: no answer to wait for
                raise _NoAnswer from exc
            reader = _Reader(sock, deadline, self._buffer)
            response, keep = _read_response(reader, method)
        except TimeoutError:
            self.close()
            raise Transient(f"{self.where}: no complete answer within the deadline ({deadline.seconds:g} s)") from None
        except (_NoAnswer, TLSVerifyFailed):
            raise
        except ssl.SSLError as exc:
            self.close()
            raise Transient(f"{self.where}: connection broken: {reason(exc)}") from None
        except OSError as exc:
            self.close()
            raise map_os_error(exc, self.where, connecting=False, what=self.scheme.upper()) from None
        except _BadAnswer as exc:
            self.close()
            raise Transient(f"{self.where}: connection broken: {exc}") from None
        if keep:
            self._buffer = reader.rest()
        else:
            self.close()
        return response

    def _alive(self) -> bool:
        """Whether the kept connection is still open (a device closes idle ones): a readable
        idle socket means the device said goodbye."""
        sock = self._sock
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return True
            sock.settimeout(0)
            try:
                sock.recv(1)  # b"": closed; bytes: something no request asked for
            except ssl.SSLWantReadError:
                return True  # only TLS housekeeping (a session ticket) was waiting
        except (OSError, ValueError):
            pass
        self.close()
        return False

    def _connected(self, deadline: Deadline) -> socket.socket:
        if self._sock is not None:
            return self._sock
        self.connections += 1
        try:
            sock = socket.create_connection((self.host.address, self.port), timeout=deadline.timeout())
        except OSError as exc:
            raise map_os_error(exc, self.where, connecting=True, what=self.scheme.upper()) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is not None:
                sock.settimeout(deadline.timeout())
                sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname())
                der = sock.getpeercert(binary_form=True)  # checked before a request byte is sent
                if not der:
                    raise TLSVerifyFailed(f"{self.where}: the server presented no certificate")
                self._check(der)
        except TLSVerifyFailed:
            sock.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise self._verify_failed(exc) from None
        except OSError as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise Unreachable(f"{self.where}: connection timed out") from None
            raise map_os_error(exc, self.where, connecting=True, what=self.scheme.upper()) from None
        self._sock, self._buffer = sock, b""
        return sock

    def _server_hostname(self) -> str | None:
        assert self._context is not None
        return self.host.address.strip("[]") if self._context.check_hostname else None

    # --- trust -----------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        tls = self.host.tls
        if tls.pin or not tls.verify:
            return _unverified_context()
        try:
            return _verifying_context(str(tls.ca_bundle) if tls.ca_bundle else None)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"cannot load the CA bundle {tls.ca_bundle}: {exc}",
                             file=self.host.origin("tls_verify"), key="tls_verify") from None

    def _check_certificate(self, der: bytes) -> None:
        """Runs after every handshake, before any request: record the fingerprint, enforce a pin."""
        presented = fingerprint(der)
        self.presented_fingerprint = presented
        pin = self.host.tls.pin
        if pin is None or normalise_pin(pin) == presented:
            return
        if self.trust_changed_key:
            log.warning("%s: accepting a changed TLS certificate sha256:%s (recovery)", self.host.name,
                        presented)
            self.key_changed = True
            return
        raise CertificateChanged(
            f"{self.host.name}: certificate fingerprint sha256:{presented} does not match the recorded "
            f"sha256:{normalise_pin(pin)}: if this room was factory reset run `endpoints recover`, "
            "otherwise investigate")

    def _verify_failed(self, exc: ssl.SSLCertVerificationError) -> TLSVerifyFailed:
        if self.trust_changed_key and self.host.tls.verify and not self.host.tls.pin:
            return TLSVerifyFailed(f"{self.where}: certificate did not verify ({exc.verify_message})")
        fp = presented_certificate_fingerprint(self.host.address, self.port, self.timeout)
        return TLSVerifyFailed(f"{self.where}: certificate did not verify ({exc.verify_message}); "
                               + TRUST_HINT.format(fp=fp or "<fingerprint>"))

    def _accept_unverified(self) -> None:
        """Recovery with CA verification: take the (regenerated) self-signed certificate."""
        self.close()
        self._context, self._check = _unverified_context(), self._record_only
        self.key_changed = True

    def _record_only(self, der: bytes) -> None:
        self.presented_fingerprint = fingerprint(der)
        log.warning("%s: accepting an unverified TLS certificate sha256:%s (recovery)", self.host.name,
                    self.presented_fingerprint)


# --- reading an answer -------------------------------------------------------------------------

class _NoAnswer(Exception):
    """The connection ended before the first byte of an answer."""


class _BadAnswer(Exception):
    """Not HTTP, or cut off mid-answer."""


class _Reader:
    """Buffered reads from one socket, each waiting at most what is left of the deadline."""

    __slots__ = ("_sock", "_deadline", "_data", "_got_any")

    def __init__(self, sock: socket.socket, deadline: Deadline, data: bytes) -> None:
        self._sock, self._deadline, self._data = sock, deadline, data
        self._got_any = bool(data)

    def _more(self) -> None:
        if self._deadline.expired():
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(self._deadline.timeout())
        try:
            # 16 KiB, not 64: each read allocates its size before shrinking to what came, and
            # 200 threads doing that fragmented the heap into tens of MB (benchmarks/rollout.py)
            chunk = self._sock.recv(16384)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            chunk = b""
        if not chunk:
            if not self._got_any:
                raise _NoAnswer
            raise _BadAnswer("the device closed the connection mid-answer")
        self._got_any = True
        self._data += chunk

    def line(self, limit: int = MAX_HEAD) -> bytes:
        while True:
            end = self._data.find(b"\r\n")
            if end >= 0:
                line, self._data = self._data[:end], self._data[end + 2:]
                return line
            if len(self._data) > limit:
                raise _BadAnswer("an answer line too long")
            self._more()

    def head(self) -> bytes:
        """Status line and headers, up to the blank line."""
        while True:
            end = self._data.find(b"\r\n\r\n")
            if end >= 0:
                head, self._data = self._data[:end], self._data[end + 4:]
                return head
            if len(self._data) > MAX_HEAD:
                raise _BadAnswer("answer headers too long")
            self._more()

    def exactly(self, size: int) -> bytes:
        while len(self._data) < size:
            self._more()
        data, self._data = self._data[:size], self._data[size:]
        return data

    def to_end(self) -> bytes:
        """An answer without a length ends when the device closes the connection."""
        while True:
            try:
                self._more()
            except _BadAnswer:  # closed (the head came, so this is not _NoAnswer): the end
                break
            if len(self._data) > MAX_BODY:
                raise _BadAnswer("an answer too large")
        data, self._data = self._data, b""
        return data

    def rest(self) -> bytes:
        return self._data


def _read_response(reader: _Reader, method: str) -> tuple[Response, bool]:
    """One answer (1xx answers skipped) and whether the connection may carry the next."""
    while True:
        status, reason, version, headers = _parse_head(reader.head())
        if status >= 200 or status == 101:
            break
    connection = (headers.get("connection") or "").lower()
    keep = ("close" not in connection) if version == "HTTP/1.1" else ("keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, reason, headers, b""), keep
    encoding = (headers.get("transfer-encoding") or "").lower()
    if "chunked" in encoding:
        return Response(status, reason, headers, _chunked(reader)), keep
    length = headers.get("content-length")
    if length is not None:
        try:
            size = int(length.split(",")[0])
        except ValueError:
            raise _BadAnswer(f"a bad Content-Length {length!r}") from None
        if not 0 <= size <= MAX_BODY:
            raise _BadAnswer(f"a bad Content-Length {length!r}")
        return Response(status, reason, headers, reader.exactly(size)), keep
    return Response(status, reason, headers, reader.to_end()), False


def _parse_head(head: bytes) -> tuple[int, str, str, Headers]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise _BadAnswer(f"not an HTTP answer: {lines[0][:60]!r}")
    items = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name and not name[0].isspace():
            items.append((name.strip(), value.strip()))
        elif items and line[:1] in (" ", "\t"):  # an obsolete folded header line
            items[-1] = (items[-1][0], items[-1][1] + " " + line.strip())
    return int(parts[1]), parts[2] if len(parts) > 2 else "", parts[0], Headers(items)


def _chunked(reader: _Reader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = reader.line().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _BadAnswer(f"a bad chunk size {size_line[:20]!r}") from None
        if size == 0:
            while reader.line():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        total += size
        if total > MAX_BODY:
            raise _BadAnswer("an answer too large")
        chunks.append(reader.exactly(size))
        if reader.exactly(2) != b"\r\n":
            raise _BadAnswer("a chunk without its line end")


def _body(content: bytes | str | None, json: Any, data: Mapping[str, str] | None, fields: dict[str, str]) -> bytes:
    if json is not None:
        fields.setdefault("Content-Type", "application/json")
        return jsonlib.dumps(json).encode("utf-8")
    if data is not None:
        fields.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode(data).encode("ascii")
    if isinstance(content, str):
        return content.encode("utf-8")
    return content or b""


# --- certificates ------------------------------------------------------------------------------

def presented_certificate(address: str, port: int, timeout: float) -> bytes:
    """The certificate a TLS server presents, fetched without trusting it (a handshake only)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = Deadline(timeout)
    where = f"https {address}:{port}"
    try:
        with socket.create_connection((address, port), timeout=deadline.timeout()) as raw:
            raw.settimeout(deadline.timeout())
            with context.wrap_socket(raw, server_hostname=None) as tls:
                der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        raise map_os_error(exc, where, connecting=True, what="HTTPS") from None
    if not der:
        raise TLSVerifyFailed(f"{where}: the server presented no certificate")
    return der


def presented_certificate_fingerprint(address: str, port: int, timeout: float) -> str | None:
    """Only to print a pin the user can check; None when it cannot be fetched."""
    try:
        return fingerprint(presented_certificate(address, port, timeout))
    except DeviceError:
        return None


_contexts: dict[str | None, ssl.SSLContext] = {}  # by CA bundle; _UNVERIFIED: no verification
_contexts_lock = threading.Lock()
_UNVERIFIED = "\0unverified"


def _unverified_context() -> ssl.SSLContext:
    """For pinned rooms (the pin is checked after the handshake) and `tls_verify: false`."""
    with _contexts_lock:
        context = _contexts.get(_UNVERIFIED)
        if context is None:
            context = _contexts[_UNVERIFIED] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _verifying_context(ca_bundle: str | None) -> ssl.SSLContext:
    """One per CA bundle (None: the system's) for the whole run: loading a CA store costs
    some 20 ms of CPU, too much to pay per room. Contexts are safe to share between threads."""
    with _contexts_lock:
        context = _contexts.get(ca_bundle)
        if context is None:
            context = _contexts[ca_bundle] = ssl.create_default_context(cafile=ca_bundle)
        return context




def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address

