"""One room in one run: what the tasks work with, step by step.

A `Room` holds the room's inventory entry, its desired state, the run's options and
memory, and its result; its methods are the reading steps every task is written from
(open a session, identify, read settings and registration), each reporting what it did to
the run's processors. What `apply` changes is `core.changes` (plan, commit, put back);
the wait for a verdict is `core.waiting`. A task (`endpoints.tasks`) strings them together
top to bottom; the runner moves rooms through their task.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

from endpoints import advice, support
from endpoints.core.options import Options
from endpoints.core.processor import Processor
from endpoints.desired import DesiredSip
from endpoints.drivers import driver_class
from endpoints.drivers.base import Driver, Registration
from endpoints.errors import DeviceError, ProtocolError, Transient, Unreachable, Unsupported
from endpoints.host import Credentials, Host
from endpoints.profiles import Profile, ProfileSet, below_minimum
from endpoints.results import Change, HostResult
from endpoints.state import Memory

Steps = Generator[float, None, None]  # a task yields pauses (seconds) while its room waits


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

    kept: Driver | None = None  # the visit's session, kept open for the registration polls

    @contextmanager
    def session(self) -> Iterator[Driver]:
        """An open device session, closed on every way out, except after a write that will be
        verified: then it stays open (its socket idle, no slot held) for `await_registration`,
        whose polls reuse it and which closes it after the verdict, interrupted or not."""
        if self.kept is not None:  # never two sessions to one room
            self.kept.close()
            self.kept = None
        driver = self.open_driver()
        written = self.written
        try:
            yield driver
        except BaseException:
            driver.close()
            raise
        if self.options.verify and self.written is not written and self.kept is None:
            self.kept = driver  # commit() wrote in this session: the task waits for registration next
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

    @property
    def number(self) -> str:
        assert self.desired is not None
        return self.desired.number

    def fingerprint(self) -> str:
        assert self.desired is not None and self.desired.password is not None
        return self.memory.history.fingerprint(self.desired.number, self.desired.password.reveal())

    def fail(self, error: DeviceError) -> None:
        self.emit("error", kind=type(error).__name__, error=str(error))
        where = f"{self.host.address} over {self.transport}"
        self.result.fail(error.status, str(error), advice.for_error(error, where=where))


def _families(host: Host, profiles: ProfileSet) -> list[support.Family]:
    """The API families this room may speak: its model's, its forced profile's, or (with no
    model) every family that offers its transport, in the matrix's order."""
    if host.profile:
        return [support.FAMILIES[profiles.get(host.profile, where=host.origin("profile")).vendor]]
    if host.model:
        return [support.family_of(host.model)]
    assert host.transport, "the inventory requires `model` or `transport`"
    return list(support.families_with(host.transport))
