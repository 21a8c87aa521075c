"""Polycom line API driver: Group Series over SSH or telnet, HDX over telnet.

Reads and writes `systemsetting` names (`sipproxyserver` ...), reads registration from
`status` (`sipserver online|offline`), and identity from `systemsetting get model`,
`version` and `serialnum`. The wire rules live in `polycom_lineproto`.
"""
from __future__ import annotations

import codecs
import logging
from collections.abc import Sequence
from typing import Any

from endpoints.drivers import polycom_lineproto as proto
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.errors import ProtocolError, SettingRefused, Transient
from endpoints.host import Credentials, Host
from endpoints.secrets import Secret
from endpoints.transports.telnet import TelnetTransport

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"ssh": 22, "telnet": 24}


class SshShell:
    """The device's API shell on an SSH PTY, as a `proto.Channel`."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._channel = transport.shell(pty=True)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def send(self, text: str) -> None:
        try:
            self._channel.sendall(text.encode("utf-8"))
        except OSError as exc:
            raise Transient(f"ssh send failed: {exc}") from None

    def recv(self, timeout: float) -> str | None:
        self._channel.settimeout(max(timeout, 0.001))
        try:
            data = self._channel.recv(4096)
        except TimeoutError:
            return None
        except OSError as exc:
            raise Transient(f"ssh receive failed: {exc}") from None
        if not data:
            return ""
        return self._decoder.decode(data) or None

    def close(self) -> None:
        try:
            self._channel.close()
        finally:
            self._transport.close()


class PolycomLineDriver(Driver):
    family = "polycom-line"
    transports = ("ssh", "telnet")
    DEFAULT_COMMAND_GAP = 0.2  # Polycom advises >= 200 ms between commands

    def __init__(self, host: Host, transport: str, *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False,
                 command_gap: float | None = None) -> None:
        super().__init__(host, transport, credentials=credentials, timeout=timeout,
                         trust_changed_key=trust_changed_key)
        if transport not in self.transports:
            raise ValueError(f"the Polycom line API runs over ssh or telnet, not {transport!r}")
        self.command_gap = self.DEFAULT_COMMAND_GAP if command_gap is None else command_gap
        self._session: proto.LineSession | None = None
        self._serial = ""

    # -- session --

    @property
    def port(self) -> int:
        return self.host.port(self.transport, DEFAULT_PORTS[self.transport])

    def open(self) -> None:
        channel = self._connect()
        password = self._password()
        self._session = proto.LineSession(
            channel, device=f"{self.host.name}@{self.host.address}", timeout=self.timeout,
            gap=self.command_gap, newline="\r" if self.transport == "ssh" else "\r\n",
            secrets=[password] if password else [])
        try:
            self._session.login(self.credentials.username, password)
        except BaseException:
            # Not logged in: hang up without a word. An `exit` sent now would land at the
            # device's password prompt and count as one more failed login towards its lockout.
            session, self._session = self._session, None
            session.close()
            raise
        try:
            self._serial = self._value(self._run(proto.simple("serialnum")), 1)
        except BaseException:
            self.close()
            raise

    def _password(self) -> str | None:
        secret = self.credentials.password
        return secret.reveal() if secret is not None else None

    def _connect(self) -> proto.Channel:
        if self.transport == "telnet":
            telnet = TelnetTransport(self.host.address, self.port, timeout=self.timeout)
            telnet.open()
            return telnet
        return self._connect_ssh()

    def _connect_ssh(self) -> proto.Channel:
        from endpoints.transports.ssh import SshTransport

        # Group Series offers only the legacy `ssh-rsa` host key; checking stays on.
        ssh = SshTransport(self.host, self.port, self.credentials, timeout=self.timeout,
                           host_key_algs=("ssh-rsa",), trust_changed_key=self.trust_changed_key)
        try:
            ssh.open()
            self._note_key(ssh)
            return SshShell(ssh)
        except BaseException:
            ssh.close()
            raise

    def _note_key(self, ssh: Any) -> None:
        if ssh.key_changed:
            self.key_changed = True
            self.presented_key = ssh.presented_key_line

    def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.channel.send("exit" + session.newline)  # frees the device's login slot
        except Exception:
            log.debug("%s: could not say exit", self.host.name, exc_info=True)
        session.close()

    def _run(self, command: proto.Command) -> list[str]:
        if self._session is None:
            raise Transient(f"{self.host.name}: the line API session is not open")
        return self._session.run(command)

    @staticmethod
    def _value(lines: list[str], words: int) -> str:
        return proto.value_of(lines[0], words) if lines else ""

    # -- getters --

    def identity(self) -> Identity:
        banner = self._session.banner if self._session else {}
        product = self._optional(proto.get_setting("model"), 2) or banner.get("Model", "")
        version = self._optional(proto.simple("version"), 1) or banner.get("Software Version", "")
        if not product or not version:
            raise ProtocolError(f"{self.host.name}: the device did not report its model and software")
        serial = self._serial or banner.get("Serial Number", "")
        return Identity("polycom", product, proto.canonical_model(product), proto.software_of(version),
                        serial)

    def _optional(self, command: proto.Command, words: int) -> str | None:
        try:
            return self._value(self._run(command), words)
        except proto.CommandRefused as refused:
            if refused.not_found:
                return None
            raise ProtocolError(f"{self.host.name}: {refused}") from None

    def read(self, paths: Sequence[str]) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for path in paths:
            name = setting_name(path)
            values[path] = None if name in proto.WRITE_ONLY else \
                self._optional(proto.get_setting(name), proto.value_position(name))
        return values

    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        try:
            lines = self._run(proto.STATUS)
        except proto.CommandRefused as refused:
            if refused.not_found:
                return {path: None for path in paths}
            raise ProtocolError(f"{self.host.name}: {refused}") from None
        items = {}
        for line in lines:
            name, _, state = line.partition(" ")
            items[name.casefold()] = state.strip()
        return {path: items.get(path.casefold()) for path in paths}

    # -- setters --

    def write(self, writes: Sequence[Write]) -> None:
        for write in writes:
            self._write_one(write)

    def _write_one(self, write: Write) -> None:
        command = set_command(write)
        try:
            lines = self._run(command)
        except proto.CommandRefused as refused:
            raise SettingRefused(write.path, refused.reason) from None
        check_kept(write, self._value(lines, proto.value_position(setting_name(write.path))))

    def set_admin_password(self, new: Secret) -> None:
        old = self._password() or ""
        try:
            self._run(proto.set_password(old, new.reveal()))
        except proto.CommandRefused as refused:
            raise SettingRefused("admin password", refused.reason) from None
        except ValueError as exc:
            raise SettingRefused("admin password", str(exc)) from None
        self.credentials = Credentials(self.credentials.username, new)

    def first_boot(self) -> bool:
        try:
            self._run(proto.get_setting("sipenable"))
        except proto.CommandRefused as refused:
            if refused.in_wizard:
                return True
            raise ProtocolError(f"{self.host.name}: {refused}") from None
        return False

    def finish_first_boot(self) -> None:
        try:
            self._run(proto.OOB_COMPLETE)
        except proto.CommandRefused as refused:
            raise ProtocolError(f"{self.host.name}: {refused}") from None
        except Transient:
            # HDX restarts after `oobcomplete` and may drop the session before replying.
            log.info("%s: the session ended after oobcomplete (device restart)", self.host.name)
            self.close()


def set_command(write: Write, *, forbidden: str = "", why: str = "") -> proto.Command:
    """The command that sets one setting; SettingRefused when the value cannot be sent."""
    value = write.clear_value()
    try:
        if forbidden and forbidden in value:
            raise ValueError(why)
        return proto.set_setting(setting_name(write.path), value, secret=isinstance(write.value, Secret))
    except ValueError as exc:
        raise SettingRefused(write.path, str(exc)) from None


def check_kept(write: Write, kept: str) -> None:
    """A set reply repeats the value the device kept: it must be the one sent."""
    if not isinstance(write.value, Secret) and kept.casefold() != write.value.casefold():
        raise SettingRefused(write.path, f"the device kept {kept!r}")


def setting_name(path: str) -> str:
    """The canonical `systemsetting` name for a path (name in any case, or its config key)."""
    lowered = path.strip().casefold()
    if lowered.startswith("systemsetting "):
        lowered = lowered.split()[-1]
    return proto.NAME_OF_KEY.get(lowered, lowered)

