"""The simulated meeting service: every failure kind, coalescing, the lock and its expiry."""
from __future__ import annotations

import pytest

from endpoints.lab.registration import MeetingService, RegistrationState, SipSettings

NUMBER = "+99111600001"
URI = f"{NUMBER}@huaweicloud.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> MeetingService:
    service = MeetingService(delay=1.0, lock_after=3, lock_window=600, lock_seconds=900, clock=clock)
    service.add_account(NUMBER, "right")
    return service


def good(**changes: object) -> SipSettings:
    values = dict(enabled=True, uri=URI, auth_username=URI, password="right",
                  proxy="sip2-ec.huaweicloud.com:5061", registrar="huaweicloud.com", transport="tls")
    values.update(changes)
    return SipSettings(**values)  # type: ignore[arg-type]


def settle(state: RegistrationState, clock: Clock, settings: SipSettings) -> tuple[str, str | None]:
    state.changed(settings)
    assert state.view() == ("registering", None)
    clock.now += 1.0
    return state.view()


def test_right_account_registers_after_the_delay(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    assert settle(state, clock, good()) == ("registered", None)
    assert state.attempts == 1


@pytest.mark.parametrize("change, failure", [
    ({"password": "wrong"}, "auth"),
    ({"auth_username": NUMBER}, "auth"),
    ({"uri": "+99111999999@huaweicloud.com", "auth_username": "+99111999999@huaweicloud.com"}, "auth"),
    ({"registrar": "example.com"}, "auth"),
    ({"proxy": "sip.example.com:5061"}, "dns"),
    ({"proxy": "sip2-ec.huaweicloud.com:5060"}, "dns"),
    ({"transport": "udp"}, "timeout"),
    ({"transport": "tcp"}, "timeout"),
])
def test_each_wrong_setting_fails_its_own_way(service: MeetingService, clock: Clock, change: dict[str, str],
                                              failure: str) -> None:
    assert settle(RegistrationState(service), clock, good(**change)) == ("failed", failure)


def test_proxy_by_ip_and_bare_name_are_accepted(service: MeetingService, clock: Clock) -> None:
    for proxy in ("159.138.44.101:5061", "159.138.44.100:5061", "sip2-ec.huaweicloud.com"):
        assert settle(RegistrationState(service), clock, good(proxy=proxy)) == ("registered", None)


def test_a_room_that_cannot_resolve_names_needs_the_ip(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service, resolves_names=False)
    assert settle(state, clock, good()) == ("failed", "dns")
    assert settle(state, clock, good(proxy="159.138.44.100:5061")) == ("registered", None)


def test_sip_off_is_inactive_and_makes_no_attempt(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    state.changed(good(enabled=False))
    clock.now += 5
    assert state.view() == ("inactive", None)
    assert state.attempts == 0


def test_changes_in_quick_succession_make_one_attempt(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    for password in ("a", "b", "wrong"):
        state.changed(good(password=password))
        clock.now += 0.1
    clock.now += 1.0
    assert state.view() == ("failed", "auth")
    assert state.view() == ("failed", "auth")
    assert state.attempts == 1


def test_repeated_failures_lock_the_number_until_it_expires(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    for _ in range(3):
        assert settle(state, clock, good(password="wrong")) == ("failed", "auth")
    assert service.locked(NUMBER)
    assert settle(state, clock, good()) == ("failed", "locked")  # even the right password
    clock.now += 901
    assert not service.locked(NUMBER)
    assert settle(state, clock, good()) == ("registered", None)


def test_failures_spread_beyond_the_window_do_not_lock(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    for _ in range(3):
        settle(state, clock, good(password="wrong"))
        clock.now += 400
    assert not service.locked(NUMBER)


def test_network_failures_do_not_count_towards_the_lock(service: MeetingService, clock: Clock) -> None:
    state = RegistrationState(service)
    for _ in range(4):
        settle(state, clock, good(transport="udp"))
    assert not service.locked(NUMBER)
