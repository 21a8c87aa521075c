"""Profiles: data that maps desired state to device paths, chosen by detected software."""
from __future__ import annotations

from pathlib import Path

import pytest

from endpoints.desired import desired_state
from endpoints.drivers.base import Identity
from endpoints.errors import InputError, Unsupported
from endpoints.host import Host, SipVars
from endpoints.profiles import ProfileSet, below_minimum, version_tuple
from endpoints.secrets import Secret


def identity(vendor: str, model: str, software: str) -> Identity:
    return Identity(vendor, model, model, software)  # type: ignore[arg-type]


@pytest.mark.parametrize("model, vendor, software, expected", [
    ("SX10", "cisco", "ce8.2.1.e9daf06", "cisco-ce"),
    ("SX20", "cisco", "ce9.4.0.cd3c4c6", "cisco-ce"),
    ("SX80", "cisco", "TC7.3.6.b3d8e2c", "cisco-tc"),
    ("SX80", "cisco", "ce9.4.0.cd3c4c6", "cisco-ce"),  # an SX80 upgraded to CE follows its software
    ("Group 550", "polycom-group", "6.2.0-670021", "polycom-group"),
    ("HDX 7000", "polycom-hdx", "3.1.7-59104", "polycom-hdx"),
])
def test_profile_follows_the_detected_software(model: str, vendor: str, software: str, expected: str) -> None:
    assert ProfileSet.load().select(identity("cisco" if vendor == "cisco" else "polycom", model, software),
                                    vendor).name == expected


def test_forced_profile_wins_and_unknown_software_is_unsupported() -> None:
    profiles = ProfileSet.load()
    room_bar = identity("cisco", "Room Bar", "ce11.19.1.6.76526b1b094")
    assert profiles.select(room_bar, "cisco", forced="cisco-tc").name == "cisco-tc"
    with pytest.raises(Unsupported, match="no profile matches"):
        profiles.select(identity("cisco", "SX20", "XX1.0"), "cisco")


def test_builtin_profiles_carry_the_tested_minimums() -> None:
    profiles = ProfileSet.load()
    expected = {("cisco-ce", "SX10"): (8, 2, 1), ("cisco-ce", "SX20"): (9, 4, 0), ("cisco-tc", "SX80"): (7, 3, 6),
                ("polycom-group", "Group 550"): (6, 2, 0), ("polycom-hdx", "HDX 4500"): (3, 1, 7),
                ("polycom-hdx", "HDX 8000"): (3, 1, 7)}
    for (name, model), minimum in expected.items():
        assert profiles.get(name).minimum_for(model) == minimum
    old = identity("cisco", "SX20", "ce9.1.4.3ae3106")
    assert below_minimum(profiles.get("cisco-ce"), old) == (9, 4, 0)
    assert below_minimum(profiles.get("cisco-ce"), identity("cisco", "SX20", "ce9.4.0.x")) is None


def test_version_tuple_reads_every_vendor_form() -> None:
    assert version_tuple("ce9.4.0.cd3c4c6") == (9, 4, 0)
    assert version_tuple("TC7.3.6.b3d8e2c") == (7, 3, 6)
    assert version_tuple("Release - 6.2.2.8-670021") == (6, 2, 2, 8)
    assert version_tuple("3.1.7-59104") == (3, 1, 7)


def test_every_builtin_profile_renders_the_meeting_service_settings() -> None:
    host = Host("room", "10.0.0.1", sip=SipVars(number="+99111612345", password=Secret("pw")))
    desired = desired_state(host)
    for profile in ProfileSet.load().profiles.values():
        rendered = {s.setting: v for s, v in profile.render(desired, host)}
        values = [v for v in rendered.values() if not isinstance(v, Secret)]
        assert "+99111612345@huaweicloud.com" in values, profile.name
        assert "sip2-ec.huaweicloud.com:5061" in values, profile.name
        assert any(isinstance(v, Secret) for v in rendered.values()), profile.name
        assert any(str(v).lower() == "tls" for v in values), profile.name


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_an_operator_extends_a_builtin_profile(tmp_path: Path) -> None:
    write(tmp_path / "mine", "acme-ce.yaml", """
name: acme-ce
extends: cisco-ce
settings:
  - setting: SystemUnit Name
    value: "{host.name}"
  - setting: Time Zone
    value: "{vars.time_zone}"
  - setting: SIP DisplayName
    value: "ACME {host.name}"
""")
    profiles = ProfileSet.load([tmp_path / "mine"])
    chosen = profiles.select(identity("cisco", "SX20", "ce9.4.0.x"), "cisco")
    assert chosen.name == "acme-ce"  # the operator's profile wins over the one it extends
    host = Host("a101", "10.0.0.1", profile_vars={"time_zone": "Europe/Berlin"},
                sip=SipVars(number="+99111612345", password=Secret("pw")))
    rendered = {s.setting: v for s, v in chosen.render(desired_state(host), host)}
    assert rendered["SystemUnit Name"] == "a101" and rendered["Time Zone"] == "Europe/Berlin"
    assert rendered["SIP DisplayName"] == "ACME a101"  # replaced in place, not duplicated
    assert list(rendered).count("SIP DisplayName") == 1
    base = profiles.get("cisco-ce")
    assert chosen.transports == base.transports and chosen.minimum_software == base.minimum_software


def test_unquoted_on_is_refused_with_file_line_and_key(tmp_path: Path) -> None:
    write(tmp_path / "p", "bad.yaml", "name: bad\nextends: cisco-ce\nsettings:\n  - setting: X\n    value: On\n")
    with pytest.raises(InputError) as caught:
        ProfileSet.load([tmp_path / "p"])
    message = str(caught.value)
    assert "bad.yaml:5" in message and "settings.0.value" in message and "quote" in message


def test_profile_typos_and_unknown_bases_are_named(tmp_path: Path) -> None:
    write(tmp_path / "a", "typo.yaml", "name: typo\nextends: cisco-ce\nsetings: []\n")
    with pytest.raises(InputError, match=r"typo.yaml:3.*setings.*did you mean 'settings'"):
        ProfileSet.load([tmp_path / "a"])
    write(tmp_path / "b", "orphan.yaml", "name: orphan\nextends: nowhere\n")
    with pytest.raises(InputError, match=r"orphan.yaml:2.*extends unknown profile 'nowhere'"):
        ProfileSet.load([tmp_path / "b"])


def test_a_missing_template_value_names_the_setting(tmp_path: Path) -> None:
    write(tmp_path / "p", "tz.yaml", "name: tz\nextends: cisco-ce\nsettings:\n  - setting: Time Zone\n"
                                     "    value: '{vars.time_zone}'\n")
    profile = ProfileSet.load([tmp_path / "p"]).get("tz")
    host = Host("a", "10.0.0.1", sip=SipVars(number="+99111612345", password=Secret("pw")))
    with pytest.raises(InputError, match=r"tz.yaml:4.*vars.time_zone.*Time Zone"):
        profile.render(desired_state(host), host)


def test_a_secret_cannot_leak_into_a_plain_setting(tmp_path: Path) -> None:
    write(tmp_path / "p", "leak.yaml", "name: leak\nextends: cisco-ce\nsettings:\n  - setting: SIP DisplayName\n"
                                       "    value: 'pw {sip.password}'\n")
    profile = ProfileSet.load([tmp_path / "p"]).get("leak")
    host = Host("a", "10.0.0.1", sip=SipVars(number="+99111612345", password=Secret("pw")))
    with pytest.raises(InputError, match="secret"):
        profile.render(desired_state(host), host)
