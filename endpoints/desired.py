"""The desired state of a room: its SIP account on the meeting service, vendor-neutral.

Defaults are the meeting service's (Huawei Cloud Meeting / WeLink): TLS only, registrar
`huaweicloud.com`, outbound proxy `sip2-ec.huaweicloud.com:5061`, and the full SIP URI
as both sign-in address and authentication user name. The service's numbers are
international, `+` and digits (`+99111612345`); one written without its `+` is refused
(the device would register as another number and the service answers 403). Every error
points at the line where the offending key is written (`Host.origin`).
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

from endpoints.errors import InputError
from endpoints.host import Host
from endpoints.secrets import Secret

DEFAULT_DOMAIN = "huaweicloud.com"
DEFAULT_REGISTRAR = "huaweicloud.com"
DEFAULT_PROXY = "sip2-ec.huaweicloud.com:5061"
TLS_PORT = 5061
NUMBER = re.compile(r"^\+[0-9]{5,20}$")
_DIGITS = re.compile(r"^[0-9]{5,20}$")

Resolver = Callable[[str], str]


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
            return True
        except ValueError:
            return False


@dataclass(frozen=True)
class DesiredSip:
    enabled: bool
    number: str
    domain: str
    uri: str
    auth_username: str
    password: Secret | None
    display_name: str
    registrar: str
    proxy: Proxy
    transport: str  # always "tls"


def parse_proxy(text: str, *, where: str = "", key: str = "sip.proxy") -> Proxy:
    """`host:port`, `[v6]:port` or a bare host (port 5061, the service's TLS port)."""
    text = text.strip()
    match = re.fullmatch(r"\[(?P<v6>[0-9a-fA-F:.]+)\](?::(?P<p6>\d+))?|(?P<host>[^:\s\[\]]+)(?::(?P<port>\d+))?", text)
    if not match:
        raise InputError(f"proxy {text!r} is not host:port", file=where, key=key)
    host = match["v6"] or match["host"]
    port = int(match["p6"] or match["port"] or TLS_PORT)
    if not 0 < port < 65536:
        raise InputError(f"proxy port {port} is out of range", file=where, key=key)
    return Proxy(host, port)


def resolve_with_dns(name: str) -> str:
    """The first IPv4 address of a name, looked up on the jump host."""
    infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    return str(infos[0][4][0])


def _error(host: Host, message: str, key: str) -> InputError:
    """An InputError at the line where `key` is written for this host (else the host's own line)."""
    file, _, line = host.origin(key).rpartition(":")
    if not line.isdigit():
        return InputError(message, file=host.origin(key), key=key)
    return InputError(message, file=file, line=int(line), key=key)


def desired_state(host: Host, *, resolve_proxy: bool = False, resolver: Resolver = resolve_with_dns) -> DesiredSip:
    """The SIP settings this room must end with; raises InputError at the line of the offending key."""
    sip = host.sip
    transport = (sip.transport or "tls").strip().lower()
    if transport != "tls":
        why = "the meeting service does not accept UDP" if transport == "udp" else "the meeting service takes TLS only"
        raise _error(host, f"transport {sip.transport!r} refused: {why}; use tls", "sip.transport")
    domain = (sip.domain or DEFAULT_DOMAIN).strip()
    number, uri = _number_and_uri(host, domain)
    try:
        proxy = parse_proxy(sip.proxy or DEFAULT_PROXY)
    except InputError as exc:
        raise _error(host, exc.reason, "sip.proxy") from None
    if resolve_proxy and not proxy.is_ip:
        proxy = Proxy(_resolve(host, proxy.host, resolver), proxy.port)
    return DesiredSip(
        enabled=True,
        number=number,
        domain=domain,
        uri=uri,
        auth_username=(sip.auth_username or uri).strip(),
        password=sip.password,
        display_name=sip.display_name if sip.display_name is not None else host.name,
        registrar=(sip.registrar or DEFAULT_REGISTRAR).strip(),
        proxy=proxy,
        transport="tls",
    )


def _number_and_uri(host: Host, domain: str) -> tuple[str, str]:
    number, uri = host.sip.number, host.sip.uri
    if number is None and uri is None:
        flat = next((k for k in ("sip_number", "sip_uri") if k in host.vars), None)
        hint = (f" (the inventory has a variable '{flat}': write it as sip: {{{flat[4:]}: …}})"
                if flat else "")
        raise _error(host, f"no SIP number: set sip.number (e.g. '+99111612345') or sip.uri{hint}", "sip.number")
    if number is not None:
        number = _checked_number(host, number.strip().replace(" ", ""), "sip.number")
    if uri is None:
        return str(number), f"{number}@{domain}"
    uri = uri.strip().removeprefix("sip:")
    user, at, uri_domain = uri.partition("@")
    if not at or not user or not uri_domain:
        raise _error(host, f"SIP URI {uri!r} is not user@domain", "sip.uri")
    if number is not None and user != number:
        raise _error(host, f"SIP URI {uri!r} does not carry the number {number!r}", "sip.uri")
    if number is None and (_DIGITS.match(user) or user.startswith("+")):
        _checked_number(host, user, "sip.uri")
    return user, uri


def _checked_number(host: Host, number: str, key: str) -> str:
    if _DIGITS.match(number):
        raise _error(host, f"SIP number {number!r} has no leading '+': the meeting service's numbers are "
                           f"international (+99111…); write '+{number}', as the service's notice gives it", key)
    if not NUMBER.match(number):
        raise _error(host, f"SIP number {number!r} is not a number such as '+99111612345' "
                           "('+' and 5 to 20 digits)", key)
    return number


def _resolve(host: Host, name: str, resolver: Resolver) -> str:
    try:
        return resolver(name)
    except OSError as exc:
        raise _error(host, f"cannot resolve proxy {name!r} on this host ({exc}); give its IP in sip.proxy",
                     "sip.proxy") from None
