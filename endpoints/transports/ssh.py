"""SSH to one device (paramiko): host-key policy first, then password login, then a shell.

Shared by the Cisco and Polycom drivers. The host key is checked before any password is
sent. Policies (`host.ssh_host_key`):

- ``strict``: the key must already be in known_hosts;
- ``accept-new``: an unknown key is stored, a changed one still fails;
- ``off``: no check (a lab, or the user said so for this host).

`trust_changed_key` (recovery of a factory-reset room) accepts an unknown or changed key
for this connection and records it in `presented_key_line`; the caller saves it.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import paramiko
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

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


class _Sha1RsaKey(paramiko.RSAKey):
    """An RSA host key that also verifies `ssh-rsa` (SHA-1) signatures.

    paramiko 5 dropped them; Polycom Group Series offers nothing else. Only used when a
    driver asks for `ssh-rsa` explicitly: the key itself is still checked against known_hosts.
    """

    def verify_ssh_sig(self, data: bytes, msg: paramiko.Message) -> bool:
        algorithm = msg.get_text()
        if algorithm != "ssh-rsa":
            msg.rewind()
            return bool(super().verify_ssh_sig(data, msg))
        signature = msg.get_binary()
        key = self.key if not hasattr(self.key, "public_key") else self.key.public_key()
        signature = signature.rjust((key.key_size + 7) // 8, b"\0")
        try:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())
        except InvalidSignature:
            return False
        return True


class _Transport(paramiko.Transport):
    _key_info: ClassVar[dict[str, type[paramiko.PKey]]] = {
        **paramiko.Transport._key_info, "ssh-rsa": _Sha1RsaKey}


class SshTransport:
    """One SSH connection: `open()`, then any number of `shell()` channels, then `close()`."""

    def __init__(self, host: Host, port: int, credentials: Credentials, *, timeout: float,
                 host_key_algs: tuple[str, ...] | None = None, trust_changed_key: bool = False) -> None:
        self.host, self.port, self.credentials = host, port, credentials
        self.timeout = timeout
        self.host_key_algs = host_key_algs
        self.trust_changed_key = trust_changed_key
        self.key_status: KeyStatus | None = None
        self.presented_key_line: str | None = None  # known_hosts line of the key the device showed
        self.key_changed = False
        self._transport: paramiko.Transport | None = None

    @property
    def known_hosts_name(self) -> str:
        """The host's name in known_hosts: `address`, or `[address]:port` off port 22."""
        return self.host.address if self.port == 22 else f"[{self.host.address}]:{self.port}"

    @property
    def known_hosts_path(self) -> Path:
        return self.host.known_hosts or Path.home() / ".ssh" / "known_hosts"

    def open(self) -> None:
        try:
            if not self._authenticate(self._start(), "password"):
                # Some SSH servers refuse a second auth service request on one connection,
                # so keyboard-interactive gets a connection of its own.
                self.close()
                self._authenticate(self._start(), "keyboard-interactive")
        except BaseException:
            self.close()
            raise

    def _start(self) -> paramiko.Transport:
        """Connect and negotiate, then check the host key before any password is sent."""
        transport = _Transport(self._connect())
        self._transport = transport
        self._negotiate(transport)
        self._check_host_key(transport.get_remote_server_key())
        return transport

    def shell(self, pty: bool = True) -> paramiko.Channel:
        """A new interactive shell channel (with a PTY unless told otherwise)."""
        if self._transport is None or not self._transport.is_active():
            raise Transient(f"{self._where}: the SSH connection is closed")
        try:
            channel = self._transport.open_session(timeout=self.timeout)
            if pty:
                channel.get_pty(term="vt100", width=200, height=48)
            channel.invoke_shell()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise Transient(f"{self._where}: cannot open a shell: {_reason(exc)}") from None
        channel.settimeout(self.timeout)
        return channel

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is None:
            return
        try:
            transport.close()
        except (OSError, paramiko.SSHException, EOFError):  # closing must never hide the real outcome
            log.debug("%s: error while closing SSH", self._where, exc_info=True)

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection ----------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"{self.host.name} (ssh {self.host.address}:{self.port})"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host.address, self.port), timeout=self.timeout)
        except socket.gaierror:
            raise Unreachable(f"{self._where}: cannot resolve {self.host.address}") from None
        except TimeoutError:
            raise Unreachable(f"{self._where}: connection timed out") from None
        except ConnectionRefusedError:
            raise Unreachable(f"{self._where}: connection refused (is SSH enabled?)") from None
        except OSError as exc:
            raise Unreachable(f"{self._where}: cannot connect: {_reason(exc)}") from None

    def _negotiate(self, transport: paramiko.Transport) -> None:
        transport.get_security_options().key_types = self._host_key_algorithms()
        try:
            transport.start_client(timeout=self.timeout)
        except paramiko.ssh_exception.IncompatiblePeer as exc:
            raise ProtocolError(f"{self._where}: no common SSH algorithms: {_reason(exc)}") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Transient(f"{self._where}: SSH negotiation failed: {_reason(exc)}") from None

    def _host_key_algorithms(self) -> tuple[str, ...]:
        """Offer the algorithms of keys we already know first (as OpenSSH does), so a device
        with several host keys shows the one on file rather than looking 'changed'."""
        offered = self.host_key_algs or tuple(paramiko.Transport._preferred_keys)
        known = [alg for key_type in self._known_keys() for alg in _ALGORITHMS_OF_KEY_TYPE.get(key_type, ())]
        first = [alg for alg in known if alg in offered]
        return tuple(dict.fromkeys(first + list(offered)))

    # --- host keys -----------------------------------------------------------------------

    def _known_keys(self) -> dict[str, paramiko.PKey]:
        path = self.known_hosts_path
        if self.host.ssh_host_key == "off" or not path.exists():
            return {}
        keys = paramiko.HostKeys()
        try:
            keys.load(str(path))
        except (OSError, paramiko.SSHException) as exc:
            raise DeviceError(f"{self._where}: cannot read known_hosts file {path}: {_reason(exc)}") from None
        entry = keys.lookup(self.known_hosts_name)
        return dict(entry) if entry else {}

    def _check_host_key(self, key: paramiko.PKey) -> None:
        self.presented_key_line = f"{self.known_hosts_name} {key.get_name()} {key.get_base64()}"
        known = self._known_keys()
        if key.get_name() in known and known[key.get_name()] == key:
            self.key_status = "known"
            return
        self.key_status = "changed" if known else "new"
        policy = self.host.ssh_host_key
        if policy == "off":
            return
        if self.trust_changed_key:
            log.warning("%s: accepting a %s SSH host key %s (recovery)", self._where, self.key_status,
                        key.get_fingerprint().hex())
            self.key_changed = True
            return
        if self.key_status == "changed":
            raise HostKeyChanged(
                f"{self._where}: host key changed: if this room was factory reset run `endpoints recover`, "
                f"otherwise investigate (presented {key.get_name()} key, known_hosts {self.known_hosts_path})")
        if policy == "accept-new":
            self._store(self.presented_key_line)
            return
        raise HostKeyUnknown(
            f"{self._where}: host key not in {self.known_hosts_path}; to trust it on first use set "
            "`ssh_host_key: accept-new` for this host (or add the key to known_hosts)")

    def _store(self, line: str) -> None:
        path = self.known_hosts_path
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as exc:
            raise DeviceError(f"{self._where}: cannot store the host key in {path}: {_reason(exc)}") from None
        log.info("%s: stored new host key in %s", self._where, path)

    # --- authentication ------------------------------------------------------------------

    def _authenticate(self, transport: paramiko.Transport, method: str) -> bool:
        """Log in; False when the server wants keyboard-interactive instead of a password."""
        username = self.credentials.username
        password = self.credentials.password.reveal() if self.credentials.password else ""
        try:
            if method == "password":
                transport.auth_password(username, password, fallback=False)
            else:
                transport.auth_interactive(username, _answer_with(password))
        except paramiko.BadAuthenticationType as exc:
            if method == "password" and "keyboard-interactive" in exc.allowed_types:
                return False
            raise AuthenticationFailed(f"{self._where}: the device offers no password login "
                                       f"(it offers {', '.join(exc.allowed_types)})") from None
        except paramiko.AuthenticationException:
            raise AuthenticationFailed(
                f"{self._where}: the device refused the login of user '{username}'") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Transient(f"{self._where}: connection lost during login: {_reason(exc)}") from None
        return True


def _answer_with(password: str) -> Any:
    def handler(title: str, instructions: str, prompts: Sequence[tuple[str, bool]]) -> list[str]:
        return [password if _asks_secret(prompt, echo) else "" for prompt, echo in prompts]
    return handler


def _asks_secret(prompt: str, echo: bool) -> bool:
    return not echo or any(word in prompt.lower() for word in ("password", "passphrase"))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
