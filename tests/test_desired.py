"""Desired state: the meeting service's defaults and rules."""
from __future__ import annotations

import pytest

from endpoints.desired import desired_state, parse_proxy
from endpoints.errors import InputError
from endpoints.host import Host, SipVars
from endpoints.secrets import Secret


def host(**sip: object) -> Host:
    return Host("room-a101", "10.0.0.1", model="SX20", sip=SipVars(**sip), source="inv.yaml:12")  # type: ignore[arg-type]


def test_defaults_are_the_meeting_services() -> None:
    desired = desired_state(host(number="+99111612345", password=Secret("pw")))
    assert desired.uri == "+99111612345@huaweicloud.com"
    assert desired.auth_username == desired.uri
    assert desired.registrar == "huaweicloud.com"
    assert str(desired.proxy) == "sip2-ec.huaweicloud.com:5061"
    assert desired.transport == "tls"
    assert desired.display_name == "room-a101"
    assert desired.enabled


def test_every_sip_key_overrides() -> None:
    desired = desired_state(host(number="+99111612345", domain="example.com", auth_username="u1",
                                 display_name="Boardroom", registrar="reg.example.com",
                                 proxy="159.138.44.101:5061", transport="TLS"))
    assert desired.uri == "+99111612345@example.com"
    assert (desired.auth_username, desired.display_name, desired.registrar) == ("u1", "Boardroom", "reg.example.com")
    assert (desired.proxy.host, desired.proxy.port) == ("159.138.44.101", 5061)


def test_uri_alone_gives_the_number() -> None:
    desired = desired_state(host(uri="sip:+99111612345@huaweicloud.com"))
    assert desired.number == "+99111612345"
    assert desired.uri == "+99111612345@huaweicloud.com"


@pytest.mark.parametrize("transport", ["udp", "UDP", "tcp"])
def test_only_tls_is_accepted(transport: str) -> None:
    with pytest.raises(InputError) as caught:
        desired_state(host(number="+99111612345", transport=transport))
    message = str(caught.value)
    assert "inv.yaml:12" in message and "sip.transport" in message and "tls" in message
    if transport.lower() == "udp":
        assert "does not accept UDP" in message


@pytest.mark.parametrize("number", ["99-111", "+9911a", "12", ""])
def test_number_format_is_checked(number: str) -> None:
    with pytest.raises(InputError, match="sip.number"):
        desired_state(host(number=number))


def test_no_number_and_no_uri_is_an_error() -> None:
    with pytest.raises(InputError, match="no SIP number"):
        desired_state(host())


def test_uri_must_carry_the_number() -> None:
    with pytest.raises(InputError, match="does not carry"):
        desired_state(host(number="+99111612345", uri="+99111000000@huaweicloud.com"))


@pytest.mark.parametrize("text, hostname, port", [
    ("sip2-ec.huaweicloud.com:5061", "sip2-ec.huaweicloud.com", 5061),
    ("159.138.44.101", "159.138.44.101", 5061),
    ("[2001:db8::1]:5062", "2001:db8::1", 5062),
])
def test_proxy_parsing(text: str, hostname: str, port: int) -> None:
    proxy = parse_proxy(text)
    assert (proxy.host, proxy.port) == (hostname, port)


@pytest.mark.parametrize("text", ["a:b:c", "host:99999", "host:"])
def test_bad_proxy_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="sip.proxy"):
        parse_proxy(text)


def test_proxy_resolved_on_the_jump_host_for_rooms_without_dns() -> None:
    asked = []

    def resolver(name: str) -> str:
        asked.append(name)
        return "159.138.44.100"

    desired = desired_state(host(number="+99111612345"), resolve_proxy=True, resolver=resolver)
    assert str(desired.proxy) == "159.138.44.100:5061" and asked == ["sip2-ec.huaweicloud.com"]
    ip_host = host(number="+99111612345", proxy="159.138.44.101:5061")
    assert str(desired_state(ip_host, resolve_proxy=True, resolver=resolver).proxy) == "159.138.44.101:5061"
    assert len(asked) == 1


def test_unresolvable_proxy_names_the_key() -> None:
    def resolver(name: str) -> str:
        raise OSError("Name or service not known")

    with pytest.raises(InputError, match="cannot resolve proxy"):
        desired_state(host(number="+99111612345"), resolve_proxy=True, resolver=resolver)


@pytest.mark.parametrize("number", ["99111612345", "0099111612345"])
def test_a_number_without_its_plus_is_refused_with_the_fix(number: str) -> None:
    with pytest.raises(InputError) as caught:
        desired_state(host(number=number))
    assert f"write '+{number}'" in str(caught.value) and "no leading '+'" in str(caught.value)


def test_a_uri_whose_user_is_a_number_without_plus_is_refused() -> None:
    with pytest.raises(InputError, match="no leading"):
        desired_state(host(uri="99111612345@huaweicloud.com"))


def test_errors_point_at_the_line_of_the_key() -> None:
    room = Host("room-a101", "10.0.0.1", sip=SipVars(number="99111612345", transport="udp", proxy="a:b:c"),
                source="inv.yaml:12", origins={"sip": "inv.yaml:14", "sip.number": "inv.yaml:15",
                                               "sip.transport": "group_vars/all.yml:3"})
    with pytest.raises(InputError) as caught:
        desired_state(room)
    assert (caught.value.file, caught.value.line, caught.value.key) == ("group_vars/all.yml", 3, "sip.transport")
    room = Host("room-a101", "10.0.0.1", sip=SipVars(number="99111612345"), source="inv.yaml:12",
                origins={"sip": "inv.yaml:14", "sip.number": "inv.yaml:15"})
    with pytest.raises(InputError) as caught:
        desired_state(room)
    assert (caught.value.line, caught.value.key) == (15, "sip.number")
    room = Host("room-a101", "10.0.0.1", sip=SipVars(number="+99111612345", proxy="a:b:c"),
                source="inv.yaml:12", origins={"sip": "inv.yaml:14"})
    with pytest.raises(InputError) as caught:
        desired_state(room)
    assert (caught.value.line, caught.value.key) == (14, "sip.proxy")  # the nearest written key: sip
