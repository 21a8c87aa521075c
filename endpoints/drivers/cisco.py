"""Cisco xAPI (TC 7, CE 8/9, RoomOS): one driver over two thin channels.

What a getter or setter means is written once, here; how the xAPI travels is the
channel's business: `/getxml` and `/putxml` over HTTP(S) (`cisco_http.HttpXapi`) or the
tshell over SSH (`cisco_ssh.ShellXapi`). Paths are the CLI's, split on spaces
(`SIP Proxy 1 Address`); `cisco_xapi` holds the pure rules of both wire forms.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol

from endpoints.drivers import cisco_xapi as xapi
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.host import Credentials, Host
from endpoints.secrets import Secret

log = logging.getLogger(__name__)


class XapiChannel(Protocol):
    """How one transport carries the xAPI (see `HttpXapi`, `ShellXapi`)."""

    key_changed: bool
    presented_key: str | None

    def open(self, credentials: Credentials) -> None: ...

    def open_for_status(self, credentials: Credentials) -> None: ...

    def close(self) -> None: ...

    def values(self, kind: str, paths: Sequence[str]) -> dict[str, str | None]:
        """`kind` is "Configuration" or "Status"; None for a path the device does not have."""

    def tree(self, kind: str) -> Callable[[str], str | None]:
        """One read of the whole Status or Configuration tree: a lookup of any path in it."""

    def configure(self, writes: Sequence[Write]) -> None:
        """Set every value, in order; SettingRefused(path, reason) names the first refused."""

    def command(self, path: str, params: Mapping[str, str], secrets: Sequence[Secret]) -> None:
        """Run `xCommand <path> Key: value ...`; SettingRefused on a refusal (values never logged)."""


class CiscoDriver(Driver):
    family: ClassVar[str] = "cisco-xapi"
    transports: ClassVar[tuple[str, ...]] = ("http", "https", "ssh")

    def __init__(self, host: Host, transport: str, *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False) -> None:
        super().__init__(host, transport, credentials=credentials, timeout=timeout,
                         trust_changed_key=trust_changed_key)
        self.channel = self._channel()
        self._identity: Identity | None = None
        # The status tree identity() read, for the one status() read that follows it (a
        # room reads registration right after identity): one request instead of two.
        self._status_tree: Callable[[str], str | None] | None = None

    def _channel(self) -> XapiChannel:
        if self.transport == "ssh":
            from endpoints.drivers.cisco_ssh import ShellXapi

            return ShellXapi(self.host, timeout=self.timeout, trust_changed_key=self.trust_changed_key)
        from endpoints.drivers.cisco_http import HttpXapi

        return HttpXapi(self.host, self.transport, timeout=self.timeout, trust_changed_key=self.trust_changed_key)

    # --- session ---------------------------------------------------------------------------

    def open(self) -> None:
        self.channel.open(self.credentials)
        self._note_key()

    def open_for_status(self) -> None:
        self.channel.open_for_status(self.credentials)
        self._note_key()

    def close(self) -> None:
        self._status_tree = None
        self.channel.close()

    def _note_key(self) -> None:
        if self.channel.key_changed:
            self.accepted(self.channel.presented_key)

    # --- getters ---------------------------------------------------------------------------

    def identity(self) -> Identity:
        if self._identity is None:
            tree = self.channel.tree("Status")
            self._identity = xapi.identity_from({path: tree(path) for path in xapi.IDENTITY_PATHS.values()})
            self._status_tree = tree
            log.debug("%s: identity %s", self.host.name, self._identity)
        return self._identity

    def read(self, paths: Sequence[str]) -> dict[str, str | None]:
        return self.channel.values("Configuration", paths)

    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        """Fresh status values, but from identity()'s read when it came just before (once)."""
        tree, self._status_tree = self._status_tree, None
        if tree is not None:
            return {path: tree(path) for path in paths}
        return self.channel.values("Status", paths)

    # --- setters ---------------------------------------------------------------------------

    def write(self, writes: Sequence[Write]) -> None:
        self._status_tree = None
        if writes:
            self.channel.configure(writes)

    def set_admin_password(self, new: Secret) -> None:
        self._status_tree = None
        current = self.credentials.password or Secret("")
        if xapi.is_tc(self.identity().software):
            self.channel.command("SystemUnit AdminPassword Set", {"Password": new.reveal()}, [new])
        else:
            self.channel.command("UserManagement User Passphrase Set", {
                "NewPassphrase": new.reveal(), "Username": self.credentials.username,
                "YourPassphrase": current.reveal()}, [new, current])
        self.credentials = Credentials(self.credentials.username, new)
