"""HTTP(S) to one device, with the inventory's trust policy, a total deadline per request
and one mapping of errors to ours.

Shared by the Cisco xAPI and Polycom drivers: it knows nothing of either API. It never
follows redirects (a driver decides what a redirect means) and never reads proxies or
CA paths from the environment: trust comes from the inventory alone.

- Certificate pins are checked inside the TLS handshake, before a single request byte
  (and so before any Basic-auth header) goes to the peer.
- httpx has no total timeout, only per-read ones, so a device that drips its answer
  would hold a room for ever. Requests run on httpcore through a network backend whose
  every read and write is clamped to the request's `Deadline`.
- One connection per room, kept alive across the room's requests: each new connection is
  a TCP and TLS handshake the codec's small web server must accept.
"""
from __future__ import annotations

import contextvars
import hashlib
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any, Literal, Self

import httpcore
import httpx

from endpoints.errors import DeviceError, InputError, TLSVerifyFailed, Transient, Unreachable
from endpoints.host import Host
from endpoints.transports.base import Deadline, map_os_error

log = logging.getLogger(__name__)

Scheme = Literal["http", "https"]
TRUST_HINT = ("codecs carry self-signed certificates: check sha256:{fp} and record it with `endpoints trust "
              "--accept` (or pin it with tls_verify: sha256:{fp})")

_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("endpoints_http_deadline",
                                                                            default=None)


def fingerprint(der: bytes) -> str:
    """The pin form of a certificate: sha256 of the DER bytes, lower-case hex, no colons."""
    return hashlib.sha256(der).hexdigest()


def normalise_pin(pin: str) -> str:
    return pin.lower().removeprefix("sha256:").replace(":", "").strip()


class HttpTransport:
    """One device's HTTP(S) API: `request()` returns the response or raises a DeviceError."""

    def __init__(self, host: Host, scheme: Scheme, port: int, *, timeout: float,
                 trust_changed_key: bool = False) -> None:
        self.host, self.scheme, self.port = host, scheme, port
        self.timeout = timeout
        self.trust_changed_key = trust_changed_key
        self.presented_fingerprint: str | None = None  # of the last TLS handshake
        self.key_changed = False  # a changed certificate was accepted (recovery only)
        self.connections = 0  # TCP connections made (the benchmark counts them)
        self.base_url = f"{scheme}://{_url_host(host.address)}:{port}"
        self.where = f"{host.name} ({self.base_url})"
        self._client = self._new_client(self._ssl_context() if scheme == "https" else None)

    # --- public API ----------------------------------------------------------------------

    def request(self, method: str, path: str, *, deadline: Deadline | None = None, **kwargs: Any) -> httpx.Response:
        """Send one request (httpx keyword arguments) and read its whole answer within the
        deadline (default: the transport's timeout); redirects are returned, not followed."""
        deadline = deadline or Deadline(self.timeout)
        try:
            response = self._send(method, path, deadline, kwargs)
        except TLSVerifyFailed:
            if not (self.trust_changed_key and self.host.tls.verify and not self.host.tls.pin):
                raise
            self._accept_unverified()
            response = self._send(method, path, deadline, kwargs)
        log.debug("%s %s %s -> %s", self.host.name, method, path, response.status_code)
        return response

    def close(self) -> None:
        try:
            self._client.close()
        except (OSError, httpx.HTTPError, httpcore.NetworkError):  # closing must never hide the real outcome
            log.debug("%s: error while closing the HTTP client", self.host.name, exc_info=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------

    def _send(self, method: str, path: str, deadline: Deadline, kwargs: dict[str, Any]) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        token = _DEADLINE.set(deadline)
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # raised by httpx itself (e.g. a bad URL), not by the network
            raise Transient(f"{self.where}: {type(exc).__name__}: {exc}") from None
        finally:
            _DEADLINE.reset(token)

    def _new_client(self, context: ssl.SSLContext | None) -> httpx.Client:
        transport = _DeadlineTransport(self, context)
        return httpx.Client(base_url=self.base_url, transport=transport, trust_env=False,
                            timeout=self.timeout, follow_redirects=False)

    def _ssl_context(self) -> ssl.SSLContext:
        tls = self.host.tls
        if tls.pin or not tls.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            try:
                context = ssl.create_default_context(cafile=str(tls.ca_bundle) if tls.ca_bundle else None)
            except (OSError, ssl.SSLError) as exc:
                raise InputError(f"cannot load the CA bundle {tls.ca_bundle}: {exc}",
                                 file=self.host.origin("tls_verify"), key="tls_verify") from None
        context.sslsocket_class = _socket_class(self._check_certificate)
        return context

    def _check_certificate(self, der: bytes) -> None:
        """Runs inside every handshake: record the fingerprint, enforce a pin."""
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
        raise TLSVerifyFailed(
            f"{self.host.name}: certificate fingerprint sha256:{presented} does not match the recorded "
            f"sha256:{normalise_pin(pin)}: if this room was factory reset run `endpoints recover`, "
            "otherwise investigate")

    def _accept_unverified(self) -> None:
        """Recovery with CA verification: take the (regenerated) self-signed certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.sslsocket_class = _socket_class(self._record_only)
        self._client.close()
        self._client = self._new_client(context)
        self.key_changed = True

    def _record_only(self, der: bytes) -> None:
        self.presented_fingerprint = fingerprint(der)
        log.warning("%s: accepting an unverified TLS certificate sha256:%s (recovery)", self.host.name,
                    self.presented_fingerprint)

    def mapped(self, exc: BaseException) -> DeviceError:
        """The one mapping of what httpcore raises to our errors."""
        causes = _causes(exc)
        verify = next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None)
        if verify is not None:
            fp = presented_certificate_fingerprint(self.host.address, self.port, self.timeout)
            return TLSVerifyFailed(f"{self.where}: certificate did not verify ({verify.verify_message}); "
                                   + TRUST_HINT.format(fp=fp or "<fingerprint>"))
        connecting = isinstance(exc, (httpcore.ConnectError, httpcore.ConnectTimeout))
        if isinstance(exc, httpcore.ConnectTimeout):
            return Unreachable(f"{self.where}: connection timed out")
        if isinstance(exc, (httpcore.ReadTimeout, httpcore.WriteTimeout, httpcore.PoolTimeout)):
            return Transient(f"{self.where}: no complete answer within the deadline "
                             f"({(_DEADLINE.get() or Deadline(self.timeout)).seconds:g} s)")
        os_error = next((c for c in causes if isinstance(c, OSError)), None)
        if os_error is not None:
            return map_os_error(os_error, self.where, connecting=connecting, what=self.scheme.upper())
        if connecting:
            return Unreachable(f"{self.where}: cannot connect: {_reason(exc)}")
        return Transient(f"{self.where}: connection broken: {_reason(exc)}")


class _DeadlineTransport(httpx.BaseTransport):
    """httpx's transport contract on an httpcore pool whose I/O honours the request deadline.

    The answer is read whole inside `handle_request`, so every network failure of a
    request surfaces here, where it is mapped once."""

    def __init__(self, owner: HttpTransport, context: ssl.SSLContext | None) -> None:
        self._owner = owner
        self._pool = httpcore.ConnectionPool(ssl_context=context, max_connections=1,
                                             max_keepalive_connections=1, keepalive_expiry=60.0,
                                             network_backend=_DeadlineBackend(owner))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                             target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        try:
            response = self._pool.handle_request(core)
            try:
                content = b"".join(response.stream)  # type: ignore[arg-type]
            finally:
                response.close()
        except httpcore.TimeoutException as exc:
            raise self._owner.mapped(exc) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            raise self._owner.mapped(exc) from None
        return httpx.Response(status_code=response.status, headers=response.headers, content=content,
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


def _clamp(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, owner: HttpTransport) -> None:
        self._owner = owner
        self._sync = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        self._owner.connections += 1
        stream = self._sync.connect_tcp(host, port, _clamp(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._sync.sleep(seconds)


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


def _socket_class(check: Callable[[bytes], None]) -> type[ssl.SSLSocket]:
    """An SSLSocket that hands the peer certificate to `check` as soon as the handshake ends."""

    class CheckedSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            super().do_handshake(block)
            der = self.getpeercert(binary_form=True)
            if der is None:
                raise TLSVerifyFailed("the server presented no certificate")
            check(der)

    return CheckedSocket


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
