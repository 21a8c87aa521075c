"""HttpTransport against real loopback servers: trust policies and error mapping."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from endpoints.errors import TLSVerifyFailed, Transient, Unreachable
from endpoints.host import Host, TlsPolicy
from endpoints.lab.net import Certificate, LabLoop, free_port, make_certificate, serve_http
from endpoints.transports.http import HttpTransport


@dataclass
class Server:
    certificate: Certificate
    https: int
    http: int
    seen: list[str] = field(default_factory=list)  # paths the server received


@pytest.fixture(scope="module")
def server(lab: LabLoop) -> Iterator[Server]:
    server = Server(make_certificate("localhost"), free_port(), free_port())

    async def hello(request: web.Request) -> web.Response:
        server.seen.append(request.path)
        return web.Response(text="hello")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.Response(text="late")

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError

    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    def app() -> web.Application:
        application = web.Application()
        application.router.add_get("/", hello)
        application.router.add_get("/slow", slow)
        application.router.add_get("/drop", drop)
        application.router.add_get("/moved", moved)
        return application

    runners = [lab.call(serve_http(app(), server.https, tls=server.certificate)),
               lab.call(serve_http(app(), server.http))]
    yield server
    for runner in runners:
        lab.call(runner.cleanup())


def host(tls: TlsPolicy, address: str = "127.0.0.1") -> Host:
    return Host("room-t", address, tls=tls)


def test_pinned_certificate_is_accepted(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(pin=server.certificate.sha256)), "https", server.https, timeout=5) as http:
        assert http.request("GET", "/").text == "hello"
        assert http.presented_fingerprint == server.certificate.sha256
        assert not http.key_changed


def test_pin_accepts_the_colon_and_prefix_forms(server: Server) -> None:
    fp = server.certificate.sha256
    pin = "SHA256:" + ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
    with HttpTransport(host(TlsPolicy(pin=pin)), "https", server.https, timeout=5) as http:
        assert http.request("GET", "/").status_code == 200


def test_pin_mismatch_fails_before_any_request_is_sent(server: Server) -> None:
    wrong = "0" * 64
    before = len(server.seen)
    with HttpTransport(host(TlsPolicy(pin=wrong)), "https", server.https, timeout=5) as http, pytest.raises(TLSVerifyFailed) as failure:
        http.request("GET", "/", auth=("admin", "device-secret-1"))
    text = str(failure.value)
    assert server.certificate.sha256 in text and wrong in text and "endpoints recover" in text
    assert len(server.seen) == before  # no request (and no Basic credentials) reached the peer


def test_pin_mismatch_is_accepted_for_recovery(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(pin="1" * 64)), "https", server.https, timeout=5,
                       trust_changed_key=True) as http:
        assert http.request("GET", "/").status_code == 200
        assert http.key_changed and http.presented_fingerprint == server.certificate.sha256


def test_self_signed_certificate_fails_system_verification_with_a_pin_hint(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(verify=True)), "https", server.https, timeout=5) as http, pytest.raises(TLSVerifyFailed) as failure:
        http.request("GET", "/")
    assert f"tls_verify: sha256:{server.certificate.sha256}" in str(failure.value)
    assert "self-signed" in str(failure.value)


def test_ca_bundle_verifies(server: Server, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(server.certificate.cert_pem)
    with HttpTransport(host(TlsPolicy(ca_bundle=bundle), address="localhost"), "https", server.https,
                       timeout=5) as http:
        assert http.request("GET", "/").text == "hello"


def test_ca_bundle_checks_the_host_name(server: Server, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(server.certificate.cert_pem)
    transport = HttpTransport(host(TlsPolicy(ca_bundle=bundle)), "https", server.https, timeout=5)
    with transport as http, pytest.raises(TLSVerifyFailed):
        http.request("GET", "/")  # the certificate names localhost, not 127.0.0.1


def test_verification_off_still_records_the_fingerprint(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(verify=False)), "https", server.https, timeout=5) as http:
        assert http.request("GET", "/").status_code == 200
        assert http.presented_fingerprint == server.certificate.sha256


def test_recovery_accepts_a_certificate_the_ca_does_not_know(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(verify=True)), "https", server.https, timeout=5,
                       trust_changed_key=True) as http:
        assert http.request("GET", "/").status_code == 200
        assert http.key_changed and http.presented_fingerprint == server.certificate.sha256


def test_refused_connection_is_unreachable() -> None:
    with HttpTransport(host(TlsPolicy()), "http", free_port(), timeout=2) as http, pytest.raises(Unreachable, match="refused"):
        http.request("GET", "/")


def test_tls_to_a_plain_port_is_unreachable(server: Server) -> None:
    with HttpTransport(host(TlsPolicy(verify=False)), "https", server.http, timeout=2) as http, pytest.raises(Unreachable, match="TLS handshake"):
        http.request("GET", "/")


def test_read_timeout_is_transient(server: Server) -> None:
    with HttpTransport(host(TlsPolicy()), "http", server.http, timeout=0.3) as http, pytest.raises(Transient, match="no complete answer"):
        http.request("GET", "/slow")


def test_dropped_connection_is_transient(server: Server) -> None:
    with HttpTransport(host(TlsPolicy()), "http", server.http, timeout=2) as http, pytest.raises(Transient, match="connection broken"):
        http.request("GET", "/drop")


def test_redirects_are_returned_not_followed(server: Server) -> None:
    with HttpTransport(host(TlsPolicy()), "http", server.http, timeout=2) as http:
        response = http.request("GET", "/moved")
    assert response.status_code == 302 and response.headers["Location"] == "/elsewhere"
