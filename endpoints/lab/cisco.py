"""A simulated Cisco codec: its state (`cisco_device`) served over HTTP, HTTPS and SSH.

The servers (`cisco_http`, `cisco_shell`) import the state; this module wires them to it
on the ports the fleet gives, so that neither the state nor a server knows the other's
transport. The personalities (TC 7, CE 8/9, RoomOS 11) live in the state.
"""
from __future__ import annotations

from typing import Any

import asyncssh
from aiohttp import web

from endpoints.lab.cisco_device import CiscoState, CommandResult, ConfigError
from endpoints.lab.cisco_http import make_app
from endpoints.lab.cisco_shell import Shell
from endpoints.lab.net import serve_http, serve_ssh

__all__ = ["CiscoDevice", "CommandResult", "ConfigError"]


class CiscoDevice(CiscoState):
    """One codec and its servers."""

    # What `ssh_auth_methods` may hold; a codec offers both (cisco.md §2.1, §9).
    ssh_auth_methods: tuple[str, ...] = ("password", "keyboard-interactive")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._servers: list[Any] = []

    async def serve(self, ports: dict[str, int]) -> None:
        for protocol, port in ports.items():
            if protocol in ("http", "https"):
                tls = self.certificate if protocol == "https" else None
                app = make_app(self, secure=tls is not None)
                self._servers.append(await serve_http(app, port, tls=tls, counters=self.counters))
            elif protocol == "ssh":
                shell = Shell(self)
                self._servers.append(await serve_ssh(port, self.host_key, self.check_password, shell.run,
                                                     auth_methods=self.ssh_auth_methods, seen=self.logged_in))
            else:
                raise ValueError(f"a Cisco codec does not serve {protocol}")

    async def unserve(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            if isinstance(server, web.AppRunner):
                await server.cleanup()
            elif isinstance(server, asyncssh.SSHAcceptor):
                server.close()
                await server.wait_closed()
