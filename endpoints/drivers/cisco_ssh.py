"""The xAPI over SSH (tshell, terminal output mode): the Cisco driver's shell channel.

`xConfiguration <path>` / `xStatus <path>` read (`*c` / `*s` lines, `** end`, then
`OK`, `ERROR` or `Command not recognized.`); `xConfiguration <path>: "<value>"` writes,
one command per setting. Output is cut at terminator lines only, so a value that is
itself `OK` (`SignalState: OK`) never ends an answer. No PTY is asked for (as Cisco's
own jsxapi does); the reader copes with CR LF as well.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from endpoints import support
from endpoints.channel import Channel
from endpoints.drivers import cisco_xapi as xapi
from endpoints.drivers.base import Write
from endpoints.errors import SettingRefused, Transient
from endpoints.host import Credentials, Host
from endpoints.secrets import MASK, Secret, redact
from endpoints.transports.base import Deadline
from endpoints.transports.ssh import SshTransport

log = logging.getLogger(__name__)


class ShellXapi:
    pty: ClassVar[bool] = False

    def __init__(self, host: Host, *, timeout: float, trust_changed_key: bool = False) -> None:
        self.host, self.timeout, self.trust_changed_key = host, timeout, trust_changed_key
        self.port = host.port("ssh", support.default_port("ssh"))
        self.key_changed = False
        self.presented_key: str | None = None
        self._channel: Channel | None = None
        self._reader = xapi.TerminalReader()
        self._replies: list[xapi.TerminalReply] = []

    # --- session ---------------------------------------------------------------------------

    def open(self, credentials: Credentials) -> None:
        ssh = SshTransport(self.host, self.port, credentials, timeout=self.timeout,
                           trust_changed_key=self.trust_changed_key)
        ssh.open()
        if ssh.key_changed:
            self.key_changed, self.presented_key = True, ssh.presented_key_line
        try:
            self._channel = Channel(ssh.stream(pty=self.pty), timeout=self.timeout)
            self._next_reply(self._channel.deadline())  # the login banner ends with OK
            self._command("echo off")
        except BaseException:
            self.close()
            ssh.close()
            raise

    def open_for_status(self, credentials: Credentials) -> None:
        self.open(credentials)

    def close(self) -> None:
        """Say goodbye and drop the connection; never raises."""
        channel, self._channel = self._channel, None
        if channel is None:
            return
        try:
            channel.send_line("bye")
        except Transient:  # already gone
            log.debug("%s: shell already closed", self.host.name)
        channel.close()

    # --- the xAPI ----------------------------------------------------------------------------

    def values(self, kind: str, paths: Sequence[str]) -> dict[str, str | None]:
        """One command: the top-level node when every path shares it (`xStatus SIP` answers
        every SIP leaf), else the whole tree (as `HttpXapi.values`)."""
        if not paths:
            return {}
        tops = {xapi.split_path(p)[0][0].lower() for p in paths}
        answer = self._answer(kind, xapi.split_path(paths[0])[0][0] if len(tops) == 1 else None)
        found = {path: answer.get(xapi.case_key(path)) for path in paths}
        for path, value in found.items():
            log.debug("%s: x%s %s = %r", self.host.name, kind, path, value)
        return found

    def tree(self, kind: str) -> Callable[[str], str | None]:
        answer = self._answer(kind, None)
        return lambda path: answer.get(xapi.case_key(path))

    def _answer(self, kind: str, top: str | None) -> dict[str, str]:
        """`xStatus <top>` (or the whole `xStatus`) as {case key: value}; {} when refused."""
        command = f"x{kind} {top}" if top else f"x{kind}"
        reply = self._command(command)
        error = reply.error()
        if error is not None:
            log.debug("%s: %s: %s", self.host.name, command, error)
            return {}
        return {xapi.case_key(k): v for k, v in reply.values().items()}

    def configure(self, writes: Sequence[Write]) -> None:
        for write in writes:
            try:
                value = xapi.quote(write.clear_value())
            except ValueError as exc:
                raise SettingRefused(write.path, str(exc)) from None
            shown = MASK if isinstance(write.value, Secret) else value
            reply = self._command(f"xConfiguration {write.path}: {value}", shown=f"xConfiguration {write.path}: {shown}")
            error = reply.error()
            if error is not None:
                secrets = [write.value] if isinstance(write.value, Secret) else []
                raise SettingRefused(write.path, redact(error, secrets))

    def command(self, path: str, params: Mapping[str, str], secrets: Sequence[Secret]) -> None:
        text = " ".join(f"{key}: {xapi.quote(value)}" for key, value in params.items())
        reply = self._command(f"xCommand {path} {text}", shown=f"xCommand {path} (values hidden)")
        error = reply.error()
        if error is not None:
            raise SettingRefused(path, redact(error, list(secrets)))

    # --- terminal --------------------------------------------------------------------------

    def _command(self, command: str, *, shown: str | None = None) -> xapi.TerminalReply:
        if self._channel is None:
            raise Transient(f"{self.host.name}: the xAPI shell is not open")
        self._replies.clear()  # anything not yet read belongs to an earlier answer
        self._reader.start_answer()
        self._channel.send_line(command, shown=shown)
        reply = self._next_reply(self._channel.deadline())
        log.debug("%s: < %s (%d lines)", self.host.name, reply.terminator, len(reply.lines))
        return reply

    def _next_reply(self, deadline: Deadline) -> xapi.TerminalReply:
        assert self._channel is not None
        while not self._replies:
            chunk = self._channel.read(deadline)
            if not chunk:
                raise Transient(f"{self.host.name}: the device closed the SSH session")
            self._replies.extend(self._reader.feed(chunk))
        return self._replies.pop(0)
