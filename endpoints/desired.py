"""The desired state of a room: its SIP account on the meeting service, vendor-neutral.

Defaults are the meeting service's (Huawei Cloud Meeting / WeLink): TLS only, registrar
`huaweicloud.com`, outbound proxy `sip2-ec.huaweicloud.com:5061`, and the full SIP URI
as both sign-in address and authentication user name.
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
NUMBER = re.compile(r"^\+?[0-9]{5,20}$")

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


def desired_state(host: Host, *, resolve_proxy: bool = False, resolver: Resolver = resolve_with_dns) -> DesiredSip:
    """The SIP settings this room must end with; raises InputError naming the host's file and key."""
    sip, where = host.sip, host.source
    transport = (sip.transport or "tls").strip().lower()
    if transport != "tls":
        why = "the meeting service does not accept UDP" if transport == "udp" else "the meeting service takes TLS only"
        raise InputError(f"transport {sip.transport!r} refused: {why}; use tls", file=where, key="sip.transport")
    domain = (sip.domain or DEFAULT_DOMAIN).strip()
    number, uri = _number_and_uri(sip.number, sip.uri, domain, where)
    proxy = parse_proxy(sip.proxy or DEFAULT_PROXY, where=where)
    if resolve_proxy and not proxy.is_ip:
        proxy = Proxy(_resolve(proxy.host, resolver, where), proxy.port)
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


def _number_and_uri(number: str | None, uri: str | None, domain: str, where: str) -> tuple[str, str]:
    if number is None and uri is None:
        raise InputError("no SIP number: set sip.number (e.g. '+99111612345') or sip.uri", file=where,
                         key="sip.number")
    if number is not None:
        number = number.strip().replace(" ", "")
        if not NUMBER.match(number):
            raise InputError(f"SIP number {number!r} is not a phone-style number such as '+99111612345'",
                             file=where, key="sip.number")
    if uri is None:
        return str(number), f"{number}@{domain}"
    uri = uri.strip().removeprefix("sip:")
    user, at, uri_domain = uri.partition("@")
    if not at or not user or not uri_domain:
        raise InputError(f"SIP URI {uri!r} is not user@domain", file=where, key="sip.uri")
    if number is not None and user != number:
        raise InputError(f"SIP URI {uri!r} does not carry the number {number!r}", file=where, key="sip.uri")
    return user, uri


def _resolve(name: str, resolver: Resolver, where: str) -> str:
    try:
        return resolver(name)
    except OSError as exc:
        raise InputError(f"cannot resolve proxy {name!r} on this host ({exc}); give its IP in sip.proxy",
                         file=where, key="sip.proxy") from None
