"""HTTP(S) to one device, with the inventory's trust policy and errors mapped to ours.

Shared by the Cisco xAPI and Polycom drivers: it knows nothing of either API. It never
follows redirects (a driver decides what a redirect means) and never reads proxies or
CA paths from the environment: trust comes from the inventory alone.

Certificate pins are checked inside the TLS handshake, before a single request byte
(and so before any Basic-auth header) goes to the peer.
"""
from __future__ import annotations

import hashlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any, Literal, Self

import httpx

from endpoints.errors import DeviceError, InputError, TLSVerifyFailed, Transient, Unreachable
from endpoints.host import Host

log = logging.getLogger(__name__)

Scheme = Literal["http", "https"]
PIN_HINT = "codecs carry self-signed certificates: pin it with tls_verify: sha256:{fp}"


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
        self.base_url = f"{scheme}://{_url_host(host.address)}:{port}"
        self._client = self._new_client(self._ssl_context() if scheme == "https" else None)

    # --- public API ----------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request (httpx keyword arguments); redirects are returned, not followed."""
        try:
            response = self._send(method, path, **kwargs)
        except TLSVerifyFailed:
            if not (self.trust_changed_key and self.host.tls.verify and not self.host.tls.pin):
                raise
            self._accept_unverified()
            response = self._send(method, path, **kwargs)
        log.debug("%s %s %s -> %s", self.host.name, method, path, response.status_code)
        return response

    def close(self) -> None:
        try:
            self._client.close()
        except (OSError, httpx.HTTPError):  # closing must never hide the real outcome
            log.debug("%s: error while closing the HTTP client", self.host.name, exc_info=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._mapped(exc) from None

    def _new_client(self, context: ssl.SSLContext | None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=context or False, trust_env=False,
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
                raise InputError(f"cannot load the CA bundle {tls.ca_bundle}: {_reason(exc)}",
                                 file=self.host.source, key="tls_verify") from None
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
            f"{self.host.name}: certificate fingerprint sha256:{presented} does not match the pinned "
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

    def _mapped(self, exc: httpx.HTTPError) -> DeviceError:
        where = f"{self.host.name} ({self.base_url})"
        causes = list(_causes(exc))
        if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
            return self._verify_failure(where, causes)
        if isinstance(exc, httpx.ConnectTimeout):
            return Unreachable(f"{where}: connection timed out")
        if isinstance(exc, httpx.ConnectError):
            return self._connect_failure(where, causes, exc)
        if isinstance(exc, httpx.TimeoutException):
            return Transient(f"{where}: no answer within {self.timeout:g} s")
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return Transient(f"{where}: connection broken: {_reason(exc)}")
        return Transient(f"{where}: {type(exc).__name__}: {_reason(exc)}")

    def _connect_failure(self, where: str, causes: list[BaseException], exc: Exception) -> DeviceError:
        if any(isinstance(c, socket.gaierror) for c in causes):
            return Unreachable(f"{where}: cannot resolve {self.host.address}")
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return Unreachable(f"{where}: connection refused (is {self.scheme.upper()} enabled on port "
                               f"{self.port}?)")
        if any(isinstance(c, ssl.SSLError) for c in causes):
            return Unreachable(f"{where}: TLS handshake failed ({_reason(exc)}): is this an HTTPS port?")
        return Unreachable(f"{where}: cannot connect: {_reason(exc)}")

    def _verify_failure(self, where: str, causes: list[BaseException]) -> TLSVerifyFailed:
        error = next(c for c in causes if isinstance(c, ssl.SSLCertVerificationError))
        presented = self._probe_fingerprint()
        hint = PIN_HINT.format(fp=presented) if presented else PIN_HINT.format(fp="<fingerprint>")
        return TLSVerifyFailed(f"{where}: certificate did not verify ({error.verify_message}); {hint}")

    def _probe_fingerprint(self) -> str | None:
        """Fetch the certificate without trusting it, only to print a pin the user can check."""
        try:
            pem = ssl.get_server_certificate((self.host.address, self.port), timeout=self.timeout)
        except (OSError, ValueError):
            return None
        return fingerprint(ssl.PEM_cert_to_DER_cert(pem))


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
