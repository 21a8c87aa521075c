"""Cisco xAPI over SSH (tshell, terminal output mode), for TC 7 and CE 8/9.

`xConfiguration <path>` / `xStatus <path>` read (`*c` / `*s` lines, `** end`, then
`OK`, `ERROR` or `Command not recognized.`); `xConfiguration <path>: "<value>"` writes,
one command per setting. Output is cut at terminator lines only, so a value that is
itself `OK` (`SignalState: OK`) never ends an answer. No PTY is asked for (as Cisco's
own jsxapi does); the reader copes with CR LF as well.
"""
from __future__ import annotations

import codecs
import logging
import time
from collections.abc import Sequence
from typing import ClassVar

import paramiko

from endpoints.drivers import cisco_xapi as xapi
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.errors import ProtocolError, SettingRefused, Transient
from endpoints.host import Credentials, Host
from endpoints.secrets import MASK, Secret, redact
from endpoints.transports.ssh import SshTransport

log = logging.getLogger(__name__)


class CiscoSshDriver(Driver):
    family: ClassVar[str] = "cisco-xapi"
    transports: ClassVar[tuple[str, ...]] = ("ssh",)
    pty: ClassVar[bool] = False

    def __init__(self, host: Host, transport: str = "ssh", *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False) -> None:
        super().__init__(host, transport, credentials=credentials, timeout=timeout,
                         trust_changed_key=trust_changed_key)
        self._ssh: SshTransport | None = None
        self._channel: paramiko.Channel | None = None
        self._reader = xapi.TerminalReader()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._replies: list[xapi.TerminalReply] = []
        self._identity: Identity | None = None

    # --- session ---------------------------------------------------------------------------

    def open(self) -> None:
        self._ssh = SshTransport(self.host, self.host.port("ssh", 22), self.credentials, timeout=self.timeout,
                                 trust_changed_key=self.trust_changed_key)
        try:
            self._ssh.open()
            self._channel = self._ssh.shell(pty=self.pty)
            self._next_reply()  # the login banner ends with OK
            self._command("echo off")
        except BaseException:
            self.close()
            raise
        if self._ssh.key_changed:
            self.key_changed = True
            self.presented_key = self._ssh.presented_key_line

    def close(self) -> None:
        """Say goodbye and drop the connection; never raises."""
        channel, self._channel = self._channel, None
        ssh, self._ssh = self._ssh, None
        if channel is not None:
            try:
                channel.sendall(b"bye\n")
                channel.close()
            except (OSError, paramiko.SSHException, EOFError):  # already gone
                log.debug("%s: shell already closed", self.host.name)
        if ssh is not None:
            ssh.close()

    # --- Driver API ------------------------------------------------------------------------

    def identity(self) -> Identity:
        if self._identity is None:
            values = self._values("xStatus", list(xapi.IDENTITY_PATHS.values()))
            self._identity = xapi.identity_from(values)
            log.debug("%s: identity %s", self.host.name, self._identity)
        return self._identity

    def read(self, paths: Sequence[str]) -> dict[str, str | None]:
        return self._values("xConfiguration", paths)

    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        return self._values("xStatus", paths)

    def write(self, writes: Sequence[Write]) -> None:
        for write in writes:
            try:
                value = xapi.quote(write.clear_value())
            except ValueError as exc:
                raise SettingRefused(write.path, str(exc)) from None
            shown = MASK if isinstance(write.value, Secret) else value
            reply = self._command(f"xConfiguration {write.path}: {value}",
                                  shown=f"xConfiguration {write.path}: {shown}")
            error = reply.error()
            if error is not None:
                secrets = [write.value] if isinstance(write.value, Secret) else []
                raise SettingRefused(write.path, redact(error, secrets))

    def set_admin_password(self, new: Secret) -> None:
        current = self.credentials.password.reveal() if self.credentials.password else ""
        if xapi.is_tc(self.identity().software):
            path, params = "SystemUnit AdminPassword Set", f"Password: {xapi.quote(new.reveal())}"
        else:
            path = "UserManagement User Passphrase Set"
            params = (f"NewPassphrase: {xapi.quote(new.reveal())} Username: "
                      f"{xapi.quote(self.credentials.username)} YourPassphrase: {xapi.quote(current)}")
        reply = self._command(f"xCommand {path} {params}", shown=f"xCommand {path} (values hidden)")
        error = reply.error()
        if error is not None:
            secrets = [new] + ([self.credentials.password] if self.credentials.password else [])
            raise SettingRefused(path, redact(error, secrets))
        self.credentials = Credentials(self.credentials.username, new)

    # --- terminal --------------------------------------------------------------------------

    def _values(self, verb: str, paths: Sequence[str]) -> dict[str, str | None]:
        """One command per top-level node (`xStatus SIP` answers every SIP leaf)."""
        answers: dict[str, dict[str, str]] = {}
        found: dict[str, str | None] = {}
        for path in paths:
            top = xapi.split_path(path)[0][0]
            if top.lower() not in answers:
                reply = self._command(f"{verb} {top}")
                error = reply.error()
                if error is not None:
                    log.debug("%s: %s %s: %s", self.host.name, verb, top, error)
                answers[top.lower()] = {} if error else {xapi.case_key(k): v for k, v in reply.values().items()}
            found[path] = answers[top.lower()].get(xapi.case_key(path))
            log.debug("%s: %s %s = %r", self.host.name, verb, path, found[path])
        return found

    def _command(self, command: str, *, shown: str | None = None) -> xapi.TerminalReply:
        if self._channel is None:
            raise ProtocolError(f"{self.host.name}: the driver is not open")
        log.debug("%s: > %s", self.host.name, shown or command)
        self._replies.clear()  # anything not yet read belongs to an earlier answer
        self._reader.start_answer()
        try:
            self._channel.sendall((command + "\n").encode("utf-8"))
        except (OSError, paramiko.SSHException) as exc:
            raise Transient(f"{self.host.name}: the SSH session broke: {exc}") from None
        reply = self._next_reply()
        log.debug("%s: < %s (%d lines)", self.host.name, reply.terminator, len(reply.lines))
        return reply

    def _next_reply(self) -> xapi.TerminalReply:
        assert self._channel is not None
        deadline = time.monotonic() + self.timeout
        while not self._replies:
            if time.monotonic() > deadline:
                raise Transient(f"{self.host.name}: no complete answer within {self.timeout:g} s")
            try:
                chunk = self._channel.recv(65536)
            except TimeoutError:
                raise Transient(f"{self.host.name}: no answer within {self.timeout:g} s") from None
            except (OSError, paramiko.SSHException) as exc:
                raise Transient(f"{self.host.name}: the SSH session broke: {exc}") from None
            if not chunk:
                raise Transient(f"{self.host.name}: the device closed the SSH session")
            self._replies.extend(self._reader.feed(self._decoder.decode(chunk)))
        return self._replies.pop(0)
