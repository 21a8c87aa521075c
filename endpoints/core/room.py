"""One room in one run: what the tasks work with, step by step.

A `Room` holds the room's inventory entry, its desired state, the run's options and
memory, and its result; its methods are the steps every task is written from (open a
session, identify, read, plan, commit, wait for registration) and each reports what it
did to the run's processors. A task (`endpoints.tasks`) strings them together top to
bottom; the runner moves rooms through their task.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from endpoints import advice, support
from endpoints.core.options import Options
from endpoints.core.processor import Processor
from endpoints.desired import DesiredSip
from endpoints.drivers import driver_class
from endpoints.drivers.base import Driver, Registration, Write
from endpoints.errors import DeviceError, ProtocolError, SettingRefused, Transient, Unreachable, Unsupported
from endpoints.history import Attempt
from endpoints.host import Credentials, Host
from endpoints.profiles import Profile, ProfileSet, Setting, below_minimum
from endpoints.results import Change, HostResult
from endpoints.secrets import Secret
from endpoints.state import Memory

Steps = Generator[float, None, None]  # a task yields pauses (seconds) while its room waits


@dataclass
class Plan:
    """What `apply` would write to one room, and why a password goes with it (or not)."""

    changes: list[Change] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    held: Attempt | None = None  # a refused password kept back: the room fails without a write


class Room:
    def __init__(self, host: Host, desired: DesiredSip | None, profiles: ProfileSet, options: Options,
                 memory: Memory, processors: Processor) -> None:
        self.options, self.profiles, self.memory, self.processors = options, profiles, memory, processors
        self.desired = desired
        self.families = _families(host, profiles)
        self.transport = host.transport or self.families[0].transports[0]
        host = dataclasses.replace(host, transport=self.transport)  # so `ansible_port` finds its protocol
        self.host = memory.trust.apply(host, host.port("https", support.default_port("https")))
        self.family = self.families[0].name
        self.result = HostResult(host.name, transport=self.transport, address=host.address,
                                 groups=host.groups)
        self.profile: Profile | None = None
        self.written: list[Change] = []  # what this run sent to the room, over every visit
        self.sent_password = False
        self.recovery_checked = False  # recover: the factory-state question is settled
        self.trusted: list[str] = []  # recover: keys and certificates taken on trust for this room
        self.backup: dict[str, Any] | None = None  # rollback: this room's entry in the run's backup.json
        self.tries = 0
        self.started = time.monotonic()
        self.done = False
        self.reached = False  # a visit began (an interrupted run reports the others `skipped`)

    @property
    def name(self) -> str:
        return self.host.name

    def emit(self, event: str, **fields: Any) -> None:
        self.processors.room_event(self, event, fields)

    # --- sessions --------------------------------------------------------------------------

    def driver(self, credentials: Credentials | None = None, *, trust_changed_key: bool = False) -> Driver:
        cls = driver_class(self.family, self.transport)
        self.emit("connect", transport=self.transport, address=self.host.address,
                  factory_login=credentials is not None)
        return cls(self.host, self.transport, timeout=self.options.timeout, credentials=credentials,
                   trust_changed_key=trust_changed_key)

    _kept: Driver | None = None  # the visit's session, kept open for the registration polls

    @contextmanager
    def session(self) -> Iterator[Driver]:
        """An open device session, closed on every way out, except after a write that will be
        verified: then it stays open (its socket idle, no slot held) for `await_registration`,
        whose polls reuse it and which closes it after the verdict, interrupted or not."""
        if self._kept is not None:  # never two sessions to one room
            self._kept.close()
            self._kept = None
        driver = self.open_driver()
        written = self.written
        try:
            yield driver
        except BaseException:
            driver.close()
            raise
        if self.options.verify and self.written is not written and self._kept is None:
            self._kept = driver  # commit() wrote in this session: the task waits for registration next
        else:
            driver.close()

    def open_driver(self) -> Driver:
        """Open the room's API; without `model`, the families that offer the transport are
        tried in the matrix's order until one answers as itself (never after a refused login)."""
        for index, family in enumerate(self.families):
            self.family = family.name
            driver = self.driver()
            try:
                driver.open()
                if len(self.families) > 1:
                    driver.identity()  # proves it is this family's API
                return driver
            except (ProtocolError, Transient, Unsupported) as error:
                driver.close()
                if index == len(self.families) - 1:
                    raise
                self.emit("probe", family=family.name, error=str(error))
            except BaseException:
                driver.close()
                raise
        raise AssertionError("unreachable: families is never empty")

    def reconnect(self) -> Generator[float, None, Driver]:
        """Open the room's API, waiting (no slot held) while it restarts, up to --verify-timeout."""
        until = time.monotonic() + self.options.verify_timeout
        pause = self.options.first_poll
        while True:
            try:
                return self.open_driver()
            except Unreachable as error:
                if time.monotonic() >= until:
                    raise
                self.emit("waiting-for-restart", error=str(error))
            yield pause
            pause = min(pause * 2, 5.0)

    # --- reading -----------------------------------------------------------------------------

    def identify(self, driver: Driver) -> Profile:
        identity = driver.identity()
        self.result.identify(identity)
        self.emit("identity", model=identity.model, product=identity.product, software=identity.software,
                  serial=identity.serial)
        if identity.model and identity.model in support.MODELS:
            self.family = support.family_of(identity.model).name
        profile = self.profiles.select(identity, self.family, self.host.profile)
        self.profile, self.result.profile = profile, profile.name
        if identity.model and self.host.model and identity.model != self.host.model:
            self.result.warnings.append(f"the inventory says {self.host.model}; the device reports {identity.model}")
        if identity.model and identity.model not in profile.models:
            self.result.warnings.append(f"{identity.model} is not among the tested models of {profile.name}")
        elif not identity.model:
            self.result.warnings.append(f"the device names itself {identity.product!r}, a model this tool has "
                                        "not been tested with")
        minimum = below_minimum(profile, identity)
        if minimum:
            text = advice.below_minimum(identity.model, identity.software, minimum)
            self.result.warnings.append(text)
            self.result.advice = text
        return profile

    def settings(self, driver: Driver, profile: Profile) -> dict[str, str | None]:
        readable = [s for s in profile.settings if not s.secret]
        values = driver.read([s.path_for(self.transport) for s in readable])
        settings = {s.setting: values.get(s.path_for(self.transport)) for s in readable}
        self.emit("read", settings=settings)
        return settings

    def registration(self, driver: Driver, profile: Profile) -> Registration:
        status_path, reason_path = profile.registration.paths_for(self.transport)
        paths = [status_path] + ([reason_path] if reason_path else [])
        registration = profile.registration.interpret(driver.status(paths), self.transport)
        self.result.registration = registration
        self.emit("registration", state=registration.state, reason=registration.reason)
        return registration

    # --- planning ----------------------------------------------------------------------------

    def plan(self, driver: Driver, profile: Profile, registration: Registration) -> Plan:
        assert self.desired is not None
        current = self.settings(driver, profile)
        plan, secrets = Plan(), []
        for setting, value in profile.render(self.desired, self.host):
            if setting.secret:
                secrets.append((setting, value))
                continue
            before = current.get(setting.setting)
            if before is None:
                self.result.warnings.append(f"{setting.setting} does not exist on this device; not written")
            elif not same(before, str(value), setting):
                plan.changes.append(Change(setting.setting, before, value))
        reason = self._send_secrets(plan, registration, profile) if secrets else ""
        if reason:
            plan.changes += [Change(s.setting, None, v, secret=True, reason=reason) for s, v in secrets]
        by_name = {s.setting: s for s in profile.settings}
        plan.writes = [Write(by_name[c.setting].path_for(self.transport), c.after) for c in plan.changes]
        self.result.changes = _merged(self.written, plan.changes)
        self.emit("diff", changes=[c.to_json() for c in plan.changes])
        return plan

    def _send_secrets(self, plan: Plan, registration: Registration, profile: Profile) -> str:
        """Passwords cannot be read back: send them only when the room needs them.

        A registered room with every SIP setting right keeps its password: sending it again
        would re-register, and the service locks numbers that register repeatedly. An
        operator's own setting (system name, NTP) is no reason. Nor is a password sent
        again that the service already refused for this number. Returns why it is sent,
        or "" to keep it.
        """
        sip = {s.setting for s in profile.settings if s.sip}
        if self.options.force_password:
            return "--force-password"
        if self.result.recovered:
            return "the room was factory reset"
        if any(c.setting in sip for c in plan.changes):
            return "other SIP settings change"
        if registration.state in ("registered", "registering"):
            return ""
        last = self.memory.history.last(self.number)
        if last is not None and not last.registered and last.fingerprint == self.fingerprint() \
                and advice.counts_towards_lock(last.reason):
            plan.held = last
            return ""
        return f"registration is {registration.state}"

    @property
    def number(self) -> str:
        assert self.desired is not None
        return self.desired.number

    def fingerprint(self) -> str:
        assert self.desired is not None and self.desired.password is not None
        return self.memory.history.fingerprint(self.desired.number, self.desired.password.reveal())

    def held_verdict(self, plan: Plan, registration: Registration) -> None:
        assert plan.held is not None
        when = time.strftime("%H:%M", time.localtime(plan.held.when))
        said = f" ({plan.held.reason})" if plan.held.reason else ""
        failures = self.memory.history.recent_failures(self.number)
        self.result.changes = list(self.written)
        self.result.fail("failed", f"not registered ({registration.state}); this password was refused at "
                         f"{when}{said} and was not sent again (fix sip.password, or --force-password to try it "
                         "once more)", advice.for_registration(Registration("failed", plan.held.reason),
                                                               recent_failures=failures))

    # --- writing -----------------------------------------------------------------------------

    def commit(self, driver: Driver, profile: Profile, plan: Plan) -> None:
        """Write what differs, check it stuck; a refusal puts back what this write changed."""
        if not plan.writes:
            return
        backup = [{"setting": c.setting, "path": w.path, "before": c.before, "secret": c.secret}
                  for w, c in zip(plan.writes, plan.changes)]
        self.emit("write", settings={w.path: w.value for w in plan.writes}, backup=backup, profile=profile.name)
        self.written = _merged(self.written, plan.changes)  # reported whatever happens next
        self.result.changes = list(self.written)
        self.result.status = "changed"
        self.sent_password = self.sent_password or any(isinstance(w.value, Secret) for w in plan.writes)
        try:
            driver.write(plan.writes)
            self._check_kept(driver, profile, plan.writes)
        except SettingRefused as refused:
            self._restore(driver, plan, refused)
            raise

    def _check_kept(self, driver: Driver, profile: Profile, writes: list[Write]) -> None:
        written = {w.path: w for w in writes}
        readable = [s for s in profile.settings if not s.secret and s.path_for(self.transport) in written]
        after = driver.read([s.path_for(self.transport) for s in readable])
        for setting in readable:
            path = setting.path_for(self.transport)
            wanted, got = str(written[path].value), after.get(path)
            if got is None or not same(got, wanted, setting):
                raise SettingRefused(path, f"reads back {got!r} after writing {wanted!r}")

    def _restore(self, driver: Driver, plan: Plan, refused: SettingRefused) -> None:
        previous = [Write(w.path, c.before) for w, c in zip(plan.writes, plan.changes)
                    if not c.secret and c.before is not None]
        try:
            back = driver.rollback(previous)
        except DeviceError as error:
            self.emit("restore-failed", error=str(error))
            self.result.warnings.append(f"could not put back the settings written before the refusal: {error}")
            return
        self.result.restored = [{"setting": w.path, "value": w.value} for w in back]
        self.result.not_restored = [c.setting for c in plan.changes if c.secret]
        restored = {c.setting for w, c in zip(plan.writes, plan.changes) if w.path in {b.path for b in back}}
        self.written = [c for c in self.written if c.setting not in restored]
        self.result.changes = list(self.written)
        self.emit("restored", settings={w.path: w.value for w in back})
        if back:
            self.result.warnings.append(f"restored the {len(back)} setting(s) this run had written before the refusal")

    # --- registration --------------------------------------------------------------------------

    def await_registration(self, profile: Profile, registration: Registration, *, wrote: bool) -> Steps:
        """Poll until the room registers, fails, or the time is up; no slot held between polls
        (the runner gives the slot to another room while this one waits).

        After a write the first poll waits the profile's `registration.settle` (the device
        cannot have a verdict earlier), then polls back off. They go over the session the
        visit kept (`session()`), or one opened for them, closed after the verdict and on
        every way out (an interrupted run closes this generator)."""
        try:
            if registration.state == "registered" and not wrote:
                return
            if registration.state in ("failed", "unregistered") and not wrote:
                self.verdict(registration)
                return
            until = time.monotonic() + self.options.verify_timeout
            settle, first, factor = profile.registration.settle if wrote else 0.0, self.options.first_poll, \
                self.options.poll_factor
            pause, gap = (settle, first) if settle else (first, first * factor)
            silent: DeviceError | None = None
            while True:
                yield min(pause, max(0.0, until - time.monotonic()))
                registration, silent = self.poll(profile, registration, keep=True)
                if registration.state in ("registered", "failed") and silent is None:
                    self.verdict(registration)
                    return
                if time.monotonic() >= until:
                    self.verdict(registration, timed_out=True, silent=silent)
                    return
                pause, gap = min(gap, self.options.max_poll), gap * factor
        finally:
            kept, self._kept = self._kept, None
            if kept is not None:
                kept.close()

    def poll(self, profile: Profile, last: Registration, *, keep: bool = False) -> tuple[Registration,
                                                                                         DeviceError | None]:
        """One registration poll; a device that does not answer keeps its last known state.

        With `keep` (the polls of `await_registration`) it goes over the room's kept session,
        opened for the polls when there is none and opened again once when the device dropped
        it; without, over a connection of its own, closed after it."""
        try:
            if not keep:
                driver = self._for_status()
                try:
                    return self.registration(driver, profile), None
                finally:
                    driver.close()
            if self._kept is not None:
                try:
                    return self.registration(self._kept, profile), None
                except (Transient, Unreachable) as error:  # dropped while idle, or restarting
                    dropped, self._kept = self._kept, None
                    dropped.close()
                    self.emit("poll-reconnect", error=str(error))
            self._kept = self._for_status()
            return self.registration(self._kept, profile), None
        except (Transient, Unreachable) as error:  # busy or restarting right after a change
            self.emit("poll-error", error=str(error))
            return last, error

    def _for_status(self) -> Driver:
        """A driver opened for status reads only (see `Driver.open_for_status`)."""
        driver = self.driver()
        try:
            driver.open_for_status()
        except BaseException:
            driver.close()
            raise
        return driver

    def verdict(self, registration: Registration, *, timed_out: bool = False,
                silent: DeviceError | None = None) -> None:
        """The room's final word on registration."""
        self.result.registration = registration
        if self.sent_password and self.desired is not None and silent is None:
            # The memory that keeps a refused password from being sent again (HistoryProcessor).
            self.emit("attempt", number=self.number, registered=registration.state == "registered",
                      reason=registration.reason)
        if registration.state == "registered" and silent is None:
            return
        if silent is not None:
            self.result.fail("unreachable", f"the device stopped answering while it registered: {silent}",
                             advice.STOPPED)
            return
        said = f" (device says: {registration.reason})" if registration.reason else ""
        if timed_out:
            error = f"not registered after {self.options.verify_timeout:g} s: {registration.state}{said}"
        else:
            error = f"registration {registration.state}{said}"
        failures = self.memory.history.recent_failures(self.number) if self.desired else 0
        self.result.fail("failed", error, advice.for_registration(registration, recent_failures=failures))

    def fail(self, error: DeviceError) -> None:
        self.emit("error", kind=type(error).__name__, error=str(error))
        where = f"{self.host.address} over {self.transport}"
        self.result.fail(error.status, str(error), advice.for_error(error, where=where))


def same(current: str, wanted: str, setting: Setting) -> bool:
    a, b = current.strip(), wanted.strip()
    return a.casefold() == b.casefold() if setting.casefold else a == b


def _merged(earlier: list[Change], later: list[Change]) -> list[Change]:
    """Changes of several visits, one per setting, the latest last."""
    settings = {c.setting for c in later}
    return [c for c in earlier if c.setting not in settings] + list(later)


def _families(host: Host, profiles: ProfileSet) -> list[support.Family]:
    """The API families this room may speak: its model's, its forced profile's, or (with no
    model) every family that offers its transport, in the matrix's order."""
    if host.profile:
        return [support.FAMILIES[profiles.get(host.profile, where=host.origin("profile")).vendor]]
    if host.model:
        return [support.family_of(host.model)]
    assert host.transport, "the inventory requires `model` or `transport`"
    return list(support.families_with(host.transport))
