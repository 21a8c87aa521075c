"""The path from this machine to each outbound proxy: DNS, TCP, verified TLS, SIP OPTIONS.

Each step is what a room does before its REGISTER can reach the meeting service, and each
failure is one of the seed's: a name the room cannot resolve, a firewall (`404 send
failed`, `408 Request Timeout`), an intercepted or expired certificate, a proxy that is no
SIP proxy. Every address of the name is checked: a room may be given any of them.
"""
from __future__ import annotations

import datetime
import errno
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from endpoints.desired import Proxy, desired_state
from endpoints.doctor import advice, sip
from endpoints.doctor.model import Check, ProxyReport, Stopwatch, skipped
from endpoints.host import Host

Resolver = Callable[[str], Sequence[str]]
ContextFactory = Callable[[], ssl.SSLContext]
DEFAULT_TIMEOUT = 5.0
EXPIRY_WARNING_DAYS = 14
_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


def resolve_all(name: str) -> list[str]:
    """Every address (A and AAAA) this machine's resolver gives for the name, in its order."""
    infos = socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def proxies_of(hosts: Iterable[Host]) -> dict[Proxy, list[str]]:
    """The rooms of each distinct outbound proxy (the desired state's, not the device's).

    Raises InputError (naming the host's file and key) for a room whose SIP settings are bad.
    """
    rooms: dict[Proxy, list[str]] = {}
    for host in hosts:
        rooms.setdefault(desired_state(host).proxy, []).append(host.name)
    return rooms


@dataclass(frozen=True)
class Options:
    """How the checks reach out; injected so tests never touch the real DNS or CAs."""

    resolver: Resolver = resolve_all
    timeout: float = DEFAULT_TIMEOUT
    context_factory: ContextFactory = ssl.create_default_context


def check_proxies(proxies: Mapping[Proxy, Sequence[str]], *, resolver: Resolver = resolve_all,
                  timeout: float = DEFAULT_TIMEOUT, context_factory: ContextFactory = ssl.create_default_context,
                  forks: int = 10, rooms_without_dns: Collection[str] = ()) -> list[ProxyReport]:
    """Check every proxy, `forks` at a time; reports in the order of `proxies`.

    `rooms_without_dns`: rooms known (from their own API) to have no DNS; for a proxy given
    by name they are listed in a failed check with the proxy's address to give them instead.
    """
    options = Options(resolver, timeout, context_factory)
    items = list(proxies.items())
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(items))), thread_name_prefix="doctor") as pool:
        futures = [pool.submit(_guarded, proxy, rooms, options, rooms_without_dns) for proxy, rooms in items]
        return [future.result() for future in futures]


def _guarded(proxy: Proxy, rooms: Sequence[str], options: Options, rooms_without_dns: Collection[str]) -> ProxyReport:
    """A proxy whose checks broke in an unforeseen way fails alone, with what broke, not a traceback."""
    try:
        return check_proxy(proxy, rooms, options, rooms_without_dns)
    except Exception as exc:  # the other proxies' checks must still be reported
        return ProxyReport(proxy, list(rooms), [Check("doctor", False, 0.0,
                                                      f"the checks stopped: {type(exc).__name__}: {exc}",
                                                      "Rerun with -v and report this output as a bug.")])


def check_proxy(proxy: Proxy, rooms: Sequence[str], options: Options | None = None,
                rooms_without_dns: Collection[str] = ()) -> ProxyReport:
    """DNS, then for each address TCP, TLS and SIP; a step whose predecessor failed is skipped."""
    options = options or Options()
    report = ProxyReport(proxy, list(rooms))
    dns, addresses = dns_lookup(proxy, options.resolver)
    report.checks.append(dns)
    without_dns = set(rooms_without_dns)
    unresolved = [room for room in rooms if room in without_dns]
    if unresolved and not proxy.is_ip:
        report.checks.append(_rooms_without_dns(proxy, unresolved, addresses))
    if not dns.passed:
        report.checks += [skipped(f"{step} {proxy.host}", "dns") for step in ("tcp", "tls", "sip")]
        return report
    for address in addresses:
        report.checks += path_checks(proxy, address, options)
    return report


def dns_lookup(proxy: Proxy, resolver: Resolver) -> tuple[Check, list[str]]:
    if proxy.is_ip:
        return Check("dns", True, 0.0, f"not needed: {proxy.host} is an address"), [proxy.host]
    watch = Stopwatch()
    try:
        addresses = list(dict.fromkeys(resolver(proxy.host)))
    except (OSError, UnicodeError) as exc:
        return Check("dns", False, watch.seconds, f"{proxy.host} does not resolve: {_reason(exc)}",
                     advice.dns_failed(proxy)), []
    if not addresses:
        return Check("dns", False, watch.seconds, f"{proxy.host} resolves to no address",
                     advice.dns_failed(proxy)), []
    return Check("dns", True, watch.seconds, f"{proxy.host} → {', '.join(addresses)}"), addresses


def _rooms_without_dns(proxy: Proxy, rooms: list[str], addresses: list[str]) -> Check:
    v4 = [a for a in addresses if ":" not in a]
    address = next(iter(v4 or addresses), None)
    return Check("rooms resolve", False, 0.0,
                 f"{len(rooms)} room(s) cannot resolve {proxy.host}: {', '.join(rooms)}",
                 advice.rooms_cannot_resolve(proxy, address))


def path_checks(proxy: Proxy, address: str, options: Options) -> list[Check]:
    """TCP, TLS and SIP OPTIONS to one address of the proxy."""
    tcp, sock = tcp_connect(proxy, address, options.timeout)
    if sock is None:
        return [tcp, skipped(f"tls {address}", tcp.name), skipped(f"sip {address}", tcp.name)]
    tls, tls_sock = tls_handshake(proxy, address, sock, options)
    if tls_sock is None:
        return [tcp, tls, skipped(f"sip {address}", tls.name)]
    with tls_sock:
        return [tcp, tls, sip_options(proxy, address, tls_sock, options.timeout)]


def tcp_connect(proxy: Proxy, address: str, timeout: float) -> tuple[Check, socket.socket | None]:
    name, target = f"tcp {address}", f"{_bracketed(address)}:{proxy.port}"
    watch = Stopwatch()
    try:
        sock = socket.create_connection((address, proxy.port), timeout=timeout)
    except ConnectionRefusedError:
        return Check(name, False, watch.seconds, f"{target} refused the connection",
                     advice.tcp_refused(proxy, address)), None
    except TimeoutError:
        return Check(name, False, watch.seconds, f"no answer from {target} within {timeout:g} s",
                     advice.tcp_timeout(proxy, address)), None
    except OSError as exc:
        hint = (advice.tcp_unreachable(proxy, address) if exc.errno in _NO_ROUTE
                else advice.tcp_timeout(proxy, address))
        return Check(name, False, watch.seconds, f"cannot connect to {target}: {_reason(exc)}", hint), None
    return Check(name, True, watch.seconds, f"connected to {target}"), sock


def tls_handshake(proxy: Proxy, address: str, sock: socket.socket,
                  options: Options) -> tuple[Check, ssl.SSLSocket | None]:
    """A handshake verified against the CAs of `options.context_factory()` (the system's by default).

    For a name, SNI and the certificate's name are the proxy's name. For an address, the
    chain is verified as strictly, but a certificate that does not carry the address still
    passes, with a note: rooms do not verify the name by default, and an address is the fix
    for rooms without DNS, so failing it would fail the seed's own advice.
    """
    name = f"tls {address}"
    watch = Stopwatch()
    context = options.context_factory()
    if proxy.is_ip:
        context.check_hostname = False
    sock.settimeout(options.timeout)
    try:
        tls = context.wrap_socket(sock, server_hostname=None if proxy.is_ip else proxy.host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        return _verify_failed(name, proxy, address, exc, watch, options.timeout), None
    except TimeoutError:
        sock.close()
        return Check(name, False, watch.seconds, f"no TLS handshake within {options.timeout:g} s",
                     advice.tls_not_tls(proxy)), None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        return Check(name, False, watch.seconds, f"TLS handshake failed: {_reason(exc)}",
                     advice.tls_not_tls(proxy)), None
    seconds = watch.seconds
    peer = tls.getpeercert() or {}
    summary = f"{tls.version()}, {_describe_peer(peer)}"
    if proxy.is_ip and context.verify_mode == ssl.CERT_REQUIRED and not _names_address(peer, address):
        return Check(name, True, seconds, f"{summary}; the certificate does not name {address}",
                     advice.ip_not_in_certificate(address)), tls
    days = _days_left(peer)
    note = advice.tls_expiring(days) if days is not None and days < EXPIRY_WARNING_DAYS else ""
    return Check(name, True, seconds, summary, note), tls


def _verify_failed(name: str, proxy: Proxy, address: str, exc: ssl.SSLCertVerificationError,
                   watch: Stopwatch, timeout: float) -> Check:
    """Why the certificate was refused, and what it was: a second, unverified look at it."""
    seconds = watch.seconds
    reason = (exc.verify_message or _reason(exc)).rstrip(".")
    presented = _unverified_certificate(proxy, address, timeout)
    seen = f"; the proxy presented {_describe_x509(presented)}" if presented else ""
    detail = f"certificate refused: {reason}{seen}"
    code = exc.verify_code
    if code in (9, 10):  # not yet valid, expired
        hint = advice.tls_clock()
    elif code == 62 or "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
        hint = advice.tls_wrong_name(proxy, _names_of(presented) if presented else "another name")
    else:
        issuer = _common_name(presented.issuer) if presented else "an unknown CA"
        hint = advice.tls_untrusted(issuer)
    return Check(name, False, seconds, detail, hint)


def _unverified_certificate(proxy: Proxy, address: str, timeout: float) -> x509.Certificate | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, proxy.port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=None if proxy.is_ip else proxy.host) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    try:
        return x509.load_der_x509_certificate(der) if der else None
    except ValueError:
        return None  # a certificate too odd to describe; the refusal itself is still reported


def sip_options(proxy: Proxy, address: str, tls: ssl.SSLSocket, timeout: float) -> Check:
    """One OPTIONS over the verified connection; any final response proves the path."""
    name = f"sip {address}"
    watch = Stopwatch()
    request = sip.options_request(proxy, tls.getsockname()[:2])
    try:
        response = sip.exchange(tls, request, time.monotonic() + timeout)
    except sip.NoAnswer as exc:
        seen = ", ".join(r.status_line for r in exc.provisional)
        detail = f"only {seen} within {timeout:g} s, no final response" if seen else \
            f"no SIP answer within {timeout:g} s"
        return Check(name, False, watch.seconds, detail, advice.sip_silent(proxy))
    except sip.Closed:
        return Check(name, False, watch.seconds, "the proxy closed the connection without a SIP answer",
                     advice.sip_silent(proxy))
    except sip.NotSip as exc:
        return Check(name, False, watch.seconds, str(exc), advice.sip_silent(proxy))
    except (OSError, ssl.SSLError) as exc:
        return Check(name, False, watch.seconds, f"the connection failed: {_reason(exc)}", advice.sip_silent(proxy))
    server = f" (server: {response.server})" if response.server else ""
    return Check(name, True, watch.seconds, f"{response.status_line}{server}")


# --- certificates ----------------------------------------------------------------------

def _days_left(peer: Mapping[str, object]) -> int | None:
    not_after = peer.get("notAfter")
    if not isinstance(not_after, str):
        return None
    return int((ssl.cert_time_to_seconds(not_after) - time.time()) // 86400)


def _describe_peer(peer: Mapping[str, object]) -> str:
    """Subject, issuer and expiry of a verified certificate (the `getpeercert()` form)."""
    subject = _peer_name(peer.get("subject"))
    issuer = _peer_name(peer.get("issuer"))
    not_after = peer.get("notAfter")
    if not isinstance(not_after, str):
        return f"certificate {subject or '(none)'}"
    expires = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), datetime.UTC)
    return f"certificate {subject} issued by {issuer}, expires {expires:%Y-%m-%d} ({_days_left(peer)} days left)"


def _peer_name(value: object) -> str:
    if not isinstance(value, tuple):
        return ""
    pairs = dict(pair for rdn in value for pair in rdn)
    return str(pairs.get("commonName") or pairs.get("organizationName") or "")


def _names_address(peer: Mapping[str, object], address: str) -> bool:
    wanted = ipaddress.ip_address(address)
    alt = peer.get("subjectAltName") or ()
    for kind, value in alt if isinstance(alt, tuple) else ():
        if kind == "IP Address":
            try:
                if ipaddress.ip_address(str(value).strip()) == wanted:
                    return True
            except ValueError:
                continue
    return False


def _describe_x509(cert: x509.Certificate) -> str:
    expires = cert.not_valid_after_utc
    days = (expires - datetime.datetime.now(datetime.UTC)).days
    return (f"{_names_of(cert)} issued by {_common_name(cert.issuer)}, "
            f"valid {cert.not_valid_before_utc:%Y-%m-%d} to {expires:%Y-%m-%d} ({days} days left)")


def _names_of(cert: x509.Certificate) -> str:
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in alt.get_values_for_type(x509.DNSName)]
        names += [str(a) for a in alt.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return ", ".join(names) or _common_name(cert.subject)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME) or name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return f"'{values[0].value!s}'" if values else "an unnamed issuer"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address
