"""`endpoints doctor`: prove the path to the SIP proxy before a single room is touched.

From this machine, for every distinct outbound proxy of the selected rooms: DNS (every
address), TCP to the port, a TLS handshake verified against the system's CAs
(`SSL_CERT_FILE` honoured), and a SIP `OPTIONS` over that connection. For every room,
pure judgements of what its own API says (DNS servers, clock, proxy status), for the
engine to feed with what the drivers read. Nothing anywhere is changed.
"""
from endpoints.doctor.model import EXIT_FAILED, EXIT_OK, Check, ProxyReport, exit_code
from endpoints.doctor.proxy import DEFAULT_TIMEOUT, check_proxies, check_proxy, proxies_of, resolve_all
from endpoints.doctor.render import render, summary
from endpoints.doctor.room import clock_check, dns_check, parse_device_time, proxy_status_check

__all__ = [
    "DEFAULT_TIMEOUT", "EXIT_FAILED", "EXIT_OK", "Check", "ProxyReport", "check_proxies", "check_proxy",
    "clock_check", "dns_check", "exit_code", "parse_device_time", "proxies_of", "proxy_status_check",
    "render", "resolve_all", "summary",
]
