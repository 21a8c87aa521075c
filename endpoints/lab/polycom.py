"""A simulated Polycom unit: its state (`polycom_device`) served as the family offers.

Group Series: REST (HTTP/HTTPS), SSH (`ssh-rsa` host key only), telnet; HDX: telnet and
HTTP (`a_apicommand.cgi`, `systemstatus.xml`). The servers (`polycom_line`,
`polycom_web`) and the interpreter (`polycom_api`) import the state; this module wires
them to it on the ports the fleet gives.
"""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from endpoints.lab.net import serve_http, serve_ssh, serve_telnet
from endpoints.lab.polycom_api import LineApi
from endpoints.lab.polycom_device import (  # noqa: F401  (the names tools always found here)
    SECRET_KEYS,
    SIP,
    SIP_KEYS,
    PolycomState,
    config_key,
    family_of,
    setting_name,
)
from endpoints.lab.polycom_line import LineSessionServer
from endpoints.lab.polycom_web import group_rest_app, hdx_web_app

OFFERED = {"group": ("http", "https", "ssh", "telnet"), "hdx": ("http", "telnet")}


class PolycomDevice(PolycomState):
    """One unit and its servers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._servers: list[Any] = []

    async def serve(self, ports: dict[str, int]) -> None:
        api = LineApi(self)
        lines = LineSessionServer(self, api)
        for protocol, port in ports.items():
            self._servers.append(await self._serve(protocol, port, api, lines))

    async def _serve(self, protocol: str, port: int, api: LineApi, lines: LineSessionServer) -> Any:
        if protocol not in OFFERED[self.family]:
            raise ValueError(f"{self.product} does not serve {protocol}")
        if protocol == "telnet":
            return await serve_telnet(port, lines.serve)
        if protocol == "ssh":
            return await serve_ssh(port, self.host_key, self.check_login, lines.serve,
                                   host_key_algs=("ssh-rsa",), seen=self.logged_in)
        app = group_rest_app(self) if self.family == "group" else hdx_web_app(self, api)
        return await serve_http(app, port, tls=self.certificate if protocol == "https" else None,
                                counters=self.counters)

    async def unserve(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            if isinstance(server, web.AppRunner):
                await server.cleanup()
            else:
                server.close()
                if isinstance(server, asyncio.AbstractServer):
                    await server.wait_closed()
