"""The running lab's control port: `lab status`, `lab reset ROOM`, `lab down` talk to it.

Loopback only, and every request carries the token from the lab's private manifest.
"""
from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from endpoints.errors import InputError
from endpoints.lab.fleet import Lab
from endpoints.lab.net import free_port, serve_http

TOKEN_HEADER = "X-Lab-Token"


def control_app(lab: Lab, token: str, stop: asyncio.Event) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if not _same_token(request.headers.get(TOKEN_HEADER, ""), token):
            return web.json_response({"error": "bad token"}, status=403)
        return await handler(request)

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"rooms": lab.status()})

    async def reset(request: web.Request) -> web.Response:
        name = request.match_info["room"]
        if name not in lab.rooms:
            return web.json_response({"error": f"no room {name!r}"}, status=404)
        await lab.reset(name)
        return web.json_response({"reset": name})

    async def down(request: web.Request) -> web.Response:
        stop.set()
        return web.json_response({"stopping": True})

    app = web.Application(middlewares=[guard])
    app.add_routes([web.get("/status", status), web.post("/rooms/{room}/reset", reset), web.post("/down", down)])
    return app


def _same_token(offered: str, token: str) -> bool:
    """Constant-time comparison of any header text: `compare_digest` refuses non-ASCII
    `str`, which made a non-ASCII token a 500 instead of a 403."""
    return secrets.compare_digest(offered.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


async def serve_control(lab: Lab, stop: asyncio.Event) -> dict[str, Any]:
    token = secrets.token_urlsafe(24)
    port = free_port()
    await serve_http(control_app(lab, token, stop), port)
    return {"port": port, "token": token}


def manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "manifest.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError("no lab is running here (start one with `endpoints lab up`)", file=str(path)) from None


def request(folder: Path, method: str, path: str, timeout: float = 30.0) -> dict[str, Any]:
    control = manifest(folder).get("control") or {}
    if not control:
        raise InputError("the lab in this folder has no control port", file=str(Path(folder) / "manifest.json"))
    try:
        response = httpx.request(method, f"http://127.0.0.1:{control['port']}{path}",
                                 headers={TOKEN_HEADER: control["token"]}, timeout=timeout)
    except httpx.ConnectError:
        raise InputError("the lab is not running (its control port refuses)", file=str(folder)) from None
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        raise InputError(body.get("error", f"lab answered {response.status_code}"), file=str(folder))
    return body
