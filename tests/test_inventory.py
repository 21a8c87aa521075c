from __future__ import annotations

import json
import logging
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest

from endpoints.errors import InputError
from endpoints.host import Host, TlsPolicy
from endpoints.inventory import Inventory, load_inventory
from endpoints.secrets import Secret, SecretError

PIN = "ab" * 32


def write(tmp_path: Path, text: str, name: str = "inventory.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Inventory:
    return load_inventory(write(tmp_path, text))


def one_host(tmp_path: Path, host_vars: str) -> Host:
    body = textwrap.indent(textwrap.dedent(host_vars).strip("\n"), " " * 8)
    inventory = load(tmp_path, f"all:\n  hosts:\n    room:\n{body}\n")
    return inventory.hosts["room"]


def load_error(tmp_path: Path, text: str) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert caught.value.file == str(path)
    return caught.value


# --- structure and merge order ---------------------------------------------------------

NESTED = """
all:
  vars:
    profile: from-all
    serial: all
    sip: {domain: all.example, proxy: all-proxy:5061, registrar: all-reg, display_name: all}
  children:
    bldg-a:
      vars:
        serial: parent
        sip: {proxy: parent-proxy:5061, display_name: parent}
      children:
        floor-1:
          vars:
            sip: {display_name: child}
          hosts:
            room-a101:
              address: 10.0.0.1
              sip: {number: "+99111612345"}
            room-a102:
              address: 10.0.0.2
              serial: host
              sip: {display_name: host}
      hosts:
        room-a103: {address: 10.0.0.3}
  hosts:
    lobby: {address: 10.0.0.9}
"""


REPLACE = ("    profile: from-all\n", "    profile: from-all\n    endpoints_hash_behaviour: replace\n")


def test_mappings_replace_as_in_ansible_when_asked(tmp_path: Path) -> None:
    """Ansible's hash_behaviour=replace: the most specific `sip:` is taken whole."""
    hosts = load(tmp_path, NESTED.replace(*REPLACE)).hosts
    a101 = hosts["room-a101"]
    assert a101.profile == "from-all"
    assert a101.serial == "parent"
    assert a101.sip.number == "+99111612345"
    assert a101.sip.domain is None and a101.sip.display_name is None  # the host's sip replaced the groups'
    assert hosts["room-a102"].serial == "host"
    assert (hosts["room-a102"].sip.display_name, hosts["room-a102"].sip.proxy) == ("host", None)
    a103 = hosts["room-a103"]
    assert (a103.sip.display_name, a103.sip.proxy, a103.sip.domain) == ("parent", "parent-proxy:5061", None)
    assert hosts["lobby"].sip.display_name == "all"
    assert hosts["lobby"].sip.proxy == "all-proxy:5061"


def test_replaced_group_keys_are_reported_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        load(tmp_path, NESTED.replace(*REPLACE))
    warnings = [r.getMessage() for r in caplog.records if "replaces" in r.getMessage()]
    assert len(warnings) == 1
    assert "room-a101" in warnings[0] and "sip.domain" in warnings[0] and "endpoints_hash_behaviour" in warnings[0]


def test_deep_merge_all_parent_child_host_by_default(tmp_path: Path) -> None:
    hosts = load(tmp_path, NESTED).hosts
    a101 = hosts["room-a101"]
    assert a101.profile == "from-all"
    assert a101.serial == "parent"
    assert a101.sip.domain == "all.example"
    assert a101.sip.registrar == "all-reg"
    assert a101.sip.proxy == "parent-proxy:5061"
    assert a101.sip.display_name == "child"
    assert a101.sip.number == "+99111612345"
    assert hosts["room-a102"].serial == "host"
    assert hosts["room-a102"].sip.display_name == "host"
    assert hosts["room-a102"].sip.number is None
    assert hosts["room-a103"].sip.display_name == "parent"
    assert hosts["lobby"].sip.display_name == "all"
    assert hosts["lobby"].sip.proxy == "all-proxy:5061"
    assert "endpoints_hash_behaviour" not in a101.vars
    assert a101.origin("sip.domain") == f"{tmp_path / 'inventory.yaml'}:5"
    assert a101.origin("sip.display_name") == f"{tmp_path / 'inventory.yaml'}:14"


@pytest.mark.parametrize(("where", "message"), [
    ("all:\n  vars: {endpoints_hash_behaviour: deep}\n  hosts: {r: }\n", "must be merge or replace (got 'deep')"),
    ("all:\n  children:\n    g:\n      vars: {endpoints_hash_behaviour: merge}\n      hosts: {r: }\n",
     "set it in all's vars, not for 'g'"),
    ("all:\n  vars: {endpoints_hash_behavior: merge}\n  hosts: {r: }\n",
     "unknown key 'endpoints_hash_behavior' (did you mean 'endpoints_hash_behaviour'?)"),
])
def test_hash_behaviour_switch_is_checked(tmp_path: Path, where: str, message: str) -> None:
    assert message in str(load_error(tmp_path, where))


def test_hosts_in_file_order_and_groups(tmp_path: Path) -> None:
    inventory = load(tmp_path, NESTED)
    assert list(inventory.hosts) == ["room-a101", "room-a102", "room-a103", "lobby"]
    assert inventory.groups["all"] == {"room-a101", "room-a102", "room-a103", "lobby"}
    assert inventory.groups["bldg-a"] == {"room-a101", "room-a102", "room-a103"}
    assert inventory.groups["floor-1"] == {"room-a101", "room-a102"}
    assert inventory.groups["ungrouped"] == {"lobby"}
    assert inventory.hosts["room-a101"].groups == ("floor-1", "bldg-a")  # most specific first
    assert inventory.hosts["lobby"].groups == ("ungrouped",)
    assert inventory.hosts["room-a101"].source == f"{inventory.path}:16"
    assert inventory.path == tmp_path / "inventory.yaml"


def test_host_in_several_groups_and_group_under_several_parents(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          children:
            cisco:
              vars: {model: SX20, sip: {proxy: cisco-proxy}}
              hosts:
                room-1: {address: 10.0.0.1}
            bldg-a:
              children:
                lab:
                  vars: {sip: {registrar: lab-reg}}
                  hosts:
                    room-1: {sip: {number: "1001"}}
                    room-2: {address: 10.0.0.2}
            bldg-b:
              children:
                lab:
                  hosts:
                    room-3: {address: 10.0.0.3}
        """,
    )
    room1 = inventory.hosts["room-1"]
    assert room1.address == "10.0.0.1"
    assert room1.model == "SX20"
    assert (room1.sip.proxy, room1.sip.registrar, room1.sip.number) == ("cisco-proxy", "lab-reg", "1001")  # deep
    assert room1.groups == ("lab", "cisco", "bldg-b", "bldg-a")  # depth, then name, most specific first
    assert inventory.groups["lab"] == {"room-1", "room-2", "room-3"}
    assert inventory.groups["bldg-a"] == inventory.groups["bldg-b"] == {"room-1", "room-2", "room-3"}
    assert inventory.groups["ungrouped"] == set()
    assert list(inventory.hosts) == ["room-1", "room-2", "room-3"]


def test_deeper_group_wins_over_shallower_and_equal_depth_by_name(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          children:
            zeta:
              vars: {profile: zeta}
              children:
                deep:
                  vars: {profile: deep}
            alpha:
              vars: {profile: alpha, serial: alpha}
              hosts:
                room: {address: 10.0.0.1}
            beta:
              vars: {serial: beta}
              hosts:
                room:
            deep:
              hosts:
                room:
        """,
    )
    room = inventory.hosts["room"]
    assert room.profile == "deep"  # depth 2 beats depth 1
    assert room.serial == "beta"  # equal depth: later name wins


def test_duplicate_host_definitions_merge(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          hosts:
            room: {address: 10.0.0.1, sip: {number: "1", domain: a.example}}
          children:
            g:
              hosts:
                room: {sip: {domain: b.example}, serial: S1}
        """,
    )
    room = inventory.hosts["room"]
    assert (room.sip.number, room.sip.domain, room.serial) == ("1", "b.example", "S1")  # both entries' sip, merged
    assert room.address == "10.0.0.1"
    assert room.source == f"{inventory.path}:3"


def test_other_top_level_groups_are_children_of_all(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          vars: {model: SX80}
        rooms:
          hosts:
            room: {address: 10.0.0.1}
        """,
    )
    assert inventory.hosts["room"].model == "SX80"
    assert inventory.hosts["room"].groups == ("rooms",)


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          hosts:
            room-1: &base {address: 10.0.0.1, model: SX20, serial: X}
            room-2:
              <<: *base
              address: 10.0.0.2
        """,
    )
    assert inventory.hosts["room-2"].model == "SX20"
    assert inventory.hosts["room-2"].address == "10.0.0.2"


def test_empty_groups_and_hosts_are_allowed(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """
        all:
          vars:
          children:
            empty:
            other: {hosts: , children: , vars: }
          hosts:
            room: {address: 10.0.0.1}
        """,
    )
    assert inventory.groups["empty"] == set()
    assert list(inventory.hosts) == ["room"]


# --- every key -------------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    host = one_host(tmp_path, "address: room.example.com")
    assert host.address == "room.example.com"
    assert host.model is None and host.transport is None and host.ports == {}
    assert host.device_credentials.username == "admin" and host.device_credentials.password is None
    assert host.sip.number is None and host.sip.domain is None and host.sip.password is None
    assert host.tls == TlsPolicy()
    assert host.profile is None and host.serial is None
    assert host.ssh_host_key == "strict" and host.known_hosts is None and host.profile_vars == {}


def test_every_contract_key(tmp_path: Path) -> None:
    host = one_host(
        tmp_path,
        """
        address: 192.0.2.10
        model: Group 550
        transport: rest
        ports: {https: 18443, ssh: 2222, telnet: 2424, http: 8080}
        device_credentials: {username: root, password: dev-pass}
        sip:
          number: +99111612345
          domain: huaweicloud.com
          uri: +99111612345@huaweicloud.com
          auth_username: auth-user
          password: sip-pass
          display_name: Room A101
          registrar: reg.example.com
          proxy: sip2-ec.huaweicloud.com:5061
          transport: tls
        tls_verify: false
        profile: polycom-group-6.2
        serial: 8210123456AB
        """,
    )
    assert host.address == "192.0.2.10"
    assert host.model == "Group 550"
    assert host.transport == "rest"
    assert host.ports == {"https": 18443, "ssh": 2222, "telnet": 2424, "http": 8080}
    assert host.port("https", 443) == 18443 and host.port("http", 80) == 8080
    assert host.device_credentials.username == "root"
    assert isinstance(host.device_credentials.password, Secret)
    assert host.device_credentials.password.reveal() == "dev-pass"
    sip = host.sip
    assert sip.number == "+99111612345"  # PyYAML reads a bare +digits as an int
    assert sip.domain == "huaweicloud.com"
    assert sip.uri == "+99111612345@huaweicloud.com"
    assert sip.auth_username == "auth-user"
    assert sip.password is not None and sip.password.reveal() == "sip-pass"
    assert sip.display_name == "Room A101"
    assert sip.registrar == "reg.example.com"
    assert sip.proxy == "sip2-ec.huaweicloud.com:5061"
    assert sip.transport == "tls"
    assert host.tls == TlsPolicy(verify=False)
    assert host.profile == "polycom-group-6.2"
    assert host.serial == "8210123456AB"
    assert len(host.secrets()) == 2


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("sx10", "SX10"),
        ("SX 20", "SX20"),
        ("Sx80", "SX80"),
        ("group550", "Group 550"),
        ("Group 550", "Group 550"),
        ("GROUP  310", "Group 310"),
        ("group 500", "Group 500"),
        ("Group700", "Group 700"),
        ("hdx 7000", "HDX 7000"),
        ("HDX4500", "HDX 4500"),
        ("hdx6000", "HDX 6000"),
        ("HDX 8000", "HDX 8000"),
        ("hdx 9000", "HDX 9000"),
    ],
)
def test_model_canonicalised(tmp_path: Path, written: str, canonical: str) -> None:
    assert one_host(tmp_path, f"address: x\nmodel: {written}").model == canonical


@pytest.mark.parametrize(
    ("model", "transport"),
    [
        ("SX20", "http"), ("SX20", "https"), ("SX20", "ssh"),
        ("Group 500", "rest"), ("Group 500", "ssh"), ("Group 500", "telnet"),
        ("HDX 7000", "telnet"), ("HDX 7000", "http"),
        (None, "rest"),
    ],
)
def test_transport_offered_by_family(tmp_path: Path, model: str | None, transport: str) -> None:
    model_line = f"model: {model}\n" if model else ""
    host = one_host(tmp_path, f"address: x\n{model_line}transport: {transport.upper()}")
    assert host.transport == transport


def test_numbers_keep_their_written_text(tmp_path: Path) -> None:
    host = one_host(
        tmp_path,
        """
        address: x
        serial: 0123
        sip: {number: 99111612345, auth_username: 0042, password: 0777}
        """,
    )
    assert host.serial == "0123"
    assert host.sip.number == "99111612345"
    assert host.sip.auth_username == "0042"
    assert host.sip.password is not None and host.sip.password.reveal() == "0777"


def test_integer_serial(tmp_path: Path) -> None:
    assert one_host(tmp_path, "address: x\nserial: 12345678").serial == "12345678"


def test_ansible_host_and_ansible_keys(tmp_path: Path) -> None:
    host = one_host(
        tmp_path,
        """
        ansible_host: 10.1.1.1
        ansible_user: operator
        ansible_password: {env: DEV_PW}
        ansible_port: 22
        ansible_connection: network_cli
        ansible_network_os: cisco.ios.ios
        ansible_become_password: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          6162
        """,
    )
    assert host.address == "10.1.1.1"
    assert host.device_credentials.username == "operator"
    assert host.device_credentials.password is not None
    assert host.device_credentials.password.source == "env:DEV_PW"


def test_device_credentials_win_over_ansible_user_and_password(tmp_path: Path) -> None:
    host = one_host(
        tmp_path,
        """
        address: 10.1.1.1
        ansible_host: 10.1.1.1
        ansible_user: operator
        ansible_password: ansible-pw
        device_credentials: {username: admin2, password: device-pw}
        """,
    )
    assert host.device_credentials.username == "admin2"
    assert host.device_credentials.password is not None
    assert host.device_credentials.password.reveal() == "device-pw"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", TlsPolicy(verify=True)),
        ("false", TlsPolicy(verify=False)),
        ("'false'", TlsPolicy(verify=False)),
        (f"sha256:{PIN}", TlsPolicy(pin=PIN)),
        (f"SHA256:{':'.join(PIN.upper()[i:i + 2] for i in range(0, 64, 2))}", TlsPolicy(pin=PIN)),
    ],
)
def test_tls_verify_forms(tmp_path: Path, written: str, expected: TlsPolicy) -> None:
    assert one_host(tmp_path, f"address: x\ntls_verify: {written}").tls == expected


def test_tls_verify_ca_bundle_relative_to_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory_dir = tmp_path / "site"
    (inventory_dir / "certs").mkdir(parents=True)
    (inventory_dir / "certs" / "ca.pem").write_text("PEM")
    path = write(inventory_dir, "all:\n  hosts:\n    room: {address: x, tls_verify: certs/ca.pem}\n")
    monkeypatch.chdir(tmp_path)
    host = load_inventory(path).hosts["room"]
    assert host.tls.ca_bundle is not None
    assert host.tls.ca_bundle.resolve() == (inventory_dir / "certs" / "ca.pem").resolve()
    assert host.tls.verify is True and host.tls.pin is None


def test_extensions(tmp_path: Path) -> None:
    host = one_host(
        tmp_path,
        """
        address: x
        ssh_host_key: accept-new
        known_hosts: keys/known_hosts
        profile_vars: {time_zone: Europe/Berlin, ntp: [ntp1, ntp2], volume: 70}
        """,
    )
    assert host.ssh_host_key == "accept-new"
    assert host.known_hosts == tmp_path / "keys" / "known_hosts"
    assert host.profile_vars == {"time_zone": "Europe/Berlin", "ntp": ["ntp1", "ntp2"], "volume": 70}
    assert type(host.profile_vars["volume"]) is int


def test_ssh_host_key_off_survives_yaml_booleans(tmp_path: Path) -> None:
    assert one_host(tmp_path, "address: x\nssh_host_key: off").ssh_host_key == "off"


# --- secrets ---------------------------------------------------------------------------


def test_env_secret_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIP_PW_TEST", raising=False)
    host = one_host(tmp_path, "address: x\nsip: {password: {env: SIP_PW_TEST}}")
    secret = host.sip.password
    assert secret is not None and secret.source == "env:SIP_PW_TEST"
    with pytest.raises(SecretError, match=r"inventory\.yaml:5: key 'sip.password': environment variable SIP_PW_TEST"):
        secret.reveal()
    monkeypatch.setenv("SIP_PW_TEST", "s3cret-env")
    assert secret.reveal() == "s3cret-env"


def test_file_secret_relative_to_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory_dir = tmp_path / "site"
    path = write(
        inventory_dir,
        """
        all:
          hosts:
            room:
              address: x
              device_credentials:
                password: {file: secrets/room.pw}
        """,
    )
    monkeypatch.chdir(tmp_path)
    secret = load_inventory(path).hosts["room"].device_credentials.password  # loads: file missing is fine
    assert secret is not None
    with pytest.raises(SecretError, match=r"inventory\.yaml:6: key 'device_credentials.password': cannot read secret file"):
        secret.reveal()
    (inventory_dir / "secrets").mkdir()
    (inventory_dir / "secrets" / "room.pw").write_text("s3cret-file\n")
    assert secret.reveal() == "s3cret-file"


SECRETS = ("plain-Sekr1t", "env-Sekr1t", "file-Sekr1t")


@pytest.fixture
def secret_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEV_PW_TEST", SECRETS[1])
    (tmp_path / "sip.pw").write_text(SECRETS[2] + "\n")
    return write(
        tmp_path,
        f"""
        all:
          hosts:
            room:
              address: 10.0.0.1
              ansible_password: {SECRETS[0]}
              device_credentials: {{password: {{env: DEV_PW_TEST}}}}
              sip: {{number: "1001", password: {{file: sip.pw}}}}
            other:
              address: 10.0.0.2
              sip: {{password: {SECRETS[0]}}}
        """,
    )


def assert_no_secret(text: str) -> None:
    for value in SECRETS:
        assert value not in text


def test_secrets_resolve(secret_inventory: Path) -> None:
    inventory = load_inventory(secret_inventory)
    assert [s.reveal() for s in inventory.hosts["room"].secrets()] == [SECRETS[1], SECRETS[2]]
    assert inventory.hosts["other"].sip.password is not None
    assert inventory.hosts["other"].sip.password.reveal() == SECRETS[0]


def test_secrets_never_render(secret_inventory: Path, caplog: pytest.LogCaptureFixture) -> None:
    inventory = load_inventory(secret_inventory)
    for host in inventory.hosts.values():
        assert_no_secret(repr(host))
        assert_no_secret(str(host))
        assert_no_secret(f"{host} {host.sip} {host.sip.password} {host.device_credentials}")
        assert_no_secret(json.dumps({f.name: getattr(host, f.name) for f in fields(host)}, default=str))
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("test").info("host %s sip %r creds %s", host, host.sip, host.device_credentials)
    assert_no_secret(repr(inventory))
    assert caplog.text and "room" in caplog.text
    assert_no_secret(caplog.text)


def test_secret_not_in_input_error(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        f"""
        all:
          hosts:
            room:
              address: 10.0.0.1
              device_credentials: {{password: {SECRETS[0]}}}
              sip: {{password: {SECRETS[1]}, proxy: [{SECRETS[2]}]}}
              ports: {{ssh: 0}}
        """,
    )
    assert error.line == 6 and error.key == "all.hosts.room.sip.proxy"
    assert_no_secret(str(error))
    assert_no_secret(repr(error))


def test_secret_of_wrong_shape_not_in_error(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        f"""
        all:
          hosts:
            room:
              address: 10.0.0.1
              sip: {{password: [{SECRETS[0]}]}}
        """,
    )
    assert error.key == "all.hosts.room.sip.password"
    assert "a secret must be a string, {env: NAME} or {file: PATH}" in str(error)
    assert_no_secret(str(error))


def test_vaulted_password_is_refused(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        all:
          hosts:
            room:
              address: x
              ansible_password: !vault |
                $ANSIBLE_VAULT;1.1;AES256
                6162
        """,
    )
    assert error.line == 5 and "ansible-vault" in str(error)


# --- errors: file, line and key --------------------------------------------------------

ERRORS = [
    pytest.param(
        "all:\n  hosts:\n    room: {address: x\n  other: 1\n",
        4, "", "YAML syntax error",
        id="yaml-syntax",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      adress: 10.0.0.1\n",
        4, "all.hosts.room.adress", "unknown key 'adress' (did you mean 'address'?)",
        id="unknown-host-key",
    ),
    pytest.param(
        "all:\n  children:\n    bldg-a:\n      vars:\n        model: SX20\n        adress: x\n",
        6, "all.children.bldg-a.vars.adress", "unknown key 'adress' (did you mean 'address'?)",
        id="unknown-key-in-empty-group-vars",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      sip:\n        proxi: p\n",
        6, "all.hosts.room.sip.proxi", "unknown key 'proxi' (did you mean 'proxy'?)",
        id="unknown-sip-key",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      ports: {htps: 1}\n",
        5, "all.hosts.room.ports.htps", "did you mean 'https'?",
        id="unknown-port-protocol",
    ),
    pytest.param(
        "all:\n  hostz:\n    room: {address: x}\n",
        2, "all.hostz", "unknown key 'hostz' (did you mean 'hosts'?)",
        id="unknown-group-key",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      ports:\n        https: 70000\n",
        6, "all.hosts.room.ports.https", "port 70000 is out of range 1..65535",
        id="port-range",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      ports: {ssh: twenty-two}\n",
        5, "all.hosts.room.ports.ssh", "a port must be a number 1..65535 (got a string)",
        id="port-type",
    ),
    pytest.param(
        "all:\n  vars:\n    model: SX30\n  hosts:\n    room: {address: x}\n",
        3, "all.vars.model", "unknown model 'SX30'",
        id="bad-model",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      transport: smoke-signal\n",
        5, "all.hosts.room.transport", "unknown transport 'smoke-signal'",
        id="bad-transport",
    ),
    pytest.param(
        "all:\n  vars:\n    transport: rest\n  hosts:\n    room: {address: x, model: sx20}\n",
        3, "all.vars.transport", "SX20 does not offer transport 'rest'; use one of https, http, ssh",
        id="transport-not-offered-by-family",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      model: hdx 7000\n      transport: https\n",
        6, "all.hosts.room.transport", "HDX 7000 does not offer transport 'https'",
        id="transport-not-offered-by-hdx",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      tls_verify: sha256:abcd\n",
        5, "all.hosts.room.tls_verify", "a sha256 pin needs 64 hex digits",
        id="tls-bad-pin",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      tls_verify: no-such-ca.pem\n",
        5, "all.hosts.room.tls_verify", "no-such-ca.pem not found",
        id="tls-missing-ca-bundle",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      tls_verify: 3\n",
        5, "all.hosts.room.tls_verify", "a CA bundle path or sha256:<fingerprint> (got a number)",
        id="tls-wrong-type",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      sip:\n        proxy: [a, b]\n",
        6, "all.hosts.room.sip.proxy", "must be a string (got a list)",
        id="wrong-type-sip-proxy",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      sip: proxy.example.com\n",
        5, "all.hosts.room.sip", "must be a mapping (got a string)",
        id="wrong-type-sip",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      profile_vars: [a]\n",
        5, "all.hosts.room.profile_vars", "must be a mapping (got a list)",
        id="wrong-type-profile-vars",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      ssh_host_key: yes\n",
        5, "all.hosts.room.ssh_host_key", "ssh_host_key must be one of strict, accept-new, off",
        id="bad-ssh-host-key",
    ),
    pytest.param(
        "all:\n  vars:\n    model: SX20\n  hosts:\n    a room:\n      model: SX10\n",
        5, "all.hosts.a room", "host 'a room': address 'a room' is not an IP address or DNS name",
        id="no-address-and-a-name-that-is-none",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: 10.0.0.1\n      ansible_host: 10.0.0.2\n",
        4, "all.hosts.room.address", "address '10.0.0.1' and ansible_host '10.0.0.2' differ",
        id="address-ansible-host-differ",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: x\n      device_credentials: {password: {vault: X}}\n",
        5, "all.hosts.room.device_credentials.password", "(got a mapping with keys vault)",
        id="bad-secret-reference",
    ),
    pytest.param(
        "all:\n  children:\n    rooms:\n      hosts:\n        - room-1\n",
        4, "all.children.rooms.hosts", "'hosts' of group 'rooms' must be a mapping (got a list)",
        id="hosts-not-a-mapping",
    ),
    pytest.param(
        "all:\n  hosts:\n    room: 10.0.0.1\n",
        3, "all.hosts.room", "host 'room' must be a mapping of variables (got a string)",
        id="host-not-a-mapping",
    ),
    pytest.param(
        "all:\n  children:\n    rooms: [a]\n",
        3, "all.children.rooms", "group 'rooms' must be a mapping",
        id="group-not-a-mapping",
    ),
    pytest.param(
        "- all\n",
        1, "", "a YAML inventory must be a mapping of groups such as 'all' (got a list)",
        id="top-level-not-a-mapping",
    ),
    pytest.param(
        "allx:\n  vars: {model: SX20}\nrooms:\n  hosts:\n    room: {address: x}\n",
        1, "allx", "group 'allx' holds no host, so its vars apply to nobody (did you mean 'all'?)",
        id="typo-of-all",
    ),
    pytest.param(
        "All:\n  hosts:\n    room: {address: x}\n",
        1, "All", "'All' is not 'all' (group names are case-sensitive)",
        id="all-in-capitals",
    ),
    pytest.param(
        "all:\n  hosts:\n    room:\n      address: a\n      address: b\n",
        5, "address", "duplicate key 'address' (first written at line 4)",
        id="duplicate-key",
    ),
    pytest.param(
        "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n",
        7, "all.children.a.children.b.children.a", "group 'a' contains itself (all -> a -> b -> a)",
        id="group-cycle",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), ERRORS)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    error = load_error(tmp_path, text)
    assert (error.line, error.key) == (line, key)
    assert message in str(error)
    assert str(error).startswith(f"{tmp_path / 'inventory.yaml'}:{line}: ")
    if key:
        assert f"key '{key}'" in str(error)


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in str(load_error(tmp_path, ""))


def test_missing_inventory_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read inventory"):
        load_inventory(tmp_path / "nope.yaml")


def test_error_from_group_vars_names_the_host(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        all:
          children:
            bldg-a:
              vars:
                ports: {https: 0}
              hosts:
                room-a101: {address: x}
        """,
    )
    assert error.line == 5 and error.key == "all.children.bldg-a.vars.ports.https"
    assert "host 'room-a101'" in str(error)


def test_first_error_in_file_order(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        all:
          hosts:
            room:
              address: x
              ports: {ssh: 0}
              model: nope
        """,
    )
    assert error.line == 5 and error.key == "all.hosts.room.ports.ssh"


def test_top_level_groups_without_all_are_an_inventory(tmp_path: Path) -> None:
    """As in Ansible: every top-level key is a group under `all`."""
    inventory = load(tmp_path, "rooms:\n  hosts:\n    room: {address: x}\nhall:\n  hosts:\n    room:\n")
    assert inventory.hosts["room"].groups == ("rooms", "hall")
    assert inventory.groups["hall"] == {"room"}  # one edit from `all`, but a group with a room
