"""Polycom line API driver: Group Series over SSH or telnet, HDX over telnet.

Reads and writes `systemsetting` names (`sipproxyserver` ...), reads registration from
`status` (`sipserver online|offline`), and identity from `systemsetting get model`,
`version` and `serialnum`. The wire rules live in `polycom_lineproto`; the bytes travel
over a `Channel` on a telnet socket or an SSH shell.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from endpoints.drivers import polycom_lineproto as proto
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.errors import ProtocolError, SettingRefused, Transient
from endpoints.host import Credentials, Host
from endpoints.secrets import Secret

log = logging.getLogger(__name__)


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

    def open(self) -> None:
        self._session, ssh = proto.open_line_session(self.host, self.transport, self.credentials, timeout=self.timeout,
                                               gap=self.command_gap, trust_changed_key=self.trust_changed_key)
        if ssh is not None and ssh.key_changed:
            self.accepted(ssh.presented_key_line)
        try:
            self._serial = self._value(self._run(proto.simple("serialnum")), 1)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.say_goodbye()
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
            name = proto.setting_name(path)
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
            command = proto.set_command(write)
            try:
                lines = self._run(command)
            except proto.CommandRefused as refused:
                raise SettingRefused(write.path, refused.reason) from None
            proto.check_kept(write, self._value(lines, proto.value_position(proto.setting_name(write.path))))

    def set_admin_password(self, new: Secret) -> None:
        old = self.credentials.password.reveal() if self.credentials.password else ""
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
