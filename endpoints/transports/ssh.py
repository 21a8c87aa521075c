"""SSH to one device (paramiko): host-key policy first, then password login, then a shell.

Shared by the Cisco and Polycom drivers. The host key is checked before any password is
sent. Policies (`host.ssh_host_key`):

- ``strict``: the key must already be in known_hosts (or be pinned by `endpoints trust`);
- ``accept-new``: an unknown key is stored, a changed one still fails;
- ``off``: no check (a lab, or the user said so for this host).

`trust_changed_key` (recovery of a factory-reset room) accepts an unknown or changed key
for this connection and records it in `presented_key_line`; the caller saves it.

Polycom Group Series offers nothing but the legacy `ssh-rsa` (SHA-1) host key. paramiko 5
dropped that algorithm, so the package requires paramiko < 5, where it is a public option
(`host_key_algs=("ssh-rsa",)`); no private paramiko API is used.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import paramiko

from endpoints import knownhosts
from endpoints.errors import (
    AuthenticationFailed,
    DeviceError,
    HostKeyChanged,
    HostKeyUnknown,
    ProtocolError,
    Transient,
    Unreachable,
)
from endpoints.host import Credentials, Host
from endpoints.transports.base import Deadline, StreamTransport, connect_tcp, map_os_error, reason

log = logging.getLogger(__name__)

KeyStatus = Literal["known", "new", "changed"]

# Host-key algorithms that go with a key type as written in known_hosts.
_ALGORITHMS_OF_KEY_TYPE: dict[str, tuple[str, ...]] = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
}


def fingerprint(key: paramiko.PKey) -> str:
    """As `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the key's SHA-256."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class SshTransport:
    """One SSH connection: `open()`, then `shell()` channels (or a `stream()`), then `close()`."""

    def __init__(self, host: Host, port: int, credentials: Credentials, *, timeout: float,
                 host_key_algs: tuple[str, ...] | None = None, trust_changed_key: bool = False) -> None:
        self.host, self.port, self.credentials = host, port, credentials
        self.timeout = timeout
        self.host_key_algs = host_key_algs
        self.trust_changed_key = trust_changed_key
        self.key_status: KeyStatus | None = None
        self.presented_key: paramiko.PKey | None = None
        self.presented_key_line: str | None = None  # known_hosts line of the key the device showed
        self.key_changed = False
        self._transport: paramiko.Transport | None = None

    @property
    def known_hosts_name(self) -> str:
        """The host's name in known_hosts: `address`, or `[address]:port` off port 22."""
        return knownhosts.host_name(self.host.address, self.port)

    @property
    def known_hosts_path(self) -> Path:
        return knownhosts.path_for(self.host)

    @property
    def where(self) -> str:
        return f"{self.host.name} (ssh {self.host.address}:{self.port})"

    def open(self, deadline: Deadline | None = None) -> None:
        deadline = deadline or Deadline(self.timeout)
        try:
            if not self._authenticate(self._start(deadline), "password"):
                # Some SSH servers refuse a second auth service request on one connection,
                # so keyboard-interactive gets a connection of its own.
                self.close()
                self._authenticate(self._start(deadline), "keyboard-interactive")
        except BaseException:
            self.close()
            raise

    def key_exchange(self, deadline: Deadline | None = None) -> paramiko.PKey:
        """Connect and negotiate only (no login): the host key the device presents (`trust`)."""
        deadline = deadline or Deadline(self.timeout)
        try:
            transport = paramiko.Transport(connect_tcp(self.host.address, self.port, deadline, self.where, "SSH"))
            self._transport = transport
            self._negotiate(transport, deadline)
            return transport.get_remote_server_key()
        finally:
            self.close()

    def _start(self, deadline: Deadline) -> paramiko.Transport:
        """Connect and negotiate, then check the host key before any password is sent."""
        transport = paramiko.Transport(connect_tcp(self.host.address, self.port, deadline, self.where, "SSH"))
        self._transport = transport
        self._negotiate(transport, deadline)
        self._check_host_key(transport.get_remote_server_key())
        return transport

    def shell(self, pty: bool = True) -> paramiko.Channel:
        """A new interactive shell channel (with a PTY unless told otherwise)."""
        if self._transport is None or not self._transport.is_active():
            raise Transient(f"{self.where}: the SSH connection is closed")
        try:
            channel = self._transport.open_session(timeout=self.timeout)
            if pty:
                channel.get_pty(term="vt100", width=200, height=48)
            channel.invoke_shell()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise Transient(f"{self.where}: cannot open a shell: {reason(exc)}") from None
        channel.settimeout(self.timeout)
        return channel

    def stream(self, pty: bool = True) -> ShellStream:
        """A shell as a byte stream that owns this connection (closing it closes both)."""
        return ShellStream(self, self.shell(pty))

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is None:
            return
        try:
            transport.close()
        except (OSError, paramiko.SSHException, EOFError):  # closing must never hide the real outcome
            log.debug("%s: error while closing SSH", self.where, exc_info=True)

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection ----------------------------------------------------------------------

    def _negotiate(self, transport: paramiko.Transport, deadline: Deadline) -> None:
        options = transport.get_security_options()
        options.key_types = self._host_key_algorithms(tuple(options.key_types))
        # A device that accepts TCP and never finishes the handshake must not hold the room.
        transport.banner_timeout = transport.handshake_timeout = deadline.timeout()
        try:
            transport.start_client(timeout=deadline.timeout())
        except paramiko.ssh_exception.IncompatiblePeer as exc:
            raise ProtocolError(f"{self.where}: no common SSH algorithms: {reason(exc)}") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, EOFError):
                raise map_os_error(exc, self.where, connecting=True, what="SSH") from None
            raise Unreachable(f"{self.where}: the device accepted the connection but did not complete the "
                              f"SSH handshake ({reason(exc)})") from None
        if not transport.is_active() or transport.host_key is None:  # start_client gave up waiting
            raise Unreachable(f"{self.where}: the device accepted the connection but did not complete the "
                              f"SSH handshake within {deadline.seconds:g} s")

    def _host_key_algorithms(self, default: tuple[str, ...]) -> tuple[str, ...]:
        """Offer the algorithms of keys we already know first (as OpenSSH does), so a device
        with several host keys shows the one on file rather than looking 'changed'."""
        # SHA-1 `ssh-rsa` signatures only where a driver asks for them (Group Series).
        offered = self.host_key_algs or tuple(a for a in default if a != "ssh-rsa")
        known = [alg for key_type in self._known_keys() for alg in _ALGORITHMS_OF_KEY_TYPE.get(key_type, ())]
        first = [alg for alg in known if alg in offered]
        return tuple(dict.fromkeys(first + list(offered)))

    # --- host keys -----------------------------------------------------------------------

    def _known_keys(self) -> dict[str, paramiko.PKey]:
        if self.host.ssh_host_key == "off":
            return {}
        try:
            return knownhosts.lookup(self.known_hosts_path, self.known_hosts_name)
        except knownhosts.KnownHostsError as exc:
            raise DeviceError(f"{self.where}: {exc}") from None

    def _check_host_key(self, key: paramiko.PKey) -> None:
        self.presented_key = key
        self.presented_key_line = f"{self.known_hosts_name} {key.get_name()} {key.get_base64()}"
        self.key_status = knownhosts.status_of(key, self._known_keys())
        policy = self.host.ssh_host_key
        if self.key_status == "known" or policy == "off":
            return
        if self.trust_changed_key:
            log.warning("%s: accepting a %s SSH host key %s (recovery)", self.where, self.key_status,
                        fingerprint(key))
            self.key_changed = True
            return
        if self.key_status == "changed":
            raise HostKeyChanged(
                f"{self.where}: host key changed: if this room was factory reset run `endpoints recover`, "
                f"otherwise investigate (presented {key.get_name()} {fingerprint(key)}, known_hosts "
                f"{self.known_hosts_path})")
        if policy == "accept-new":
            self._store(self.presented_key_line)
            return
        raise HostKeyUnknown(
            f"{self.where}: host key not in {self.known_hosts_path}; check its fingerprint and record it with "
            "`endpoints trust --accept` (or set `ssh_host_key: accept-new` for this host)")

    def _store(self, line: str) -> None:
        try:
            knownhosts.add(self.known_hosts_path, line)
        except OSError as exc:
            raise DeviceError(f"{self.where}: cannot store the host key in {self.known_hosts_path}: "
                              f"{reason(exc)}") from None
        log.info("%s: stored new host key in %s", self.where, self.known_hosts_path)

    # --- authentication ------------------------------------------------------------------

    def _authenticate(self, transport: paramiko.Transport, method: str) -> bool:
        """Log in; False when the server wants keyboard-interactive instead of a password."""
        username = self.credentials.username
        password = self.credentials.password.reveal() if self.credentials.password else ""
        transport.auth_timeout = self.timeout
        try:
            if method == "password":
                transport.auth_password(username, password, fallback=False)
            else:
                transport.auth_interactive(username, _answer_with(password))
        except paramiko.BadAuthenticationType as exc:
            if method == "password" and "keyboard-interactive" in exc.allowed_types:
                return False
            raise AuthenticationFailed(f"{self.where}: the device offers no password login "
                                       f"(it offers {', '.join(exc.allowed_types)})") from None
        except paramiko.AuthenticationException:
            raise AuthenticationFailed(
                f"{self.where}: the device refused the login of user '{username}'") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Transient(f"{self.where}: connection lost during login: {reason(exc)}") from None
        return True


class ShellStream(StreamTransport):
    """An SSH shell channel as a byte stream (what the line channel reads and writes)."""

    def __init__(self, ssh: SshTransport, channel: paramiko.Channel) -> None:
        self.ssh, self.channel, self.where = ssh, channel, ssh.where

    def open(self, deadline: Deadline) -> None:  # opened by SshTransport.stream()
        return None

    def write(self, data: bytes) -> None:
        try:
            self.channel.sendall(data)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise Transient(f"{self.where}: the SSH session broke: {reason(exc)}") from None

    def read(self, deadline: Deadline) -> bytes:
        while True:
            if deadline.expired():
                raise Transient(f"{self.where}: no complete answer within {deadline.seconds:g} s")
            self.channel.settimeout(deadline.timeout(1.0))
            try:
                return bytes(self.channel.recv(65536))
            except TimeoutError:
                continue
            except (OSError, paramiko.SSHException, EOFError) as exc:
                raise Transient(f"{self.where}: the SSH session broke: {reason(exc)}") from None

    def close(self) -> None:
        try:
            self.channel.close()
        except (OSError, paramiko.SSHException, EOFError):
            log.debug("%s: shell already closed", self.where)
        self.ssh.close()


def _answer_with(password: str) -> Any:
    def handler(title: str, instructions: str, prompts: Sequence[tuple[str, bool]]) -> list[str]:
        return [password if _asks_secret(prompt, echo) else "" for prompt, echo in prompts]
    return handler


def _asks_secret(prompt: str, echo: bool) -> bool:
    return not echo or any(word in prompt.lower() for word in ("password", "passphrase"))


