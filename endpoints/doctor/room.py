"""What a room's own API says, judged: its DNS servers, its clock, its proxy status.

Pure functions from the values a driver reads to a `Check`; the engine reads the values.
They are pure so that every device format can be tested from recorded dumps:

- clock: Cisco `xStatus Time SystemTime` (`2021-03-02T14:06:31-0500`); Polycom Group
  Series REST `GET /rest/system` `systemTime` (Unix milliseconds, `1664532053000`; read
  as UTC, its `timeOffset` being the local zone's: UNSURE, one recording only).
  The Polycom telnet banner's `Local Time is:` format is not recorded anywhere (UNSURE):
  any ISO 8601 or RFC 2822 text with a zone is read; a time without a zone cannot be
  compared with this machine's and is reported as not judged.
- DNS servers: Cisco `xStatus Network 1 DNS Server [1..5] Address` (empty slots are
  empty strings), Polycom `dns get 1..4` / `system.network.dnsserver[0..3]`.
- proxy status: Cisco `xStatus SIP Proxy [1] Status` (`Active`, `DNSFailed`, `Off`,
  `Timeout`, `UnableTCP`, `UnableTLS`, `Unknown`, `AuthenticationFailed`); Polycom REST
  `system.status.sipserver` state (`up`, `down`, `off`, `unknown`).
"""
from __future__ import annotations

import datetime
import email.utils
import ipaddress
import re
from collections.abc import Sequence

from endpoints.desired import Proxy, parse_proxy
from endpoints.doctor import advice
from endpoints.doctor.model import Check
from endpoints.errors import InputError

CLOCK_TOLERANCE = 300.0  # seconds: NTP keeps a codec within a second; minutes off means it is not working
_EPOCH = re.compile(r"^\d{9,14}(\.\d+)?$")
_MILLISECONDS = 10**11  # a Unix time above this in seconds would be past the year 5000


def parse_device_time(value: str | int | float) -> datetime.datetime:
    """An aware datetime from a device's clock reading; ValueError when it has no zone or no sense."""
    if isinstance(value, int | float) or _EPOCH.match(str(value).strip()):
        number = float(value)
        seconds = number / 1000 if number >= _MILLISECONDS else number
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    text = str(value).strip()
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{text!r} is not a time this tool can read") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone, so it cannot be compared with this machine's clock")
    return moment


def clock_check(device_time: str | int | float, now: datetime.datetime | None = None, *,
                tolerance: float = CLOCK_TOLERANCE) -> Check:
    """The room's clock against this machine's (`now`, aware; default the current UTC time).

    A codec whose clock is outside the proxy certificate's validity cannot finish the TLS
    handshake; a clock minutes off means its NTP is not working, which gets it there.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    try:
        moment = parse_device_time(device_time)
    except ValueError as exc:
        return Check("clock", False, 0.0, f"not judged: {exc}", skipped=True)
    skew = (moment - now).total_seconds()
    shown = f"room {moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC, {_skew_words(skew)}"
    if abs(skew) <= tolerance:
        return Check("clock", True, 0.0, shown)
    return Check("clock", False, 0.0, shown, advice.room_clock())


def _skew_words(skew: float) -> str:
    if abs(skew) < 1:
        return "in step with this machine"
    side = "ahead of" if skew > 0 else "behind"
    return f"{_duration(abs(skew))} {side} this machine"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs and not days else ""]
    return " ".join(p for p in parts if p) or "0 s"


def dns_check(servers: Sequence[str], *, proxy: Proxy | None = None) -> Check:
    """Whether the room has a DNS server to resolve the proxy's name with.

    `servers` as the device lists them, empty slots included. For an address proxy no DNS
    is needed; a room without DNS then still passes.
    """
    usable = [s.strip() for s in servers if _usable_server(s)]
    ignored = [s.strip() for s in servers if s.strip() and not _usable_server(s)]
    listed = ", ".join(usable) or "none"
    extra = f" (not addresses: {', '.join(ignored)})" if ignored else ""
    if proxy is not None and proxy.is_ip:
        return Check("dns servers", True, 0.0, f"not needed: the proxy is {proxy.host}; servers: {listed}{extra}")
    if usable:
        return Check("dns servers", True, 0.0, f"servers: {listed}{extra}")
    return Check("dns servers", False, 0.0, f"the room has no DNS server{extra}",
                 advice.rooms_cannot_resolve(proxy or parse_proxy(advice.SERVICE_PROXY), None))


def _usable_server(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return not address.is_unspecified


_STATUS_ADVICE = {
    "dnsfailed": "dns", "timeout": "network", "unabletcp": "network", "unabletls": "tls",
    "authenticationfailed": "credentials", "down": "down",
}
_NOT_IN_USE = {"off", "unknown", "inactive", ""}
_FINE = {"active", "up"}


def proxy_status_check(status: str, *, current: str = "", expected: str = "") -> Check:
    """The device's own word on its proxy (Cisco `SIP Proxy [1] Status`, Polycom `sipserver`).

    `current` is the proxy the device has now, `expected` the one the inventory wants: until
    apply, a room's status speaks of its old proxy and says nothing of the new one.
    """
    value = status.strip()
    key = value.lower()
    if current and expected and not _same_proxy(current, expected):
        return Check("proxy status", False, 0.0,
                     f"not judged: the room still uses {current} ({value or 'no status'}), not {expected}",
                     skipped=True)
    about = f" for {current}" if current else ""
    if key in _FINE:
        return Check("proxy status", True, 0.0, f"{value}{about}")
    if key in _NOT_IN_USE:
        return Check("proxy status", False, 0.0, f"not judged: the room reports {value or 'nothing'}{about}",
                     skipped=True)
    kind = _STATUS_ADVICE.get(key)
    if kind is None:
        return Check("proxy status", False, 0.0, f"not judged: status {value!r} is not one this tool knows",
                     skipped=True)
    return Check("proxy status", False, 0.0, f"{value}{about}", advice.room_proxy_status(kind))


def _same_proxy(a: str, b: str) -> bool:
    try:
        return parse_proxy(a.lower()) == parse_proxy(b.lower())
    except InputError:
        return a.strip().lower() == b.strip().lower()
