"""What the inventory refuses, and what it keeps: Jinja and vaults, typos, Ansible's keys, hostile files."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from endpoints import yamlfile
from endpoints.desired import desired_state
from endpoints.errors import InputError
from endpoints.host import Host, Refused
from endpoints.inventory import check_drivable, load_inventory
from endpoints.profiles import Setting, fill, template_context
from endpoints.secrets import Secret

VAULT = "!vault |\n            $ANSIBLE_VAULT;1.1;AES256\n            6162636465"


def write(tmp_path: Path, text: str, name: str = "inv.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def one_host(tmp_path: Path, host_vars: str, all_vars: str = "") -> Host:
    body = textwrap.indent(textwrap.dedent(host_vars).strip("\n"), " " * 8)
    head = "all:\n  vars:\n" + textwrap.indent(textwrap.dedent(all_vars).strip("\n"), " " * 4) + "\n" if all_vars else "all:\n"
    path = tmp_path / "inv.yaml"
    path.write_text(f"{head}  hosts:\n    room:\n{body}\n", encoding="utf-8")
    return load_inventory(path).hosts["room"]


def refusal(tmp_path: Path, host_vars: str, all_vars: str = "") -> InputError:
    with pytest.raises(InputError) as caught:
        one_host(tmp_path, host_vars, all_vars)
    return caught.value


# --- Jinja and vault: refused where used, kept where not -----------------------------------


@pytest.mark.parametrize(("host_vars", "key"), [
    ('model: SX20\nansible_password: "{{ vault_codec_password }}"', "ansible_password"),
    ('model: SX20\nansible_host: "{{ inventory_hostname }}.av.example"', "ansible_host"),
    ('model: SX20\naddress: "{{ lookup(\'dig\', inventory_hostname) }}"', "address"),
    ("model: SX20\nsip: {number: '+99111612345', password: '{% raw %}x{% endraw %}'}", "sip.password"),
    ("model: SX20\ndevice_credentials: {username: '{{ user }}'}", "device_credentials.username"),
    ("model: SX20\nansible_port: '{{ port }}'", "ansible_port"),
])
def test_jinja_where_the_tool_reads_it_is_refused_without_printing_it(tmp_path: Path, host_vars: str,
                                                                     key: str) -> None:
    error = refusal(tmp_path, host_vars)
    assert "holds a Jinja template, which endpoints does not render and will not send" in str(error)
    assert error.key.endswith(key) and error.line is not None
    assert "{{" not in str(error) and "{%" not in str(error)


@pytest.mark.parametrize("host_vars", [
    f"model: SX20\nsip:\n  number: '+99111612345'\n  password: {VAULT}",
    f"model: SX20\nansible_password: {VAULT}",
    "model: SX20\nansible_ssh_pass: \"$ANSIBLE_VAULT;1.1;AES256\\n6162\"",
])
def test_vault_where_the_tool_reads_it_is_refused(tmp_path: Path, host_vars: str) -> None:
    error = refusal(tmp_path, host_vars)
    assert "encrypted with ansible-vault, which endpoints does not decrypt" in str(error)
    assert "6162" not in str(error)


def test_jinja_and_vault_the_tool_never_reads_are_kept(tmp_path: Path) -> None:
    host = one_host(tmp_path, f"""
        model: SX20
        ansible_password: "{{{{ vault_codec_password }}}}"
        device_credentials: {{password: {{env: DEV_PW}}}}
        banner: "{{{{ site }}}} boardroom"
        ansible_become_password: {VAULT}
        """)
    assert host.device_credentials.password is not None
    assert host.device_credentials.password.source == "env:DEV_PW"  # device_credentials win
    assert host.vars["banner"] == "{{ site }} boardroom"
    assert "ansible_password" not in host.vars


def test_an_unsafe_value_is_literal_text(tmp_path: Path) -> None:
    host = one_host(tmp_path, "model: SX20\nsip: {number: '+99111612345', password: !unsafe 'a{{b'}")
    assert host.sip.password is not None and host.sip.password.reveal() == "a{{b"


def test_a_refused_free_variable_fails_when_a_profile_uses_it(tmp_path: Path) -> None:
    host = one_host(tmp_path, "model: SX20\nsip: {number: '+99111612345'}\nntp_server: '{{ ntp }}'\n"
                              "location: Berlin\nprofile_vars: {location: Berlin HQ}")
    desired = desired_state(host)
    context = template_context(desired, host)
    assert context["vars.location"] == "Berlin HQ"  # profile_vars win over free variables
    assert isinstance(context["vars.ntp_server"], Refused)
    assert fill(Setting("SystemUnit Name", "{vars.location}"), context) == "Berlin HQ"
    with pytest.raises(InputError) as caught:
        fill(Setting("NetworkServices NTP Server 1 Address", "{vars.ntp_server}", source="p.yaml:3"), context)
    assert caught.value.line == 6 and caught.value.key == "ntp_server"
    assert "holds a Jinja template" in str(caught.value) and "NTP Server" in str(caught.value)


# --- Ansible's connection keys ---------------------------------------------------------------


def test_ansible_keys_stand_in_for_the_tools_own(tmp_path: Path) -> None:
    host = one_host(tmp_path, """
        ansible_host: 10.1.1.1
        ansible_port: 57275
        ansible_user: operator
        ansible_ssh_pass: {env: DEV_PW}
        transport: https
        ansible_connection: ansible.netcommon.httpapi
        """)
    assert (host.address, host.ansible_port, host.device_credentials.username) == ("10.1.1.1", 57275, "operator")
    assert host.port("https", 443) == 57275 and host.port("ssh", 22) == 22
    assert host.device_credentials.password is not None and host.device_credentials.password.source == "env:DEV_PW"
    assert host.vars == {"ansible_connection": "ansible.netcommon.httpapi"}
    assert host.origin("device_credentials.password") == f"{tmp_path / 'inv.yaml'}:7"


def test_the_ssh_forms_win_as_in_ansible(tmp_path: Path) -> None:
    host = one_host(tmp_path, """
        ansible_host: 10.1.1.1
        ansible_ssh_host: 10.1.1.2
        ansible_port: 22
        ansible_ssh_port: 2222
        ansible_password: a
        ansible_ssh_pass: b
        """)
    assert (host.address, host.ansible_port) == ("10.1.1.2", 2222)
    assert host.device_credentials.password is not None and host.device_credentials.password.reveal() == "b"


def test_a_host_named_by_its_address(tmp_path: Path) -> None:
    path = write(tmp_path, "all:\n  hosts:\n    10.20.3.15: {model: HDX 7000}\n    room-b.av.example:\n")
    hosts = load_inventory(path).hosts
    assert hosts["10.20.3.15"].address == "10.20.3.15"
    assert hosts["room-b.av.example"].address == "room-b.av.example"
    assert hosts["10.20.3.15"].origin("address") == f"{path}:3"


def test_free_variables_named_like_secrets_never_render(tmp_path: Path) -> None:
    host = one_host(tmp_path, "model: SX20\nansible_become_password: s3cr3t-Become\napi_token: 12345678\n"
                              "wifi: {psk_passphrase: s3cr3t-Wifi}")
    assert isinstance(host.vars["ansible_become_password"], Secret)
    assert isinstance(host.vars["api_token"], Secret)
    assert "s3cr3t" not in repr(host) and "12345678" not in repr(host)
    assert {s.reveal() for s in host.secrets()} >= {"s3cr3t-Become", "12345678", "s3cr3t-Wifi"}


def test_a_room_needs_model_transport_or_profile_to_be_driven(tmp_path: Path) -> None:
    check_drivable(one_host(tmp_path, "transport: https"))  # the device says what it is
    check_drivable(one_host(tmp_path, "profile: cisco-ce"))
    with pytest.raises(InputError, match="set model .* or transport") as caught:
        check_drivable(one_host(tmp_path, "asset_tag: A1"))
    assert caught.value.line == 3


# --- the typo rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "meant"), [
    ("adress", "address"), ("modle", "model"), ("transprot", "transport"), ("tls_verfy", "tls_verify"),
    ("Address", "address"), ("tls-verify", "tls_verify"), ("SIP", "sip"), ("port", "ports"),
    ("serail", "serial"), ("profil", "profile"), ("known_host", "known_hosts"), ("clouds", "cloud"),
    ("ssh-host-key", "ssh_host_key"), ("device_credential", "device_credentials"),
])
def test_one_edit_from_a_known_key_is_a_typo(tmp_path: Path, key: str, meant: str) -> None:
    error = refusal(tmp_path, f"model: SX20\n{key}: x")
    assert f"unknown key '{key}' (did you mean '{meant}'?)" in str(error)
    assert error.line == 5


@pytest.mark.parametrize("key", ["ip", "zip", "vlan", "location", "asset_tag", "room_capacity", "ntp_server",
                                 "site", "sip_number", "ansible_hots", "addresses_of_neighbours"])
def test_keys_of_their_own_are_free_variables(tmp_path: Path, key: str) -> None:
    assert one_host(tmp_path, f"model: SX20\n{key}: x").vars[key] == "x"


def test_typos_inside_the_tools_own_mappings(tmp_path: Path) -> None:
    error = refusal(tmp_path, "model: SX20\nsip: {numbr: '+99111612345'}")
    assert "unknown key 'numbr' (did you mean 'number'?)" in str(error) and error.key == "all.hosts.room.sip.numbr"


def test_a_group_key_under_a_host_is_an_indentation_slip(tmp_path: Path) -> None:
    error = refusal(tmp_path, "model: SX20\nhosts:\n  room-2:")
    assert "is this entry indented one level too deep" in str(error)


def test_sip_number_as_a_flat_variable_gets_advice_when_the_number_is_needed(tmp_path: Path) -> None:
    host = one_host(tmp_path, "model: SX20\nsip_number: '+99111612345'")
    with pytest.raises(InputError, match=r"variable 'sip_number': write it as sip: \{number: …\}"):
        desired_state(host)


# --- hostile files ---------------------------------------------------------------------------


def test_dev_zero_fails_at_once() -> None:
    with pytest.raises(InputError, match="larger than 8 MiB"):
        load_inventory("/dev/zero")


def test_an_oversized_inventory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"all:\n  vars:\n    x: '" + b"a" * (yamlfile.MAX_FILE_BYTES + 1) + b"'\n")
    with pytest.raises(InputError, match="larger than 8 MiB") as caught:
        load_inventory(path)
    assert caught.value.file == str(path)


def test_a_billion_laughs_is_refused_naming_the_file(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    path = write(tmp_path, "all:\n  vars:\n" + "".join(f"    {line}\n" for line in lines) + "  hosts: {r: }\n")
    assert path.stat().st_size < 1000
    with pytest.raises(InputError, match="expands to more than 1,000,000 values") as caught:
        load_inventory(path)
    assert caught.value.file == str(path)


def test_aliases_within_the_limit_still_work(tmp_path: Path) -> None:
    path = write(tmp_path, """
        all:
          vars:
            base: &base {location: HQ, floor: 1}
          hosts:
            room-1: {<<: *base, model: SX20}
            room-2: {<<: *base, floor: 2, model: SX20}
        """)
    hosts = load_inventory(path).hosts
    assert hosts["room-2"].vars["floor"] == 2 and hosts["room-2"].vars["location"] == "HQ"


@pytest.mark.parametrize("depth", [70, 100_000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, "all:\n  vars:\n    x: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(InputError, match="nested deeper than 64 levels") as caught:
        load_inventory(path)
    assert caught.value.file == str(path)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "all:\n  vars:\n    x: &x [1, *x]\n")
    with pytest.raises(InputError, match="refers to the node that contains it"):
        load_inventory(path)


def test_binary_and_non_utf8_inventories_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"all:\n  hosts:\n    r\xff\xfe:\n")
    with pytest.raises(InputError, match="not UTF-8 text") as caught:
        load_inventory(path)
    assert caught.value.line == 3


def test_ansible_port_without_a_transport_applies_to_the_one_in_use(tmp_path: Path) -> None:
    host = one_host(tmp_path, "model: SX20\nansible_port: 2222")
    assert host.port("ssh", 22) == 22  # which transport is not known yet
    assert host.port("ssh", 22, transport="ssh") == 2222
    assert host.port("https", 443, transport="ssh") == 443
