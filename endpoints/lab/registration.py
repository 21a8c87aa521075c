"""The simulated meeting service and each device's registration to it.

The service holds an account table (number, password) and the proxies and registrar it
expects. A device that changes any SIP setting makes one registration attempt; the
attempt becomes visible after `delay` seconds as registered or as a failure of one kind:

- ``auth``: wrong number, user name, password or registrar (Cisco `403 Forbidden`)
- ``dns``: a proxy the device cannot resolve or the service does not run (`DNS lookup failed`)
- ``timeout``: UDP or TCP instead of TLS: nothing answers (`408 Request Timeout`)
- ``locked``: too many failures on the number recently: even the right password fails

Changes that follow each other before an attempt is seen coalesce into one attempt, as a
device restarts its pending REGISTER. Attempts resolve lazily, when anything looks.

After a verdict a codec keeps going on its own, as real ones do: a failed registration is
retried every `retry_interval` seconds, a registered one refreshed every
`refresh_interval` seconds (each is a new REGISTER, judged afresh and counted, so a wrong
password retried keeps counting towards the service's lock, and a room whose password
was fixed at the service comes up at its next retry). The intervals of these models are
not in the notes (UNSURE: SIP registrations commonly expire after an hour and codecs
retry within a minute or two): knobs, short in tests; 0 turns either off.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Failure = Literal["auth", "dns", "timeout", "locked"]
Phase = Literal["inactive", "registering", "registered", "failed"]

DEFAULT_PROXIES = ("sip2-ec.huaweicloud.com:5061", "159.138.44.101:5061")
DEFAULT_DNS = {"sip2-ec.huaweicloud.com": "159.138.44.100", "huaweicloud.com": "159.138.44.99"}


@dataclass(frozen=True)
class SipSettings:
    """The vendor-neutral SIP settings a simulated device registers with."""

    enabled: bool = False
    uri: str = ""
    auth_username: str = ""
    password: str = ""
    proxy: str = ""
    registrar: str = ""  # "" where the device has no registrar setting (Cisco): the URI's domain
    transport: str = "auto"  # tls, tcp, udp, auto (lower case)


@dataclass
class Account:
    number: str
    password: str


@dataclass
class _NumberHistory:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class MeetingService:
    """The simulated cloud: accounts, accepted proxies, and the lock on repeated failures."""

    def __init__(
        self,
        *,
        domain: str = "huaweicloud.com",
        proxies: tuple[str, ...] = DEFAULT_PROXIES,
        dns: dict[str, str] | None = None,
        delay: float = 0.5,
        lock_after: int = 3,
        lock_window: float = 600.0,
        lock_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        retry_interval: float = 60.0,
        refresh_interval: float = 600.0,
    ) -> None:
        self.domain = domain
        self.proxies = proxies
        self.dns = dict(DEFAULT_DNS if dns is None else dns)
        self.delay = delay
        self.lock_after, self.lock_window, self.lock_seconds = lock_after, lock_window, lock_seconds
        self.clock = clock
        # what a codec does after a verdict (defaults for every device; each may differ)
        self.retry_interval, self.refresh_interval = retry_interval, refresh_interval
        self.accounts: dict[str, Account] = {}
        self._history: dict[str, _NumberHistory] = {}
        self._lock = threading.Lock()

    def add_account(self, number: str, password: str) -> None:
        self.accounts[number] = Account(number, password)

    def open_account(self, password: str, first: int = 700000) -> str:
        """A new account on a number nobody holds yet, as the service opens one for each
        terminal added through its REST API (`endpoints/lab/service_api.py`)."""
        with self._lock:
            index = first
            while f"+99111{index:06d}" in self.accounts:
                index += 1
            number = f"+99111{index:06d}"
            self.accounts[number] = Account(number, password)
            return number

    def set_password(self, number: str, password: str) -> None:
        """The service's administrator sets a terminal's SIP password (the account stays)."""
        with self._lock:
            if number in self.accounts:
                self.accounts[number].password = password
            else:
                self.accounts[number] = Account(number, password)

    def locked(self, number: str, at: float | None = None) -> bool:
        history = self._history.get(number)
        return bool(history and history.locked_until > (self.clock() if at is None else at))

    def judge(self, sip: SipSettings, *, resolves_names: bool = True, at: float | None = None) -> Failure | None:
        """The outcome of one REGISTER with these settings, and its effect on the lock.
        `at`: when the REGISTER reached the service (lazily resolved attempts are late)."""
        number = self._number_of(sip.uri)
        when = self.clock() if at is None else at
        with self._lock:
            failure = self._failure(sip, number, resolves_names, when)
            self._record(number, failure, when)
            return failure

    def _failure(self, sip: SipSettings, number: str, resolves_names: bool, when: float) -> Failure | None:
        if sip.transport != "tls":
            return "timeout"
        if not self._proxy_reachable(sip.proxy, resolves_names):
            return "dns"
        if self.locked(number, when):
            return "locked"
        account = self.accounts.get(number)
        expected_uri = f"{number}@{self.domain}"
        if (
            account is None
            or sip.uri != expected_uri
            or sip.auth_username != expected_uri
            or sip.password != account.password
            or sip.registrar not in ("", self.domain)
        ):
            return "auth"
        return None

    def _proxy_reachable(self, proxy: str, resolves_names: bool) -> bool:
        host, _, port = proxy.rpartition(":") if ":" in proxy else (proxy, "", "5061")
        host, port = host.strip(), port.strip() or "5061"
        if host in self.dns:
            if not resolves_names:
                return False
            host = self.dns[host]
        return any(self._same_proxy(host, port, known) for known in self.proxies)

    def _same_proxy(self, host: str, port: str, known: str) -> bool:
        known_host, _, known_port = known.rpartition(":")
        return port == known_port and host in (known_host, self.dns.get(known_host))

    def _number_of(self, uri: str) -> str:
        return uri.removeprefix("sip:").split("@", 1)[0]

    def _record(self, number: str, failure: Failure | None, now: float) -> None:
        if failure not in ("auth", "locked"):
            return  # only what reaches the service counts towards its lock
        history = self._history.setdefault(number, _NumberHistory())
        history.failures = [t for t in history.failures if now - t < self.lock_window] + [now]
        if len(history.failures) >= self.lock_after and history.locked_until <= now:
            history.locked_until = now + self.lock_seconds


@dataclass
class _Attempt:
    settings: SipSettings
    started: float
    outcome: Failure | None = None
    resolved: bool = False
    verdict_at: float = 0.0


class RegistrationState:
    """One simulated device's registration: attempts, their outcome, retries, counters."""

    MAX_CATCH_UP = 10_000  # periodic REGISTERs resolved at one look, at most

    def __init__(self, service: MeetingService, *, resolves_names: bool = True,
                 retry_interval: float | None = None, refresh_interval: float | None = None) -> None:
        self.service = service
        self.resolves_names = resolves_names
        self.retry_interval = service.retry_interval if retry_interval is None else retry_interval
        self.refresh_interval = service.refresh_interval if refresh_interval is None else refresh_interval
        self.attempts = 0  # REGISTERs that reached a verdict
        self._current: _Attempt | None = None
        self._lock = threading.Lock()

    def changed(self, settings: SipSettings) -> None:
        """SIP settings changed on the device: start (or restart) one attempt."""
        with self._lock:
            if not settings.enabled:
                self._current = None
                return
            self._current = _Attempt(settings, self.service.clock())

    def view(self) -> tuple[Phase, Failure | None]:
        """What the device shows now: its phase, and the failure kind when failed."""
        with self._lock:
            attempt = self._current
            if attempt is None:
                return "inactive", None
            now = self.service.clock()
            if not attempt.resolved:
                if now - attempt.started < self.service.delay:
                    return "registering", None
                self._resolve(attempt, attempt.started + self.service.delay)
            self._catch_up(attempt, now)
            return ("registered", None) if attempt.outcome is None else ("failed", attempt.outcome)

    def _resolve(self, attempt: _Attempt, at: float) -> None:
        attempt.outcome = self.service.judge(attempt.settings, resolves_names=self.resolves_names, at=at)
        attempt.resolved, attempt.verdict_at = True, at
        self.attempts += 1

    def _catch_up(self, attempt: _Attempt, now: float) -> None:
        """The retries and refreshes the codec sent since the last verdict. While one is
        on its way the device keeps showing the last verdict (UNSURE: it may show
        Registering meanwhile)."""
        for _ in range(self.MAX_CATCH_UP):
            interval = self.refresh_interval if attempt.outcome is None else self.retry_interval
            if interval <= 0 or now < attempt.verdict_at + interval + self.service.delay:
                return
            self._resolve(attempt, attempt.verdict_at + interval + self.service.delay)

    def reset(self) -> None:
        with self._lock:
            self._current = None


# How each vendor words a failure (Cisco `SIP Registration n Reason`). The service's exact
# wording is not documented (protocols/cisco.md §4, UNSURE): these follow meeting-0328's list.
CISCO_REASONS: dict[Failure, str] = {
    "auth": "403 Forbidden",
    "locked": "403 Forbidden",
    "dns": "DNS lookup failed",
    "timeout": "408 Request Timeout",
}
