"""The Ansible collection `endpoints.sip`, built with ansible-galaxy and driven by the real
ansible-playbook (the collection's example playbooks) against the lab over loopback.

The playbook inventory is made from the lab's own inventory the way an operator would move
a room list into Ansible: host variables named as the endpoints inventory names them, the
admin password in Ansible Vault, the SIP passwords in the environment.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from endpoints.lab.fleet import Lab, RoomSpec
from endpoints.lab.net import free_port

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT / "ansible_collections" / "endpoints" / "sip"
EXAMPLES = COLLECTION / "examples"
BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
VAULT_PASSWORD = "vault-password-of-the-test"
# A notification callback that keeps every host's task results as JSON lines, as each result
# is handed to callbacks (what `register:` would see); written into each test's folder.
RESULTS_CALLBACK = '''
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "results_file"

    def _keep(self, result, outcome):
        folder = os.environ["TEST_RESULTS_DIR"]
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, result._host.get_name()), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({**result._result, "outcome": outcome, "task": result._task.action},
                                    default=str) + "\\n")

    def v2_runner_on_ok(self, result, **kwargs):
        self._keep(result, "ok")

    def v2_runner_on_failed(self, result, **kwargs):
        self._keep(result, "failed")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._keep(result, "unreachable")
'''  # opens the test's vault only; not a device secret


def tool(name: str) -> str:
    return str(BIN / name)


def base_env(home: Path, collections: Path) -> dict[str, str]:
    """ansible-playbook with nothing of this machine's Ansible set-up: its own home, temp
    folders and collections, the venv's Python for the modules."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    for folder in ("home", "ansible", "local-tmp", "remote-tmp"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home / "home"),
        "ANSIBLE_HOME": str(home / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(home / "local-tmp"),
        "ANSIBLE_REMOTE_TMP": str(home / "remote-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_FORKS": "8",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The collection as users get it: `ansible-galaxy collection build` in the repo, then
    installed from the tarball. Returns (tarball, collections path)."""
    folder = tmp_path_factory.mktemp("galaxy")
    env = base_env(folder, folder / "collections")
    build = subprocess.run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(folder)],
                           cwd=COLLECTION, env=env, capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = next(folder.glob("endpoints-sip-*.tar.gz"))
    install = subprocess.run([tool("ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(folder / "collections")], env=env, capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    return tarball, folder / "collections"


@dataclass
class Playbook:
    """Runs the collection's example playbooks against an inventory, one tree of results per run."""

    folder: Path
    env: dict[str, str]
    secrets: list[str] = field(default_factory=list)  # values that must never be printed
    runs: int = 0

    def run(self, *playbooks: str, args: tuple[str, ...] = ("-v",)) -> Run:
        self.runs += 1
        tree = self.folder / f"results-{self.runs}"
        plugins = self.folder / "callback_plugins"
        plugins.mkdir(exist_ok=True)
        (plugins / "results_file.py").write_text(RESULTS_CALLBACK, encoding="utf-8")
        env = {**self.env, "ANSIBLE_CALLBACK_PLUGINS": str(plugins), "ANSIBLE_CALLBACKS_ENABLED": "results_file",
               "TEST_RESULTS_DIR": str(tree)}
        command = [tool("ansible-playbook"), "-i", str(self.folder / "inventory" / "hosts.yml"),
                   "--vault-password-file", str(self.folder / "vault-password"), *args,
                   *(str(EXAMPLES / p) for p in playbooks)]
        done = subprocess.run(command, cwd=self.folder, env=env, capture_output=True, text=True, timeout=300)
        run = Run(done.returncode, done.stdout + done.stderr, tree)
        for secret in self.secrets:
            assert secret not in run.output, f"a secret value is in the output of ansible-playbook {' '.join(args)}"
        return run


@dataclass
class Run:
    code: int
    output: str
    tree: Path

    def recap(self) -> dict[str, dict[str, int]]:
        found = {m[0]: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m[1:])))
                 for m in RECAP.findall(self.output)}
        assert found, self.output
        return found

    def result(self, host: str, module: str = "endpoints.sip.room") -> dict[str, Any]:
        """The host's last result of a module's task, as the results callback kept it."""
        lines = (self.tree / host).read_text(encoding="utf-8").splitlines()
        return [r for r in map(json.loads, lines) if r["task"] == module][-1]


def slug(name: str) -> str:
    return re.sub(r"\W", "_", name).upper()


def vault_string(name: str, value: str, folder: Path, env: dict[str, str]) -> str:
    """`name: !vault |...` made by ansible-vault, the value given on stdin (never on argv)."""
    done = subprocess.run([tool("ansible-vault"), "encrypt_string", "--vault-password-file",
                           str(folder / "vault-password"), "--stdin-name", name], input=value, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def playbook_for(folder: Path, collections: Path, hosts: dict[str, dict[str, Any]], *,
                 device_password: str, known_hosts: str | None = None,
                 sip_passwords: dict[str, str] | None = None) -> Playbook:
    """An Ansible inventory of rooms (group `rooms`): the admin password in a vault, each SIP
    password in the environment, read by an env lookup."""
    env = base_env(folder / "ansible-home", collections)
    env["ENDPOINTS_STATE_DIR"] = os.environ["ENDPOINTS_STATE_DIR"]  # the test's own memory (conftest)
    (folder / "vault-password").write_text(VAULT_PASSWORD, encoding="utf-8")
    group_vars = folder / "inventory" / "group_vars" / "rooms"
    group_vars.mkdir(parents=True)
    (group_vars / "vault.yml").write_text(vault_string("vault_device_password", device_password, folder, env),
                                          encoding="utf-8")
    secrets = [device_password]
    for name, password in (sip_passwords or {}).items():
        env[f"SIP_PASSWORD_{slug(name)}"] = password
        hosts[name].setdefault("sip", {})["password"] = \
            f"{{{{ lookup('ansible.builtin.env', 'SIP_PASSWORD_{slug(name)}') }}}}"
        secrets.append(password)
    shared: dict[str, Any] = {"device_credentials": {"username": "admin", "password": "{{ vault_device_password }}"},
                              "endpoints_verify_timeout": 20}
    if known_hosts:
        shared["known_hosts"] = known_hosts
    inventory = {"rooms": {"vars": shared, "hosts": hosts}}
    (folder / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return Playbook(folder, env, secrets)


def lab_playbook(lab: Lab, folder: Path, collections: Path) -> Playbook:
    """The lab's rooms as an Ansible inventory (addresses, ports, pins and numbers from the
    lab's own inventory; its secret files become a vault and environment variables)."""
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    proxy = data["all"]["vars"]["sip"]["proxy"]
    hosts: dict[str, dict[str, Any]] = {}
    sip_passwords: dict[str, str] = {}
    for group in data["all"]["children"].values():
        for name, variables in (group.get("hosts") or {}).items():
            sip = dict(variables["sip"])
            sip_passwords[name] = (lab.folder / sip.pop("password")["file"]).read_text(encoding="utf-8")
            serial = variables.pop("serial")  # `serial` is a play keyword: Ansible warns about a variable so named
            hosts[name] = {**variables, "room_serial": serial, "sip": {**sip, "proxy": proxy}}
    playbook = playbook_for(folder, collections, hosts, device_password=lab.admin_password,
                            known_hosts=str(lab.folder / "known_hosts"), sip_passwords=sip_passwords)
    playbook.secrets += [room.sip_password for room in lab.rooms.values()]  # the service's own, too
    return playbook


def writes(lab: Lab) -> dict[str, int]:
    return {name: room.device.counters.writes for name, room in lab.rooms.items()}


def phases(lab: Lab) -> dict[str, str]:
    return {name: room.device.registration.view()[0] for name, room in lab.rooms.items()}


ROOMS = [
    RoomSpec("room-a101", "SX10", "https", state="factory"),
    RoomSpec("room-a102", "SX20", "ssh", state="stale"),
    RoomSpec("room-b201", "Group 550", "rest", state="factory", building="building-b"),
    RoomSpec("room-b202", "HDX 7000", "telnet", state="factory", building="building-b"),
]


def test_check_diff_then_apply_then_a_second_run_that_changes_nothing(
        make_lab: Callable[..., Lab], built: tuple[Path, Path], tmp_path: Path) -> None:
    lab = make_lab([dataclasses.replace(r) for r in ROOMS], delay=0.1)
    playbook = lab_playbook(lab, tmp_path, built[1])

    preview = playbook.run("register.yml", args=("--check", "--diff", "-v"))
    assert preview.code == 0, preview.output
    assert all(counts["changed"] == 1 and counts["failed"] == 0 for counts in preview.recap().values())
    assert set(preview.recap()) == set(lab.rooms)
    assert writes(lab) == dict.fromkeys(lab.rooms, 0), "check mode wrote to a room"
    assert "SIP Proxy 1 Address" in preview.output or "SIP.Proxy[1].Address" in preview.output, preview.output
    assert "******** (" in preview.output, "the diff shows why a password would be sent, masked"

    applied = playbook.run("register.yml", args=("-vvv",))
    assert applied.code == 0, applied.output
    assert {h: (c["changed"], c["failed"], c["unreachable"]) for h, c in applied.recap().items()} == \
        dict.fromkeys(lab.rooms, (1, 0, 0))
    assert phases(lab) == dict.fromkeys(lab.rooms, "registered")
    assert all(count > 0 for count in writes(lab).values())
    remembered = json.loads((Path(os.environ["ENDPOINTS_STATE_DIR"]) / "history.json").read_text(encoding="utf-8"))
    assert set(remembered) == {room.spec.number for room in lab.rooms.values()}, \
        "the module processes ran side by side: every room's registration attempt must be remembered"
    before = writes(lab)

    again = playbook.run("register.yml", "facts.yml")
    assert again.code == 0, again.output
    assert {h: (c["changed"], c["failed"]) for h, c in again.recap().items()} == dict.fromkeys(lab.rooms, (0, 0))
    assert writes(lab) == before, "a second run wrote to a room"
    for name, room in lab.rooms.items():
        facts = again.result(name, "endpoints.sip.facts")["ansible_facts"]["endpoints_room"]
        assert facts["model"] == room.spec.model and facts["software"] == room.spec.software
        assert facts["serial"] == room.spec.serial
        assert facts["registration"]["state"] == "registered"
        assert facts["profile"] and facts["settings"]


def test_a_wrong_sip_password_fails_that_room_with_advice_and_is_not_sent_again(
        make_lab: Callable[..., Lab], built: tuple[Path, Path], tmp_path: Path) -> None:
    lab = make_lab([RoomSpec("room-ok", "Group 550", "rest"),
                    RoomSpec("room-bad", "SX20", "https", wrong_password=True)], delay=0.1)
    playbook = lab_playbook(lab, tmp_path, built[1])
    playbook.secrets.append((lab.folder / "secrets" / "room-bad.sip").read_text(encoding="utf-8"))

    first = playbook.run("register.yml")
    assert first.code == 2, first.output
    recap = first.recap()
    assert (recap["room-ok"]["changed"], recap["room-ok"]["failed"]) == (1, 0)
    assert recap["room-bad"]["failed"] == 1
    failed = first.result("room-bad")
    assert failed["outcome"] == "failed" and failed["registration"]["state"] == "failed"
    assert "password" in failed["advice"].lower() and failed["advice"] in first.output
    assert failed["msg"] and failed["changes"], failed
    assert all(c["before"] == c["after"] == "********" for c in failed["changes"] if "reason" in c)
    attempts = lab.rooms["room-bad"].device.registration.attempts
    written = writes(lab)

    second = playbook.run("register.yml")
    assert second.code == 2, second.output
    assert second.recap()["room-bad"]["failed"] == 1 and second.recap()["room-bad"]["changed"] == 0
    assert "was not sent again" in second.result("room-bad")["msg"]
    assert writes(lab) == written, "the refused password was sent again"
    assert lab.rooms["room-bad"].device.registration.attempts == attempts


def test_an_unreachable_room_ends_as_an_unreachable_host(built: tuple[Path, Path], tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    playbook = playbook_for(tmp_path, built[1], {"room-gone": {
        "address": "127.0.0.1", "model": "SX20", "transport": "http", "ports": {"http": closed},
        "sip": {"number": "+99111600009"}}}, device_password="admin-password-of-a-gone-room",
        sip_passwords={"room-gone": "sip-password-of-a-gone-room"})
    run = playbook.run("register.yml")
    assert run.code == 4, run.output  # as `endpoints apply` exits for an unreachable room
    assert run.recap()["room-gone"]["unreachable"] == 1 and run.recap()["room-gone"]["failed"] == 0
    result = run.result("room-gone")
    assert result["outcome"] == "unreachable" and result["unreachable"] is True
    assert result["status"] == "unreachable"
    assert result["advice"] and result["msg"]


def test_bad_options_name_the_option_and_touch_nothing(built: tuple[Path, Path], tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    base: dict[str, Any] = {"address": "127.0.0.1", "transport": "http", "ports": {"http": free_port()}}
    hosts: dict[str, dict[str, Any]] = {
        "room-typo": {**base, "model": "SX21", "sip": {"number": "+99111600001"}},
        "room-udp": {**base, "model": "SX20", "sip": {"number": "+99111600002", "transport": "udp"}},
        "room-ssh": {**base, "model": "SX20", "sip": {"number": "+99111600003"}, "ansible_connection": "ssh"},
        "room-bare": {**base, "model": "SX20", "sip": {"number": "+99111600004"},
                      "ansible_python_interpreter": str(bare / "bin" / "python")},
        "room-ca": {**base, "model": "SX20", "sip": {"number": "+99111600005"}, "tls_verify": "no-such-ca.pem"},
        "room-wait": {**base, "model": "SX20", "sip": {"number": "+99111600006"}, "endpoints_verify_timeout": 0},
    }
    playbook = playbook_for(tmp_path / "play", built[1], hosts, device_password="admin-password-never-used",
                            sip_passwords={name: f"sip-password-never-used-{name}" for name in hosts})
    run = playbook.run("register.yml")
    assert run.code == 2, run.output
    assert {h: c["failed"] for h, c in run.recap().items()} == dict.fromkeys(hosts, 1)
    msg = {name: run.result(name)["msg"] for name in hosts}
    assert msg["room-typo"].startswith("option 'model': unknown model 'SX21'"), msg
    assert msg["room-udp"].startswith("option 'sip.transport':") and "udp" in msg["room-udp"], msg
    assert "connection: local" in msg["room-ssh"], msg
    assert "endpoints-sip" in msg["room-bare"], msg
    # a relative path is relative to the playbook's folder (as Ansible runs local modules), not to the
    # module's private folder
    assert msg["room-ca"].startswith(f"option 'tls_verify': CA bundle {EXAMPLES / 'no-such-ca.pem'} not found"), msg
    assert msg["room-wait"] == "option 'verify_timeout': must be a number of seconds above 0", msg
    assert "endpoints-room-" not in run.output, "the module's private folder leaked into a message"


def test_the_galaxy_build_holds_the_modules_and_their_documentation_parses(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    tarball, collections = built
    names = set(tarfile.open(tarball).getnames())
    for name in ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "plugins/modules/room.py",
                 "plugins/modules/facts.py", "plugins/action/room.py", "plugins/action/facts.py",
                 "plugins/module_utils/room_run.py", "examples/register.yml", "execution-environment.yml",
                 "requirements.txt"):
        assert name in names, name
    tops = {"MANIFEST.json", "FILES.json", "README.md", "meta", "plugins", "examples", "execution-environment.yml",
            "requirements.txt"}
    assert {n.split("/")[0] for n in names} <= tops, sorted(names)  # no caches, no stray build output
    manifest = json.load(tarfile.open(tarball).extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    assert (manifest["collection_info"]["namespace"], manifest["collection_info"]["name"]) == ("endpoints", "sip")
    env = base_env(tmp_path, collections)
    shown = subprocess.run([tool("ansible-doc"), "--json", "endpoints.sip.room", "endpoints.sip.facts"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    docs = json.loads(shown.stdout)
    room = docs["endpoints.sip.room"]["doc"]["options"]
    for option in ("address", "model", "transport", "ports", "device_credentials", "sip", "tls_verify",
                   "ssh_host_key", "known_hosts", "serial", "profile", "verify", "verify_timeout", "state_dir"):
        assert option in room, option
    assert room["sip"]["suboptions"]["password"]["type"] == "raw"
    assert "endpoints_room" in json.dumps(docs["endpoints.sip.facts"]["return"])
    listed = subprocess.run([tool("ansible-inventory"), "-i", str(EXAMPLES / "inventory"), "--list"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "[WARNING]" not in listed.stderr, listed.stderr
    assert len(json.loads(listed.stdout)["_meta"]["hostvars"]) == 3  # the example inventory's rooms
    requirements = (COLLECTION / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^endpoints-sip\b", requirements, re.M), requirements
