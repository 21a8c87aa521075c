"""SshTransport against real loopback SSH servers: host-key policies, logins, shells."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import paramiko
import pytest

from endpoints.errors import AuthenticationFailed, HostKeyChanged, HostKeyUnknown, ProtocolError, Unreachable
from endpoints.host import Credentials, Host, HostKeyPolicy
from endpoints.lab.net import LOOPBACK, LabLoop, Stream, free_port, known_hosts_line, make_host_key, serve_ssh
from endpoints.secrets import Secret
from endpoints.transports.ssh import SshTransport

PASSWORD = "ssh-device-secret-9"


@dataclass
class Server:
    port: int
    key: asyncssh.SSHKey
    logins: list[str] = field(default_factory=list)  # passwords tried, for "nothing was sent" checks
    acceptor: Any = None

    def line(self) -> str:
        return known_hosts_line(self.key, self.port).strip()


async def hello(stream: Stream) -> None:
    stream.write(f"hello pty={stream.pty}\n")
    await stream.read_line()


def start(lab: LabLoop, key: asyncssh.SSHKey, *, only: tuple[str, ...] = ()) -> Server:
    server = Server(free_port(), key)

    def check(username: str, password: str) -> bool:
        server.logins.append(password)
        return username == "admin" and password == PASSWORD

    server.acceptor = lab.call(serve_ssh(server.port, key, check, hello, host_key_algs=only))
    return server


@pytest.fixture(scope="module")
def server(lab: LabLoop) -> Iterator[Server]:
    running = start(lab, make_host_key("ssh-rsa"))
    yield running
    running.acceptor.close()


@pytest.fixture(scope="module")
def rsa_sha1_server(lab: LabLoop) -> Iterator[Server]:
    """A server that offers nothing but `ssh-rsa` (SHA-1) host-key signatures (Polycom)."""
    running = start(lab, make_host_key("ssh-rsa"), only=("ssh-rsa",))
    yield running
    running.acceptor.close()


class _KeyboardOnly(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Any:
        return "", "", "", [("Password: ", False)]

    def validate_kbdint_response(self, username: str, responses: list[str]) -> bool:
        return list(responses) == [PASSWORD]


@pytest.fixture(scope="module")
def keyboard_server(lab: LabLoop) -> Iterator[Server]:
    key = make_host_key("ssh-ed25519")
    running = Server(free_port(), key)

    async def process(proc: asyncssh.SSHServerProcess) -> None:
        proc.stdout.write("hello\n")
        proc.exit(0)

    async def serve() -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(_KeyboardOnly, LOOPBACK, running.port, server_host_keys=[key],
                                            process_factory=process)

    running.acceptor = lab.call(serve())
    yield running
    running.acceptor.close()


def host(server: Server, known: Path, policy: HostKeyPolicy = "strict", password: str = PASSWORD) -> Host:
    return Host("room-s", LOOPBACK, known_hosts=known, ssh_host_key=policy,
                device_credentials=Credentials("admin", Secret(password)))


def transport(server: Server, known: Path, policy: HostKeyPolicy = "strict", *, password: str = PASSWORD,
              **options: Any) -> SshTransport:
    h = host(server, known, policy, password)
    return SshTransport(h, server.port, h.device_credentials, timeout=5, **options)


def first_line(ssh: SshTransport, pty: bool) -> str:
    channel = ssh.shell(pty=pty)
    data = b""
    while b"\n" not in data:
        data += channel.recv(1024)
    return data.decode().strip()


def test_known_key_connects_and_opens_shells(server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.line() + "\n")
    ssh = transport(server, known)
    ssh.open()
    try:
        assert ssh.key_status == "known" and not ssh.key_changed
        assert first_line(ssh, pty=True) == "hello pty=True"
        assert first_line(ssh, pty=False) == "hello pty=False"
    finally:
        ssh.close()
        ssh.close()  # closing twice is harmless


def test_unknown_key_is_refused_before_any_password_is_sent(server: Server, tmp_path: Path) -> None:
    tried = len(server.logins)
    with pytest.raises(HostKeyUnknown, match="ssh_host_key: accept-new"):
        transport(server, tmp_path / "known_hosts").open()
    assert len(server.logins) == tried


def test_accept_new_stores_the_key_in_the_bracketed_form(server: Server, tmp_path: Path) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    with transport(server, known, "accept-new") as ssh:
        assert ssh.key_status == "new"
    assert known.read_text().splitlines() == [server.line()]
    assert known.read_text().startswith(f"[127.0.0.1]:{server.port} ")
    assert known.stat().st_mode & 0o777 == 0o600
    with transport(server, known) as again:
        assert again.key_status == "known"


def test_hashed_known_hosts_entries_are_understood(server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    name, key_type, key = server.line().split()
    known.write_text(f"{paramiko.HostKeys.hash_host(name)} {key_type} {key}\n")
    with transport(server, known) as ssh:
        assert ssh.key_status == "known"


@pytest.mark.parametrize("policy", ["strict", "accept-new"])
def test_changed_key_fails_under_both_policies(server: Server, tmp_path: Path, policy: HostKeyPolicy) -> None:
    known = tmp_path / "known_hosts"
    old = known_hosts_line(make_host_key("ssh-rsa"), server.port)
    known.write_text(old)
    tried = len(server.logins)
    with pytest.raises(HostKeyChanged) as failure:
        transport(server, known, policy).open()
    assert "host key changed: if this room was factory reset run `endpoints recover`, otherwise investigate" \
        in str(failure.value)
    assert len(server.logins) == tried
    assert known.read_text() == old  # never overwritten


def test_changed_key_is_accepted_for_recovery_and_reported(server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(make_host_key("ssh-rsa"), server.port))
    with transport(server, known, trust_changed_key=True) as ssh:
        assert ssh.key_status == "changed" and ssh.key_changed
        assert ssh.presented_key_line == server.line()


def test_checking_off_connects_without_a_file(server: Server, tmp_path: Path) -> None:
    with transport(server, tmp_path / "none", "off") as ssh:
        assert ssh.key_status == "new"
    assert not (tmp_path / "none").exists()


def test_wrong_password_is_an_authentication_failure(server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.line() + "\n")
    with pytest.raises(AuthenticationFailed) as failure:
        transport(server, known, password="not-the-password-7").open()
    assert "not-the-password-7" not in str(failure.value) and "admin" in str(failure.value)


def test_keyboard_interactive_only_device(keyboard_server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(keyboard_server.line() + "\n")
    with transport(keyboard_server, known) as ssh:
        assert first_line(ssh, pty=False) == "hello"
    with pytest.raises(AuthenticationFailed):
        transport(keyboard_server, known, password="wrong").open()


def test_ssh_rsa_only_device_with_host_key_checking(rsa_sha1_server: Server, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(rsa_sha1_server.line() + "\n")
    with transport(rsa_sha1_server, known, host_key_algs=("ssh-rsa",)) as ssh:
        assert ssh.key_status == "known"
        assert first_line(ssh, pty=True) == "hello pty=True"
    known.write_text(known_hosts_line(make_host_key("ssh-rsa"), rsa_sha1_server.port))
    with pytest.raises(HostKeyChanged):
        transport(rsa_sha1_server, known, host_key_algs=("ssh-rsa",)).open()


def test_ssh_rsa_only_device_without_the_option_names_the_problem(rsa_sha1_server: Server, tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="no common SSH algorithms"):
        transport(rsa_sha1_server, tmp_path / "kh", "off").open()


def test_refused_port_is_unreachable(tmp_path: Path) -> None:
    server = Server(free_port(), make_host_key("ssh-ed25519"))
    with pytest.raises(Unreachable, match="refused"):
        transport(server, tmp_path / "kh").open()


def test_port_22_uses_the_plain_name(tmp_path: Path) -> None:
    h = Host("room", "10.0.0.5", known_hosts=tmp_path / "kh")
    assert SshTransport(h, 22, h.device_credentials, timeout=1).known_hosts_name == "10.0.0.5"
    assert SshTransport(h, 2222, h.device_credentials, timeout=1).known_hosts_name == "[10.0.0.5]:2222"
