"""What `apply` changes on one room: the plan (what differs, and whether the password goes
with it), the commit (written, read back, put back on a refusal), and the verdict of a
password kept back. Functions of a `Room`, called by the tasks in the order they read."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from endpoints import advice
from endpoints.core.room import Room
from endpoints.drivers.base import Driver, Registration, Write
from endpoints.errors import DeviceError, SettingRefused
from endpoints.history import Attempt
from endpoints.profiles import Profile, Setting
from endpoints.results import Change
from endpoints.secrets import Secret


@dataclass
class Plan:
    """What `apply` would write to one room, and why a password goes with it (or not)."""

    changes: list[Change] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    held: Attempt | None = None  # a refused password kept back: the room fails without a write


def plan(room: Room, driver: Driver, profile: Profile, registration: Registration) -> Plan:
    assert room.desired is not None
    current = room.settings(driver, profile)
    plan, secrets = Plan(), []
    for setting, value in profile.render(room.desired, room.host):
        if setting.secret:
            secrets.append((setting, value))
            continue
        before = current.get(setting.setting)
        if before is None:
            room.result.warnings.append(f"{setting.setting} does not exist on this device; not written")
        elif not same(before, str(value), setting):
            plan.changes.append(Change(setting.setting, before, value))
    reason = _send_secrets(room, plan, registration, profile) if secrets else ""
    if reason:
        plan.changes += [Change(s.setting, None, v, secret=True, reason=reason) for s, v in secrets]
    by_name = {s.setting: s for s in profile.settings}
    plan.writes = [Write(by_name[c.setting].path_for(room.transport), c.after) for c in plan.changes]
    room.result.changes = merged(room.written, plan.changes)
    room.emit("diff", changes=[c.to_json() for c in plan.changes])
    return plan


def _send_secrets(room: Room, plan: Plan, registration: Registration, profile: Profile) -> str:
    """Passwords cannot be read back: send them only when the room needs them.

    A registered room with every SIP setting right keeps its password: sending it again
    would re-register, and the service locks numbers that register repeatedly. An
    operator's own setting (system name, NTP) is no reason. Nor is a password sent
    again that the service already refused for this number. Returns why it is sent,
    or "" to keep it.
    """
    sip = {s.setting for s in profile.settings if s.sip}
    if room.options.force_password:
        return "--force-password"
    if room.result.recovered:
        return "the room was factory reset"
    if any(c.setting in sip for c in plan.changes):
        return "other SIP settings change"
    if registration.state in ("registered", "registering"):
        return ""
    last = room.memory.history.last(room.number)
    if last is not None and not last.registered and last.fingerprint == room.fingerprint() \
            and advice.counts_towards_lock(last.reason):
        plan.held = last
        return ""
    return f"registration is {registration.state}"


def held_verdict(room: Room, plan: Plan, registration: Registration) -> None:
    assert plan.held is not None
    when = time.strftime("%H:%M", time.localtime(plan.held.when))
    said = f" ({plan.held.reason})" if plan.held.reason else ""
    failures = room.memory.history.recent_failures(room.number)
    room.result.changes = list(room.written)
    room.result.fail("failed", f"not registered ({registration.state}); this password was refused at "
                     f"{when}{said} and was not sent again (fix sip.password, or --force-password to try it "
                     "once more)", advice.for_registration(Registration("failed", plan.held.reason),
                                                           recent_failures=failures))



def commit(room: Room, driver: Driver, profile: Profile, plan: Plan) -> None:
    """Write what differs, check it stuck; a refusal puts back what this write changed."""
    if not plan.writes:
        return
    backup = [{"setting": c.setting, "path": w.path, "before": c.before, "secret": c.secret}
              for w, c in zip(plan.writes, plan.changes)]
    room.emit("write", settings={w.path: w.value for w in plan.writes}, backup=backup, profile=profile.name)
    room.written = merged(room.written, plan.changes)  # reported whatever happens next
    room.result.changes = list(room.written)
    room.result.status = "changed"
    room.sent_password = room.sent_password or any(isinstance(w.value, Secret) for w in plan.writes)
    try:
        driver.write(plan.writes)
        _check_kept(room, driver, profile, plan.writes)
    except SettingRefused as refused:
        _restore(room, driver, plan, refused)
        raise


def _check_kept(room: Room, driver: Driver, profile: Profile, writes: list[Write]) -> None:
    written = {w.path: w for w in writes}
    readable = [s for s in profile.settings if not s.secret and s.path_for(room.transport) in written]
    after = driver.read([s.path_for(room.transport) for s in readable])
    for setting in readable:
        path = setting.path_for(room.transport)
        wanted, got = str(written[path].value), after.get(path)
        if got is None or not same(got, wanted, setting):
            raise SettingRefused(path, f"reads back {got!r} after writing {wanted!r}")


def _restore(room: Room, driver: Driver, plan: Plan, refused: SettingRefused) -> None:
    previous = [Write(w.path, c.before) for w, c in zip(plan.writes, plan.changes)
                if not c.secret and c.before is not None]
    try:
        back = driver.rollback(previous)
    except DeviceError as error:
        room.emit("restore-failed", error=str(error))
        room.result.warnings.append(f"could not put back the settings written before the refusal: {error}")
        return
    room.result.restored = [{"setting": w.path, "value": w.value} for w in back]
    room.result.not_restored = [c.setting for c in plan.changes if c.secret]
    restored = {c.setting for w, c in zip(plan.writes, plan.changes) if w.path in {b.path for b in back}}
    room.written = [c for c in room.written if c.setting not in restored]
    room.result.changes = list(room.written)
    room.emit("restored", settings={w.path: w.value for w in back})
    if back:
        room.result.warnings.append(f"restored the {len(back)} setting(s) this run had written before the refusal")


def same(current: str, wanted: str, setting: Setting) -> bool:
    a, b = current.strip(), wanted.strip()
    return a.casefold() == b.casefold() if setting.casefold else a == b


def merged(earlier: list[Change], later: list[Change]) -> list[Change]:
    """Changes of several visits, one per setting, the latest last."""
    settings = {c.setting for c in later}
    return [c for c in earlier if c.setting not in settings] + list(later)
