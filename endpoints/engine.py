"""The run engine: plan, apply and verify a fleet with bounded concurrency.

Each room is a `RoomJob` whose steps run in one of `forks` worker slots: the main step
(connect, identify, read, diff, write) and then, while the room registers, short polls.
Between polls a room holds no slot and no device session, so a fleet of N rooms takes
about max(R + k*L, N*k*L/F) rather than N*(k*L + R)/F.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from endpoints import advice
from endpoints.desired import DesiredSip, desired_state
from endpoints.drivers import driver_class, family_of
from endpoints.drivers.base import Driver, Registration, Write
from endpoints.errors import (
    AuthenticationFailed,
    DeviceError,
    HostKeyChanged,
    InputError,
    TLSVerifyFailed,
    Transient,
    Unreachable,
)
from endpoints.events import EventLog
from endpoints.history import Attempt, History
from endpoints.host import Credentials, Host
from endpoints.profiles import Profile, ProfileSet, Setting, below_minimum
from endpoints.results import Change, HostResult, RunResult, Status
from endpoints.secrets import Secret, SecretError, redact
from endpoints.trust import PinStore, replace_known_host

Command = Literal["facts", "plan", "apply", "verify", "recover"]
Progress = Callable[[HostResult, int, int], None]


@dataclass(frozen=True)
class Options:
    command: Command
    check: bool = False
    verify: bool = True
    verify_timeout: float = 120.0
    forks: int = 10
    force_password: bool = False
    resolve_proxy: bool = False
    retries: int = 2
    timeout: float = 10.0  # per device request
    first_poll: float = 0.5  # registration polls back off gently: 0.5 s, x1.25 each, at most 3 s
    poll_factor: float = 1.25
    max_poll: float = 3.0

    @property
    def writes(self) -> bool:
        return self.command in ("apply", "recover") and not self.check

    @property
    def needs_sip(self) -> bool:
        return self.command in ("plan", "apply", "recover")


def prepare(hosts: Sequence[Host], profiles: ProfileSet, options: Options) -> dict[str, DesiredSip | None]:
    """Check every room's input before any device is touched; raises InputError."""
    prepared: dict[str, DesiredSip | None] = {}
    for host in hosts:
        vendor = vendor_of(host, profiles)
        _resolve_secret(host, host.device_credentials.password, "device_credentials.password")
        if options.command == "recover" and host.device_credentials.password is None:
            raise InputError("recover restores the admin password from the inventory: set it",
                             file=host.source, key="device_credentials.password")
        desired = None
        if options.needs_sip:
            desired = desired_state(host, resolve_proxy=options.resolve_proxy)
            if options.writes and desired.password is None:
                raise InputError("no SIP password: set sip.password", file=host.source, key="sip.password")
            _resolve_secret(host, desired.password, "sip.password")
            for profile in profiles.profiles.values():
                if profile.vendor == vendor and (not host.profile or host.profile == profile.name):
                    profile.render(desired, host)
        prepared[host.name] = desired
    return prepared


def vendor_of(host: Host, profiles: ProfileSet) -> str:
    if host.profile:
        return profiles.get(host.profile).vendor
    if not host.model:
        raise InputError("set `model` (or `profile`) so the tool knows which API to speak", file=host.source,
                         key="model")
    return family_of(host.model)


def _resolve_secret(host: Host, secret: Secret | None, key: str) -> None:
    if secret is None:
        return
    try:
        secret.reveal()
    except SecretError as exc:
        raise InputError(str(exc), file=host.source, key=key) from None


class RoomJob:
    """One room through the run: a main step, then polls until a verdict."""

    def __init__(self, host: Host, desired: DesiredSip | None, profiles: ProfileSet, options: Options,
                 events: EventLog, history: History, pins: PinStore | None = None) -> None:
        self.pins = pins or PinStore(None)
        host = self.pins.apply(host)
        self.host, self.desired, self.profiles, self.options, self.events = host, desired, profiles, options, events
        self.history = history
        self.recovery_checked = False
        self.sent_password = False
        self.held: Attempt | None = None  # the refused attempt that keeps us from resending
        self.vendor = vendor_of(host, profiles)
        start_profile = profiles.get(host.profile) if host.profile else profiles.for_model(host.model, self.vendor)
        self.transport = host.transport or start_profile.transports[0]
        self.result = HostResult(host.name, transport=self.transport)
        self.profile: Profile | None = None
        self.tries = 0
        self.polling_until: float | None = None
        self.poll_every = options.first_poll
        self.started = time.monotonic()
        self.done = False

    # -- the step the scheduler runs -----------------------------------------------------
    def step(self) -> float | None:
        """Run the next step in a worker slot; the delay until the next one, or None when done."""
        try:
            delay = self._poll() if self.polling_until is not None else self._main()
        except DeviceError as error:
            delay = self._device_error(error)
        except InputError as error:  # found only once the device answered, e.g. recover needs `serial`
            self.result.fail("failed", str(error), "Fix this room's entry in the inventory and run again.")
            delay = None
        except Exception as error:  # a bug must fail one room, not the run
            self.result.fail("failed", f"internal error: {type(error).__name__}: {error}",
                             "This is a bug in endpoints: rerun with -v and report it with the event log.")
            delay = None
        if delay is None:
            self._finish()
        return delay

    def abandon(self, why: str) -> None:
        self.result.fail("failed", why, "The run was interrupted: rerun with --limit @<retry file>.")
        self._finish()

    def _finish(self) -> None:
        self.done = True
        self.result.seconds = time.monotonic() - self.started
        secrets = list(self.host.secrets())  # defence in depth: no message may carry a secret
        for field in ("error", "advice"):
            text = getattr(self.result, field)
            if text:
                setattr(self.result, field, redact(text, secrets))
        self.result.warnings = [redact(w, secrets) for w in self.result.warnings]
        self.events.emit(self.host.name, "verdict", status=self.result.status, error=self.result.error,
                         advice=self.result.advice, seconds=round(self.result.seconds, 3),
                         recovered=self.result.recovered,
                         registration=self.result.registration.state if self.result.registration else None)

    # -- main step -------------------------------------------------------------------------
    def _main(self) -> float | None:
        with self._session() as driver:
            profile = self._identify(driver)
            registration = self._registration(driver, profile)
            if self.options.command == "facts":
                self.result.settings = self._read(driver, profile)
                self.result.status = "ok"
                return None
            if self.options.command == "verify":
                return self._judge(registration, wrote=False)
            writes = self._plan(driver, profile, registration)
            if self.held is not None:
                return self._held_verdict(registration)
            if not self.options.writes:
                self.result.status = "changed" if self.result.changes else "ok"
                return None
            if writes:
                self._write(driver, profile, writes)
        return self._judge(registration, wrote=bool(writes))

    def _driver(self, credentials: Credentials | None = None, trust_changed_key: bool = False) -> Driver:
        cls = driver_class(self.vendor, self.transport)
        self.events.emit(self.host.name, "connect", transport=self.transport, address=self.host.address,
                         factory_login=credentials is not None)
        return cls(self.host, self.transport, timeout=self.options.timeout, credentials=credentials,
                   trust_changed_key=trust_changed_key)

    # -- recover: rooms just factory reset -----------------------------------------------
    def _session(self) -> AbstractContextManager[Driver]:
        """An open device session; for `recover`, through the factory login when needed."""
        if self.options.command != "recover" or self.recovery_checked:
            return self._driver()
        driver = self._driver()
        try:
            driver.open()
        except AuthenticationFailed as refused:
            driver.close()
            return closing(self._recover(refused, trust_key=False))
        except (HostKeyChanged, TLSVerifyFailed) as changed:
            driver.close()
            return closing(self._recover(changed, trust_key=True))
        self.recovery_checked = True  # not reset: from here on exactly as apply
        return closing(driver)

    def _recover(self, why: DeviceError, *, trust_key: bool) -> Driver:
        """Log in with the factory default once; only then trust a new key; restore the admin password."""
        self.events.emit(self.host.name, "recover-try", reason=type(why).__name__, error=str(why))
        factory = self._factory_login(why, trust_key)
        try:
            self._confirmed_reset(factory)
        finally:
            factory.close()
        self.recovery_checked = True
        driver = self._driver()
        driver.open()
        return driver

    def _factory_login(self, why: DeviceError, trust_key: bool) -> Driver:
        profile = self.profiles.get(self.host.profile) if self.host.profile else \
            self.profiles.for_model(self.host.model, self.vendor)
        for username, password in profile.factory_credentials(self.host):
            driver = self._driver(Credentials(username, Secret(password)), trust_changed_key=trust_key)
            try:
                driver.open()
                return driver
            except AuthenticationFailed:
                driver.close()
        self.recovery_checked = True
        if trust_key:
            raise HostKeyChanged(f"{why}; the factory default login was refused as well, so this room was not "
                                 "factory reset: investigate before trusting its new key")
        raise AuthenticationFailed(f"{why}; the factory default login was refused as well: the room is not in "
                                   "factory state, check device_credentials")

    def _confirmed_reset(self, factory: Driver) -> None:
        """The factory login worked: trust the new key, restore the password, leave the wizard."""
        self.result.recovered = True
        if factory.key_changed and factory.presented_key:
            self._trust(factory.presented_key)
        password = self.host.device_credentials.password
        assert password is not None, "prepare() requires it for recover"
        factory.set_admin_password(password)
        self.events.emit(self.host.name, "recover-admin-password", restored=True)
        if factory.first_boot():
            factory.finish_first_boot()
            self.events.emit(self.host.name, "recover-first-boot", finished=True)

    def _trust(self, presented: str) -> None:
        if " " in presented:  # a known_hosts line
            replace_known_host(self.host.known_hosts or Path.home() / ".ssh" / "known_hosts", presented)
        else:
            self.host = self.pins.record(self.host, presented.removeprefix("sha256:"))
        self.events.emit(self.host.name, "recover-trust", key=presented)
        self.result.warnings.append(f"factory reset confirmed: trusted the new {'host key' if ' ' in presented else 'certificate'}")

    def _identify(self, driver: Driver) -> Profile:
        identity = driver.identity()
        self.result.identify(identity)
        self.events.emit(self.host.name, "identity", model=identity.model, product=identity.product,
                         software=identity.software, serial=identity.serial)
        profile = self.profiles.select(identity, self.vendor, self.host.profile)
        self.profile = profile
        self.result.profile = profile.name
        if identity.model and self.host.model and identity.model != self.host.model:
            self.result.warnings.append(f"the inventory says {self.host.model}; the device reports {identity.model}")
        if identity.model and identity.model not in profile.models:
            self.result.warnings.append(f"{identity.model} is not among the tested models of {profile.name}")
        minimum = below_minimum(profile, identity)
        if minimum:
            text = advice.below_minimum(identity.model, identity.software, minimum)
            self.result.warnings.append(text)
            self.result.advice = text
        return profile

    def _read(self, driver: Driver, profile: Profile) -> dict[str, str | None]:
        readable = [s for s in profile.settings if not s.secret]
        values = driver.read([s.path_for(self.transport) for s in readable])
        settings = {s.setting: values.get(s.path_for(self.transport)) for s in readable}
        self.events.emit(self.host.name, "read", settings=settings)
        return settings

    def _registration(self, driver: Driver, profile: Profile) -> Registration:
        status_path, reason_path = profile.registration.paths_for(self.transport)
        paths = [status_path] + ([reason_path] if reason_path else [])
        registration = profile.registration.interpret(driver.status(paths), self.transport)
        self.result.registration = registration
        self.events.emit(self.host.name, "registration", state=registration.state, reason=registration.reason)
        return registration

    def _plan(self, driver: Driver, profile: Profile, registration: Registration) -> list[Write]:
        assert self.desired is not None
        current = self._read(driver, profile)
        changes, secrets = [], []
        for setting, value in profile.render(self.desired, self.host):
            if setting.secret:
                secrets.append((setting, value))
                continue
            before = current.get(setting.setting)
            if before is None:
                self.result.warnings.append(f"{setting.setting} does not exist on this device; not written")
            elif not _same(before, str(value), setting):
                changes.append(Change(setting.setting, before, value))
        reason = self._send_secrets(changes, registration) if secrets else ""
        if reason:
            changes += [Change(s.setting, None, v, secret=True, reason=reason) for s, v in secrets]
        self.result.changes = changes
        self.events.emit(self.host.name, "diff", changes=[c.to_json() for c in changes])
        by_name = {s.setting: s for s in profile.settings}
        return [Write(by_name[c.setting].path_for(self.transport), c.after) for c in changes]

    def _send_secrets(self, changes: list[Change], registration: Registration) -> str:
        """Passwords cannot be read back: send them only when the room needs them.

        A registered room with every readable setting right keeps its password: sending it
        again would re-register, and the service locks numbers that register repeatedly.
        Nor is a password sent again that the service already refused for this number.
        Returns why it is sent, or "" to keep it.
        """
        if self.options.force_password:
            return "--force-password"
        if self.result.recovered:
            return "the room was factory reset"
        if changes:
            return "other SIP settings change"
        if registration.state in ("registered", "registering"):
            return ""
        last = self.history.last(self._number())
        if last is not None and not last.registered and last.fingerprint == self._fingerprint() \
                and advice.counts_towards_lock(last.reason):
            self.held = last
            return ""
        return f"registration is {registration.state}"

    def _number(self) -> str:
        assert self.desired is not None
        return self.desired.number

    def _fingerprint(self) -> str:
        assert self.desired is not None and self.desired.password is not None
        return self.history.fingerprint(self.desired.number, self.desired.password.reveal())

    def _held_verdict(self, registration: Registration) -> float | None:
        assert self.held is not None
        self.result.status = "failed"
        when = time.strftime("%H:%M", time.localtime(self.held.when))
        said = f" ({self.held.reason})" if self.held.reason else ""
        self.result.error = (f"not registered ({registration.state}); this password was refused at {when}{said} "
                             "and was not sent again (fix sip.password, or --force-password to try it once more)")
        failures = self.history.recent_failures(self._number())
        self.result.advice = advice.for_registration(Registration("failed", self.held.reason),
                                                     recent_failures=failures)
        self.result.changes = []
        return None

    def _write(self, driver: Driver, profile: Profile, writes: list[Write]) -> None:
        self.events.emit(self.host.name, "write", settings={w.path: w.value for w in writes})
        self.sent_password = any(isinstance(w.value, Secret) for w in writes)
        driver.write(writes)
        written = {w.path for w in writes}
        readable = [s for s in profile.settings if not s.secret and s.path_for(self.transport) in written]
        after = driver.read([s.path_for(self.transport) for s in readable])
        for setting in readable:
            wanted = next(w.value for w in writes if w.path == setting.path_for(self.transport))
            got = after.get(setting.path_for(self.transport))
            if got is None or not _same(got, str(wanted), setting):
                raise DeviceError(f"{setting.setting} reads back {got!r} after writing {wanted!r}")
        self.result.status = "changed"

    # -- verification ----------------------------------------------------------------------
    def _judge(self, registration: Registration, *, wrote: bool) -> float | None:
        if wrote:
            self.result.status = "changed"
        elif self.result.status != "changed":
            self.result.status = "ok"
        if not self.options.verify and self.options.command != "verify":
            return None
        if registration.state == "registered" and not wrote:
            return None
        if registration.state in ("failed", "unregistered") and not wrote:
            return self._verdict(registration)
        self.polling_until = time.monotonic() + self.options.verify_timeout
        return self.options.first_poll

    def _poll(self) -> float | None:
        assert self.profile is not None and self.polling_until is not None
        try:
            driver = self._driver()
            with closing(driver):
                driver.open_for_status()
                registration = self._registration(driver, self.profile)
        except (Transient, Unreachable) as error:  # a codec may be busy right after a change
            self.events.emit(self.host.name, "poll-error", error=str(error))
            registration = Registration("unknown", str(error))
            self.result.registration = registration
        if registration.state in ("registered", "failed"):
            return self._verdict(registration)
        if time.monotonic() >= self.polling_until:
            return self._verdict(registration, timed_out=True)
        self.poll_every = min(self.poll_every * self.options.poll_factor, self.options.max_poll)
        return min(self.poll_every, max(0.0, self.polling_until - time.monotonic()))

    def _verdict(self, registration: Registration, *, timed_out: bool = False) -> float | None:
        """The room's final word on registration: never a further step."""
        self.result.registration = registration
        if self.sent_password:
            self.history.record(self._number(), Attempt(time.time(), self._fingerprint(),
                                                        registration.state == "registered", registration.reason))
        if registration.state == "registered":
            return None
        said = f" (device says: {registration.reason})" if registration.reason else ""
        if timed_out:
            error = f"not registered after {self.options.verify_timeout:g} s: {registration.state}{said}"
        else:
            error = f"registration {registration.state}{said}"
        failures = self.history.recent_failures(self._number()) if self.desired else 0
        self.result.fail("failed", error, advice.for_registration(registration, recent_failures=failures))
        return None

    # -- faults ----------------------------------------------------------------------------
    def _device_error(self, error: DeviceError) -> float | None:
        self.events.emit(self.host.name, "error", kind=type(error).__name__, error=str(error))
        if isinstance(error, (Transient, Unreachable)) and self.tries < self.options.retries:
            self.tries += 1
            return 0.5 * 2 ** (self.tries - 1)
        status: Status = "unreachable" if isinstance(error, Unreachable) else "failed"
        port_hint = f"{self.host.address} over {self.transport}"
        self.result.fail(status, str(error), advice.for_error(error, where=port_hint))
        return None


def _same(current: str, wanted: str, setting: Setting) -> bool:
    a, b = current.strip(), wanted.strip()
    return a.casefold() == b.casefold() if setting.casefold else a == b


class Scheduler:
    """Runs job steps on `forks` worker threads; a job waiting between steps holds none."""

    def __init__(self, forks: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(1, forks), thread_name_prefix="room")
        self._due: list[tuple[float, int, RoomJob]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._active = 0

    def run(self, jobs: Sequence[RoomJob], on_done: Callable[[RoomJob], None]) -> bool:
        """Run every job to its verdict; False when interrupted (Ctrl-C)."""
        self._on_done = on_done
        for job in jobs:
            self._push(job, 0.0)
        try:
            self._dispatch()
            return True
        except KeyboardInterrupt:
            with self._cond:
                self._due = []  # waiting rooms are abandoned by the caller; in-flight steps finish
            return False
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _push(self, job: RoomJob, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), job))
            self._active += 1
            self._cond.notify()

    def _dispatch(self) -> None:
        with self._cond:
            while self._active:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    job = heapq.heappop(self._due)[2]
                    self.pool.submit(self._run, job)
                wait = self._due[0][0] - now if self._due else None
                self._cond.wait(timeout=wait if wait is None else min(wait, 0.5))

    def _run(self, job: RoomJob) -> None:
        delay = job.step()
        with self._cond:
            self._active -= 1
            if delay is None:
                self._on_done(job)
            else:
                heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), job))
                self._active += 1
            self._cond.notify()


def run(hosts: Sequence[Host], profiles: ProfileSet, options: Options, events: EventLog,
        progress: Progress | None = None, history: History | None = None,
        pins: PinStore | None = None) -> RunResult:
    """Run one command over the selected rooms. InputError before any device is touched."""
    prepared = prepare(hosts, profiles, options)
    history = history or History(None)
    jobs = [RoomJob(h, prepared[h.name], profiles, options, events, history, pins) for h in hosts]
    results = {job.host.name: job.result for job in jobs}
    done = [0]
    lock = threading.Lock()

    def on_done(job: RoomJob) -> None:
        with lock:
            done[0] += 1
            if progress:
                progress(job.result, done[0], len(jobs))

    try:
        finished = Scheduler(options.forks).run(jobs, on_done)
    finally:
        history.flush()
    for job in jobs:
        if not job.done:
            job.abandon("interrupted while waiting for registration" if job.polling_until is not None
                        else "interrupted before the room was reached")
            on_done(job)
    return RunResult(options.command, results, interrupted=not finished)
