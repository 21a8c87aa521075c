"""`doctor`'s path checks against a real Kamailio over TLS, and against servers that misbehave.

Only loopback addresses; the DNS is always an injected resolver; the CAs are made here and
trusted the way an operator would, through SSL_CERT_FILE.
"""
from __future__ import annotations

import datetime
import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kamailio.servers import LAB_NAME, TlsServer, answer, kamailio, silent, trickle, write_bundle
from rich.console import Console

from endpoints.desired import Proxy
from endpoints.doctor import check_proxies, exit_code, proxies_of, render, resolve_all
from endpoints.doctor import proxy as doctor_proxy
from endpoints.doctor.model import ProxyReport
from endpoints.host import Host, SipVars
from endpoints.lab.sip_server import CertificateAuthority, SipServer, free_port

ADDRESSES = ("127.0.0.1", "127.0.0.2")


def no_dns(name: str) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def resolver_for(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(name: str) -> list[str]:
        if name in table:
            return table[name]
        return no_dns(name)
    return resolve


def checks_of(report: ProxyReport) -> dict[str, tuple[str, str, str]]:
    return {c.name: (c.verdict, c.detail, c.advice) for c in report.checks}


@pytest.fixture(scope="module")
def authority() -> CertificateAuthority:
    return CertificateAuthority("doctor test CA")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, authority: CertificateAuthority) -> Iterator[SipServer]:
    """Kamailio on two loopback addresses, one port, a certificate naming both and sip.lab.test."""
    folder = tmp_path_factory.mktemp("kamailio")
    with kamailio(folder, authority.issue((LAB_NAME,), ADDRESSES), ADDRESSES) as running:
        yield running


@pytest.fixture
def trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, authority: CertificateAuthority) -> Path:
    """This machine trusts the test CA (and nothing else), as `SSL_CERT_FILE=ca.pem` makes it."""
    bundle = write_bundle(tmp_path, authority)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return bundle


# --- against Kamailio -----------------------------------------------------------------------

def test_an_address_proxy_passes_against_kamailio(server: SipServer, trusted: Path) -> None:
    proxy = Proxy("127.0.0.1", server.port)
    [report] = check_proxies({proxy: ["room-a", "room-b"]}, resolver=no_dns, timeout=5)
    checks = checks_of(report)
    assert [c.name for c in report.checks] == ["dns", "tcp 127.0.0.1", "tls 127.0.0.1", "sip 127.0.0.1"]
    assert all(c.passed for c in report.checks), report.checks
    assert checks["dns"][1].startswith("not needed")
    assert "issued by doctor test CA" in checks["tls 127.0.0.1"][1]
    assert "days left" in checks["tls 127.0.0.1"][1]
    assert checks["tls 127.0.0.1"][2] == ""  # the certificate names 127.0.0.1: no note
    assert checks["sip 127.0.0.1"][1].startswith("SIP/2.0 200 OK")
    assert "kamailio" in checks["sip 127.0.0.1"][1]
    assert exit_code([report]) == 0


def test_a_name_proxy_passes_with_sni_and_the_name_checked(server: SipServer, trusted: Path) -> None:
    proxy = Proxy(LAB_NAME, server.port)
    [report] = check_proxies({proxy: ["room-a"]}, resolver=resolver_for({LAB_NAME: ["127.0.0.1"]}))
    assert all(c.passed for c in report.checks), report.checks
    assert checks_of(report)["dns"][1] == f"{LAB_NAME} → 127.0.0.1"


def test_every_address_of_a_name_is_checked(server: SipServer, trusted: Path) -> None:
    """Kamailio listens on two of the three addresses the name gives: the third one fails."""
    proxy = Proxy(LAB_NAME, server.port)
    table = {LAB_NAME: ["127.0.0.1", "127.0.0.2", "127.0.0.3"]}
    [report] = check_proxies({proxy: ["room-a"]}, resolver=resolver_for(table), timeout=5)
    checks = checks_of(report)
    for address in ADDRESSES:
        for step in ("tcp", "tls", "sip"):
            assert checks[f"{step} {address}"][0] == "passed", checks
    assert checks["tcp 127.0.0.3"][0] == "failed"
    assert checks["tls 127.0.0.3"][0] == checks["sip 127.0.0.3"][0] == "skipped"
    assert exit_code([report]) == 2


def test_a_certificate_from_another_ca_fails_tls(server: SipServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine trusts another CA only: what a TLS-inspecting firewall looks like from here."""
    monkeypatch.setenv("SSL_CERT_FILE", str(write_bundle(tmp_path, CertificateAuthority("some other CA"))))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    [report] = check_proxies({Proxy("127.0.0.1", server.port): ["room-a"]})
    verdict, detail, advice = checks_of(report)["tls 127.0.0.1"]
    assert verdict == "failed"
    assert "unable to get local issuer certificate" in detail
    assert "issued by 'doctor test CA'" in detail  # what the proxy presented, from a second look
    assert "intercepting" in advice and "SSL_CERT_FILE" in advice
    assert checks_of(report)["sip 127.0.0.1"][0] == "skipped"
    assert exit_code([report]) == 2


def test_a_name_the_certificate_does_not_carry_fails_tls(server: SipServer, trusted: Path) -> None:
    proxy = Proxy("sip.wrong.test", server.port)
    [report] = check_proxies({proxy: ["room-a"]}, resolver=resolver_for({"sip.wrong.test": ["127.0.0.1"]}))
    verdict, detail, advice = checks_of(report)["tls 127.0.0.1"]
    assert verdict == "failed"
    assert "sip.wrong.test" in detail
    assert "wrong proxy" in advice and LAB_NAME in advice


def test_proxies_are_checked_concurrently(server: SipServer, trusted: Path, authority: CertificateAuthority) -> None:
    """Two proxies answer only once both have a connection: checked one after the other, the
    first would wait out the meeting (5 s) long before doctor's own deadline (15 s) ended."""
    met = threading.Barrier(2, timeout=5)
    certificate = authority.issue()

    def wait_for_the_other() -> None:
        try:
            met.wait()
        except threading.BrokenBarrierError:
            pass  # checked one at a time: the assertion below says so

    with TlsServer(certificate, answer("200 OK"), on_accept=wait_for_the_other) as one, \
            TlsServer(certificate, answer("200 OK"), on_accept=wait_for_the_other) as two:
        proxies = {Proxy("127.0.0.1", one.port): ["room-a"], Proxy("127.0.0.1", two.port): ["room-b"],
                   Proxy("127.0.0.1", server.port): ["room-c"]}
        reports = check_proxies(proxies, timeout=15, forks=3)
    assert not met.broken
    assert [r.proxy.port for r in reports] == [one.port, two.port, server.port]  # the order given
    assert all(r.passed for r in reports), reports


# --- faults no Kamailio makes ---------------------------------------------------------------

def test_a_closed_port_fails_tcp() -> None:
    proxy = Proxy("127.0.0.1", free_port())
    [report] = check_proxies({proxy: ["room-a"]}, resolver=no_dns, timeout=2)
    checks = checks_of(report)
    verdict, detail, advice = checks["tcp 127.0.0.1"]
    assert verdict == "failed" and "refused" in detail
    assert "404 send failed" in advice
    assert checks["tls 127.0.0.1"] == ("skipped", "skipped: tcp 127.0.0.1 failed", "")
    assert checks["sip 127.0.0.1"][0] == "skipped"
    assert exit_code([report]) == 2


def test_a_name_that_does_not_resolve_fails_dns() -> None:
    proxy = Proxy("sip.nowhere.test", 5061)
    [report] = check_proxies({proxy: ["room-a"]}, resolver=no_dns)
    verdict, detail, advice = checks_of(report)["dns"]
    assert verdict == "failed" and "does not resolve" in detail
    assert "DNS lookup failed" in advice and "sip2-ec.huaweicloud.com:5061" in advice
    assert [c.verdict for c in report.checks[1:]] == ["skipped"] * 3
    assert exit_code([report]) == 2


def test_a_name_with_no_address_fails_dns() -> None:
    [report] = check_proxies({Proxy("sip.empty.test", 5061): ["room-a"]}, resolver=lambda name: [])
    assert checks_of(report)["dns"][0] == "failed"


def test_a_server_that_accepts_tls_but_never_answers_fails_sip(authority: CertificateAuthority,
                                                               trusted: Path) -> None:
    with TlsServer(authority.issue(), silent) as quiet:
        [report] = check_proxies({Proxy("127.0.0.1", quiet.port): ["room-a"]}, timeout=1.0)
    checks = {c.name: c for c in report.checks}
    assert checks["tls 127.0.0.1"].passed
    sip = checks["sip 127.0.0.1"]
    assert sip.failed and sip.detail == "no SIP answer within 1 s"
    assert sip.seconds >= 0.9  # it did wait for its deadline, not give up at once
    assert "408 Request Timeout" in sip.advice
    assert len(quiet.requests) == 0  # `silent` reads without keeping


def test_provisional_replies_for_ever_still_end_at_the_deadline(authority: CertificateAuthority,
                                                                trusted: Path) -> None:
    """`100 Trying` every 0.2 s: a per-read timeout would never fire; the total deadline does."""
    with TlsServer(authority.issue(), trickle) as trying:
        [report] = check_proxies({Proxy("127.0.0.1", trying.port): ["room-a"]}, timeout=1.0)
    sip = {c.name: c for c in report.checks}["sip 127.0.0.1"]
    assert sip.failed
    assert sip.detail.startswith("only SIP/2.0 100 Trying")
    assert sip.detail.endswith("within 1 s, no final response")


def test_any_final_response_proves_the_path(authority: CertificateAuthority, trusted: Path) -> None:
    with TlsServer(authority.issue(), answer("404 Not Found", before=("100 Trying",))) as proxy_404:
        [report] = check_proxies({Proxy("127.0.0.1", proxy_404.port): ["room-a"]})
    sip = {c.name: c for c in report.checks}["sip 127.0.0.1"]
    assert sip.passed and sip.detail == "SIP/2.0 404 Not Found (server: test-tls-server)"


def test_each_request_is_well_formed_and_fresh(authority: CertificateAuthority, trusted: Path) -> None:
    with TlsServer(authority.issue(), answer("200 OK")) as recorder:
        proxy = Proxy("127.0.0.1", recorder.port)
        check_proxies({proxy: ["room-a"]})
        check_proxies({proxy: ["room-b"]})
    first, second = (_headers(r) for r in recorder.requests)
    assert first["request"] == f"OPTIONS sip:127.0.0.1:{recorder.port};transport=tls SIP/2.0"
    assert first["via"].startswith("SIP/2.0/TLS 127.0.0.1:") and ";branch=z9hG4bK" in first["via"]
    assert first["max-forwards"] == "70" and first["cseq"] == "1 OPTIONS" and first["content-length"] == "0"
    assert ";tag=" in first["from"] and first["to"] == f"<sip:127.0.0.1:{recorder.port}>"
    assert "transport=tls" in first["contact"] and first["accept"] == "application/sdp"
    for key in ("via", "from", "call-id"):
        assert first[key] != second[key]  # a fresh branch, tag and Call-ID per request


def _headers(request: str) -> dict[str, str]:
    lines = request.split("\r\n\r\n")[0].split("\r\n")
    headers = {"request": lines[0]}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def test_an_expired_certificate_fails_tls_with_the_clock_in_the_advice(authority: CertificateAuthority,
                                                                        trusted: Path) -> None:
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    with TlsServer(authority.issue(not_before=long_ago, days=30), silent) as expired:
        [report] = check_proxies({Proxy("127.0.0.1", expired.port): ["room-a"]})
    verdict, detail, advice = checks_of(report)["tls 127.0.0.1"]
    assert verdict == "failed" and "certificate has expired" in detail
    assert "clock" in advice


def test_an_address_the_certificate_does_not_name_passes_tls_with_a_note(authority: CertificateAuthority,
                                                                         trusted: Path) -> None:
    """Rooms given the IP (the seed's fix for rooms without DNS) do not check the name by default."""
    with TlsServer(authority.issue((LAB_NAME,), ()), answer("200 OK")) as named:
        [report] = check_proxies({Proxy("127.0.0.1", named.port): ["room-a"]})
    tls = {c.name: c for c in report.checks}["tls 127.0.0.1"]
    assert tls.passed
    assert "does not name 127.0.0.1" in tls.detail and "TlsVerify" in tls.advice
    assert exit_code([report]) == 0


def test_a_port_that_does_not_speak_tls_fails_tls() -> None:
    with socket.create_server(("127.0.0.1", 0)) as plain:
        port = plain.getsockname()[1]

        def reply_in_plain_text() -> None:
            conn, _ = plain.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=reply_in_plain_text, daemon=True)
        thread.start()
        [report] = check_proxies({Proxy("127.0.0.1", port): ["room-a"]}, timeout=3)
        thread.join(5)
    verdict, detail, advice = checks_of(report)["tls 127.0.0.1"]
    assert verdict == "failed" and detail.startswith("TLS handshake failed")
    assert "5060 is plain SIP" in advice


# --- rooms, report and table ------------------------------------------------------------------

def test_rooms_that_cannot_resolve_names_are_told_the_address(server: SipServer, trusted: Path) -> None:
    name_proxy, ip_proxy = Proxy(LAB_NAME, server.port), Proxy("127.0.0.1", server.port)
    reports = check_proxies({name_proxy: ["room-a", "room-b"], ip_proxy: ["room-c"]},
                            resolver=resolver_for({LAB_NAME: ["127.0.0.1"]}),
                            rooms_without_dns={"room-b", "room-c"})
    by_name = {r.proxy: checks_of(r) for r in reports}
    verdict, detail, advice = by_name[name_proxy]["rooms resolve"]
    assert verdict == "failed" and detail.endswith(": room-b")
    assert f"sip.proxy: 127.0.0.1:{server.port}" in advice and "--resolve-proxy" in advice
    assert "rooms resolve" not in by_name[ip_proxy]  # an address needs no DNS
    assert exit_code(reports) == 2


def test_proxies_of_groups_rooms_by_their_desired_proxy() -> None:
    hosts = [Host("room-a", "10.0.0.1", sip=SipVars(number="+99111600001")),
             Host("room-b", "10.0.0.2", sip=SipVars(number="+99111600002", proxy="159.138.44.101:5061")),
             Host("room-c", "10.0.0.3", sip=SipVars(number="+99111600003", proxy="sip2-ec.huaweicloud.com"))]
    assert proxies_of(hosts) == {Proxy("sip2-ec.huaweicloud.com", 5061): ["room-a", "room-c"],
                                 Proxy("159.138.44.101", 5061): ["room-b"]}


def test_the_report_json_and_the_table(authority: CertificateAuthority, trusted: Path) -> None:
    reports = check_proxies({Proxy("127.0.0.1", free_port()): ["room-a"],
                             Proxy("sip.nowhere.test", 5061): ["room-b", "room-c"]}, resolver=no_dns, timeout=2)
    shape = json.loads(json.dumps([r.to_json() for r in reports]))
    assert shape[1]["proxy"] == "sip.nowhere.test:5061" and shape[1]["rooms"] == ["room-b", "room-c"]
    assert set(shape[0]["checks"][0]) == {"name", "passed", "skipped", "seconds", "detail", "advice"}
    out = io.StringIO()
    render(Console(file=out, width=200, force_terminal=False), reports)
    text = out.getvalue()
    assert "sip.nowhere.test:5061" in text and "2 room(s): room-b, room-c" in text
    assert "→ Nothing accepts connections" in text
    assert text.rstrip().endswith("8 checks: 1 passed, 2 failed, 5 skipped")


def test_the_default_resolver_lists_a_and_aaaa_once_each_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """socket.getaddrinfo, faked: the real DNS is never asked in the tests."""
    asked: list[tuple[object, ...]] = []

    def getaddrinfo(*args: object) -> list[tuple[object, ...]]:
        asked.append(args)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 0, 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", 0)),
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 0, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert resolve_all("sip.example.test") == ["2001:db8::7", "192.0.2.7"]
    assert asked == [("sip.example.test", None, socket.AF_UNSPEC, socket.SOCK_STREAM)]


def test_a_check_that_breaks_fails_its_proxy_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = doctor_proxy.check_proxy

    def check_proxy(proxy: Proxy, *args: object) -> ProxyReport:
        if proxy.host == "sip.broken.test":
            raise RuntimeError("resolver exploded")
        return real(proxy, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(doctor_proxy, "check_proxy", check_proxy)
    reports = check_proxies({Proxy("sip.broken.test", 5061): ["room-a"],
                             Proxy("127.0.0.1", free_port()): ["room-b"]}, resolver=no_dns, timeout=2)
    assert [c.name for c in reports[0].checks] == ["doctor"]
    assert reports[0].checks[0].detail == "the checks stopped: RuntimeError: resolver exploded"
    assert checks_of(reports[1])["tcp 127.0.0.1"][0] == "failed"
