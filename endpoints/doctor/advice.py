"""One sentence per way the path to the proxy breaks, in the words of the seed's failures.

The rooms report these failures as `404 send failed` or `408 Request Timeout` (network or
firewall), `DNS lookup failed` (the room cannot resolve the proxy's name), or a silent
failure to register (wrong proxy, TLS refused). Doctor finds the same causes from this
machine before a single room is touched, and says the fix in the same terms.
"""
from __future__ import annotations

from endpoints.desired import Proxy

SERVICE_PROXY = "sip2-ec.huaweicloud.com:5061"


def dns_failed(proxy: Proxy) -> str:
    return (f"{proxy.host} does not resolve from here: check sip.proxy for a typo (the service's proxy is "
            f"{SERVICE_PROXY}) and this machine's DNS; a room with the same DNS shows `DNS lookup failed`.")


def rooms_cannot_resolve(proxy: Proxy, address: str | None) -> str:
    where = f"sip.proxy: {_host(address)}:{proxy.port}" if address else "sip.proxy: <the proxy's IP>:<port>"
    return f"These rooms cannot resolve names: give them the proxy's address ({where}) or use --resolve-proxy."


def tcp_refused(proxy: Proxy, address: str) -> str:
    return (f"Nothing accepts connections on {_host(address)}:{proxy.port}: check the proxy and port in sip.proxy "
            f"(the service's is {SERVICE_PROXY}), or a firewall rejects it (rooms show `404 send failed`).")


def tcp_timeout(proxy: Proxy, address: str) -> str:
    return (f"Open outbound TLS on port {proxy.port} to {_host(address)}: a firewall drops it "
            "(rooms show `404 send failed` or `408 Request Timeout`).")


def tcp_unreachable(proxy: Proxy, address: str) -> str:
    return (f"No route from this network to {_host(address)}: check the default route and the firewall for "
            f"outbound TLS on port {proxy.port} (rooms show `404 send failed`).")


def tls_untrusted(issuer: str) -> str:
    return (f"The proxy's certificate is issued by {issuer}, which is not trusted here: a TLS-inspecting "
            "firewall or web proxy may be intercepting (exempt the SIP proxy from inspection), or the CA is "
            "missing from the bundle (SSL_CERT_FILE).")


def tls_clock() -> str:
    return ("The certificate is not valid at this machine's time: check the clock here and on the rooms (NTP); "
            "if the clocks are right, the proxy's certificate expired: tell the meeting service.")


def tls_expiring(days: int) -> str:
    return (f"The proxy's certificate expires in {days} days: rooms will refuse it then; tell the meeting "
            "service, and check the clocks here and on the rooms (NTP).")


def tls_wrong_name(proxy: Proxy, presented: str) -> str:
    return (f"The certificate is for {presented}, not {proxy.host}: sip.proxy is probably the wrong proxy "
            f"(the service's is {SERVICE_PROXY}).")


def tls_not_tls(proxy: Proxy) -> str:
    return (f"Port {proxy.port} answers but does not complete a TLS handshake: a wrong port (5061 is SIP over "
            "TLS, 5060 is plain SIP), or a firewall that inspects and breaks TLS.")


def ip_not_in_certificate(address: str) -> str:
    return (f"The certificate does not name {address}: rooms that verify the proxy's certificate "
            "(Cisco SIP TlsVerify: On) refuse it; give those rooms the proxy's name instead.")


def sip_silent(proxy: Proxy) -> str:
    return (f"TLS works but no SIP answer came back: {proxy} may not be a SIP proxy (wrong proxy or port), or "
            "a SIP-aware firewall drops the requests (rooms show `408 Request Timeout`).")


def room_clock() -> str:
    return ("Set the room's time from NTP: a clock outside the proxy certificate's validity fails the TLS "
            "handshake, and a clock minutes off means NTP is not working.")


ROOM_PROXY_STATUS = {
    "dns": "The room cannot resolve its proxy: fix its DNS, or give it the proxy's address "
           "(sip.proxy: <IP>:5061) or use --resolve-proxy.",
    "network": "The room cannot reach its proxy: open outbound TLS on port 5061 from the room's network to the "
               "proxy (the seed's `404 send failed` / `408 Request Timeout`).",
    "tls": "The room's TLS handshake to its proxy fails: check the room's clock (NTP) and any TLS-inspecting "
           "firewall between the room and the proxy.",
    "credentials": "The proxy refused the room's SIP account: check sip.number and sip.password; repeated "
                   "tries lock the number.",
    "down": "The room's SIP server is down: check its network path to the proxy (outbound TLS 5061) and its "
            "SIP account.",
}


def room_proxy_status(kind: str) -> str:
    return ROOM_PROXY_STATUS[kind]


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
