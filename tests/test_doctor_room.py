"""The per-room judgements doctor makes from what a room's own API says, on recorded dumps."""
from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from endpoints.desired import Proxy
from endpoints.doctor import clock_check, dns_check, parse_device_time, proxy_status_check

FIXTURES = Path(__file__).parent / "fixtures"
UTC = datetime.UTC


def cisco_status(name: str) -> ET.Element:
    return ET.parse(FIXTURES / "cisco" / name).getroot()


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


# --- clock -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dump, utc", [("sx20-ce9.1.4-status.xml", "2021-03-02T19:06:31+00:00"),
                                       ("roombar-roomos11.19-status.xml", "2024-08-05T15:52:36+00:00")])
def test_cisco_system_time_is_read_with_its_zone(dump: str, utc: str) -> None:
    text = cisco_status(dump).findtext("Time/SystemTime")
    assert text is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d{4}", text)
    assert parse_device_time(text) == at(utc)


def test_a_cisco_clock_in_step_passes() -> None:
    text = cisco_status("sx20-ce9.1.4-status.xml").findtext("Time/SystemTime") or ""
    check = clock_check(text, at("2021-03-02T19:06:40+00:00"))
    assert check.passed and check.name == "clock"
    assert check.detail == "room 2021-03-02 19:06:31 UTC, 9 s behind this machine"


def test_a_polycom_rest_clock_two_hours_behind_fails() -> None:
    system = json.loads((FIXTURES / "polycom" / "group-rest-system.json").read_text())
    assert system["systemTime"] == 1664532053000  # Unix milliseconds, whatever the zone (timeOffset)
    now = datetime.datetime.fromtimestamp(1664532053, UTC) + datetime.timedelta(hours=2, minutes=3)
    check = clock_check(system["systemTime"], now)
    assert check.failed
    assert check.detail == "room 2022-09-30 10:00:53 UTC, 2 h 3 min behind this machine"
    assert "NTP" in check.advice and "TLS" in check.advice


def test_epoch_seconds_and_digit_strings_are_read() -> None:
    assert parse_device_time("1664532053") == parse_device_time(1664532053000)
    assert parse_device_time(1664532053.5) == datetime.datetime.fromtimestamp(1664532053.5, UTC)


def test_a_clock_ahead_and_the_tolerance() -> None:
    now = at("2024-01-01T00:00:00+00:00")
    assert clock_check("2024-01-01T00:05:00Z", now).passed  # five minutes: the default tolerance
    ahead = clock_check("2024-01-01T00:05:01Z", now)
    assert ahead.failed and ahead.detail.endswith("5 min 1 s ahead of this machine")
    assert clock_check("2024-01-01T00:05:01Z", now, tolerance=600).passed


def test_a_factory_clock_years_off_fails() -> None:
    check = clock_check("2000-01-01T00:00:00+00:00", at("2024-01-01T00:00:00+00:00"))
    assert check.failed and "8766 d behind" in check.detail


def test_rfc_2822_text_with_a_zone_is_read() -> None:
    assert parse_device_time("Mon, 05 Aug 2024 10:52:36 -0500") == at("2024-08-05T15:52:36+00:00")


@pytest.mark.parametrize("reading", ["2024-08-05 10:52:36", "Mon Aug 5 10:52:36 2024", "soon", ""])
def test_a_clock_without_a_zone_or_sense_is_not_judged(reading: str) -> None:
    check = clock_check(reading, at("2024-08-05T15:52:36+00:00"))
    assert check.skipped and not check.passed and not check.failed
    assert check.detail.startswith("not judged:")


# --- DNS servers -----------------------------------------------------------------------------

def cisco_dns(dump: str) -> list[str]:
    return [s.findtext("Address") or "" for s in cisco_status(dump).findall("Network/DNS/Server")]


def test_cisco_dns_servers_with_empty_slots() -> None:
    servers = cisco_dns("roombar-roomos11.19-status.xml")
    assert servers == ["10.8.30.7", "10.100.10.14", "10.2.10.188", "", ""]
    check = dns_check(servers)
    assert check.passed and check.detail == "servers: 10.8.30.7, 10.100.10.14, 10.2.10.188"


def test_a_value_that_is_not_an_address_is_named_and_not_counted() -> None:
    servers = cisco_dns("sx20-ce9.1.4-status.xml")  # the dump's first server was redacted
    check = dns_check(servers)
    assert check.passed and check.detail == "servers: 172.31.254.12 (not addresses: ***REMOVED***)"
    assert dns_check(["***REMOVED***", "", "0.0.0.0"]).failed


def test_polycom_dns_servers_from_the_exported_profile() -> None:
    text = (FIXTURES / "polycom" / "exportConfiguration.profile").read_text(encoding="utf-8")
    servers = re.findall(r'^v:system\.network\.dnsserver\[\d\]:"(.*)"$', text, re.MULTILINE)
    assert servers == ["192.168.1.1", "", "", ""]
    assert dns_check(servers).passed


def test_a_room_without_dns_fails_and_is_told_the_fix() -> None:
    check = dns_check(["", "", "", ""], proxy=Proxy("sip2-ec.huaweicloud.com", 5061))
    assert check.failed and check.detail == "the room has no DNS server"
    assert "--resolve-proxy" in check.advice and "sip.proxy" in check.advice


def test_a_room_without_dns_needs_none_for_an_address_proxy() -> None:
    check = dns_check([], proxy=Proxy("159.138.44.101", 5061))
    assert check.passed and check.detail.startswith("not needed")


# --- proxy status ----------------------------------------------------------------------------

def test_the_recorded_cisco_and_polycom_statuses_pass() -> None:
    proxy = cisco_status("sx20-ce9.1.4-status.xml").find("SIP/Proxy")
    assert proxy is not None
    cisco = proxy_status_check(proxy.findtext("Status") or "", current=proxy.findtext("Address") or "")
    assert cisco.passed and cisco.detail == "Active for 172.31.254.64"
    items = json.loads((FIXTURES / "polycom" / "group-rest-system-status.json").read_text())
    [state] = next(i["state"] for i in items if i["name"] == "system.status.sipserver")
    assert proxy_status_check(state).passed


@pytest.mark.parametrize("status, words", [("DNSFailed", "resolve"), ("Timeout", "5061"), ("UnableTCP", "5061"),
                                           ("UnableTLS", "clock"), ("AuthenticationFailed", "sip.password"),
                                           ("down", "SIP server is down")])
def test_a_failing_status_gets_its_advice(status: str, words: str) -> None:
    check = proxy_status_check(status)
    assert check.failed and check.detail == status and words in check.advice


@pytest.mark.parametrize("status", ["Off", "Unknown", "off", "", "Flapping"])
def test_no_proxy_in_use_or_an_unknown_status_is_not_judged(status: str) -> None:
    assert proxy_status_check(status).skipped


def test_the_status_of_an_old_proxy_says_nothing_of_the_new_one() -> None:
    check = proxy_status_check("DNSFailed", current="vcs.corp.example:5060", expected="sip2-ec.huaweicloud.com:5061")
    assert check.skipped and "still uses vcs.corp.example:5060" in check.detail
    same = proxy_status_check("Active", current="SIP2-EC.huaweicloud.com", expected="sip2-ec.huaweicloud.com:5061")
    assert same.passed
