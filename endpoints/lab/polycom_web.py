"""The simulated web APIs: Group Series REST (`/rest/...`) and HDX CGI (`a_apicommand.cgi`).

Shapes follow responses recorded from a Group 500 on 6.2.2.8 and an HDX 9006 on 3.1.14
(protocols/polycom.md §2.3, §4). Where the notes are UNSURE, the choice is commented.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from endpoints.lab import polycom_table as firmware
from endpoints.lab.polycom_api import AFTER_REBOOT, LineApi
from endpoints.lab.polycom_device import OUT_OF_BOX, SECRET_KEYS, PolycomState, setting_name, stored_key
from endpoints.lab.polycom_line import carry_out

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE = "session_id"
# The per-variable result of a config request the wizard refuses. No REST refusal was ever
# recorded (only NOERROR): the line API's `_permissiondenied` in the REST results' style
# (UNSURE).
WIZARD_RESULT = "PERMISSION_DENIED"
REALM = "this web site"  # the realm a Perl HDX client hard-codes (protocols/polycom.md §2.3)


def _faults(device: PolycomState) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = device.faults
        if faults.drop > 0:
            faults.drop -= 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing is answered on a dropped connection
        if faults.http_503 > 0:
            faults.http_503 -= 1
            return web.Response(status=503, text="Service Unavailable")
        if faults.slow:
            await asyncio.sleep(faults.slow)
        return await handler(request)

    return middleware


# --- Group Series REST -------------------------------------------------------------------------

def group_rest_app(device: PolycomState) -> web.Application:
    rest = GroupRest(device)
    app = web.Application(middlewares=[_faults(device)])
    app.router.add_post("/rest/session", rest.session)
    app.router.add_delete("/rest/session", rest.logout)
    app.router.add_get("/rest/system", rest.system)
    app.router.add_get("/rest/system/status", rest.status)
    app.router.add_post("/rest/config", rest.config)
    app.router.add_post("/rest/security/profile/{profile}/verify", rest.password)
    app.router.add_post("/rest/system/reboot", rest.reboot)
    return app


class GroupRest:
    def __init__(self, device: PolycomState) -> None:
        self.device = device

    def _session(self, request: web.Request) -> str | None:
        return self.device.rest_session(request.cookies.get(COOKIE))

    def _unauthorized(self) -> web.Response:
        return web.json_response({"success": False, "reason": "NOT_AUTHENTICATED"}, status=401)

    async def _body(self, request: web.Request) -> Any:
        try:
            return await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    async def session(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        if not isinstance(body, dict):
            return web.json_response({"success": False, "reason": "BAD_REQUEST"}, status=400)
        if body.get("action") == "VerifyIdentity":
            if self._session(request) is None:
                return self._unauthorized()
            return web.json_response({"verified": body.get("password") == self.device.admin_password})
        return self._login(str(body.get("user", "")), str(body.get("password", "")))

    def _login(self, user: str, password: str) -> web.StreamResponse:
        device = self.device
        if not device.check_login(user, password):
            # UNSURE: the failure body and status; clients treat any non-200 as a failed login.
            return web.json_response({"success": False, "loginStatus": {
                "failedLogins": device.counters.logins_failed, "loginResult": "INVALID_CREDENTIALS"}},
                status=401)
        session_id = device.open_rest_session(user)
        if session_id is None:
            # Every session of the pool is in use. The notes record clients reading HTTP
            # 400/412 with `SessionAlreadyActive` as "no new session" (polycom.md §4); the
            # device's exact body is UNSURE: 412 and that word.
            return web.json_response({"success": False, "reason": "SessionAlreadyActive",
                                      "loginStatus": {"loginResult": "SessionAlreadyActive"}}, status=412)
        # The VideoOS shape recorded by Mividas; GS assumed identical (UNSURE).
        response = web.json_response({
            "loginStatus": {"failedLogins": 0, "isPasswordAgeLimitReached": False,
                            "lastLoginClient": "127.0.0.1", "lastLoginClientType": "WEB",
                            "lastLoginTime": int(time.time() * 1000), "loginResult": "NOLOCKOUT"},
            "session": {"clientType": "WEB", "isAuthenticated": True, "role": "ADMIN",
                        "sessionId": session_id, "userId": user},
            "success": True})
        response.set_cookie(COOKIE, session_id, httponly=True)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if session is None:
            return self._unauthorized()
        self.device.close_rest_session(session)
        return web.Response(status=204)  # UNSURE: the status of a logout

    async def system(self, request: web.Request) -> web.StreamResponse:
        if self._session(request) is None:
            return self._unauthorized()
        device = self.device
        build = device.software.rsplit("-", 1)[-1]
        return web.json_response({
            "build": build, "buildType": "Release", "hardwareVersion": "18",
            "lanStatus": {"duplex": "FULL", "state": "LAN_UP", "speedMbps": 1000},
            "model": device.product, "rcBatteryCondition": "BATTERY_GOOD",
            "timeServerState": "TIMESERVER_UP", "serialNumber": device.serial,
            "softwareVersion": device.software, "state": "READY", "systemName": device.system_name,
            # the unit's own clock (offset included) and its zone offset, in ms as recorded
            "systemTime": int(device.now().timestamp() * 1000), "uptime": 3600.0, "rebootNeeded": False,
            "timeOffset": 0})

    async def status(self, request: web.Request) -> web.StreamResponse:
        if self._session(request) is None:
            return self._unauthorized()
        items = json.loads((firmware.DATA / "group-rest-system-status.json").read_text(encoding="utf-8"))
        for item in items:
            if item["name"] == "system.status.sipserver":
                item["state"] = [self.device.registration_word("web")]
        return web.json_response(items)

    async def config(self, request: web.Request) -> web.StreamResponse:
        if self._session(request) is None:
            return self._unauthorized()
        body = await self._body(request)
        if isinstance(body, dict) and isinstance(body.get("vars"), list):
            return web.json_response({"vars": [self._write(v) for v in body["vars"]], "rebootNeeded": False})
        if isinstance(body, dict) and isinstance(body.get("names"), list):
            return web.json_response({"vars": [self._read(str(n)) for n in body["names"]]})
        return web.json_response({"success": False, "reason": "BAD_REQUEST"}, status=400)

    def _read(self, name: str) -> dict[str, str]:
        key = name.lower()
        if stored_key(key, self.device.config) not in self.device.config:
            return {"name": name, "result": "NOTFOUND"}  # UNSURE: the result word
        if self.device.oob and self.device.wizard_blocks_reads and key != OUT_OF_BOX:
            return {"name": name, "result": WIZARD_RESULT}
        # UNSURE whether secure values read back; here they read empty.
        value = "" if stored_key(key, self.device.config) in SECRET_KEYS else self.device.value(key)
        return {"name": name, "value": value, "result": "NOERROR"}

    def _write(self, item: Any) -> dict[str, str]:
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            return {"name": str(item), "result": "INVALIDREQUEST"}
        name, value = str(item["name"]), str(item["value"])
        key = name.lower()
        if key not in self.device.config:
            return {"name": name, "requestedValue": value, "result": "NOTFOUND"}
        if key == OUT_OF_BOX:
            return self._leave_wizard(name, value)
        if self.device.oob:
            return {"name": name, "requestedValue": value, "result": WIZARD_RESULT}
        error = self.device.set_value(key, value, count_as=setting_name(key))
        # UNSURE: the result word for a refused value.
        return {"name": name, "requestedValue": value, "result": "INVALIDVALUE" if error else "NOERROR"}

    def _leave_wizard(self, name: str, value: str) -> dict[str, str]:
        """`system.info.outofbox` = `False` ends the first-boot wizard (the XSD's key, the
        REST way the notes point to, polycom.md §5; UNSURE that the firmware accepts it
        over REST, and whether `True` puts a unit back into the wizard: it does here)."""
        if value.casefold() not in ("true", "false"):
            return {"name": name, "requestedValue": value, "result": "INVALIDVALUE"}
        self.device.oob = value.casefold() == "true"
        self.device.counters.written(OUT_OF_BOX)
        return {"name": name, "requestedValue": value, "result": "NOERROR"}

    async def reboot(self, request: web.Request) -> web.StreamResponse:
        """`POST /rest/system/reboot {"action": "reboot"}` (Mividas, polycom.md §4); the answer
        body is UNSURE. The unit goes away for its `boot_seconds`, every session lost."""
        if self._session(request) is None:
            return self._unauthorized()
        body = await self._body(request)
        if not isinstance(body, dict) or body.get("action") != "reboot":
            return web.json_response({"success": False, "reason": "BAD_REQUEST"}, status=400)
        self.device.reboot_soon()
        return web.json_response({"success": True})

    async def password(self, request: web.Request) -> web.StreamResponse:
        if self._session(request) is None:
            return self._unauthorized()
        body = await self._body(request)
        results = []
        for entry in (body or {}).get("passwords") or []:
            if entry.get("passwordType") == "Admin" and entry.get("password"):
                self.device.admin_password = str(entry["password"])
                self.device.counters.written("admin password")
                error = "NOERROR"
            else:
                error = "INVALID"  # UNSURE: only NOERROR was ever recorded
            results.append({"error": error, "failedRequirement": {"args": [], "requirement": ""},
                            "passwRequirements": [], "passwordType": entry.get("passwordType", "")})
        return web.json_response({"idResults": [], "passwordResults": results})


# --- HDX web (CGI) -------------------------------------------------------------------------------

def hdx_web_app(device: PolycomState, api: LineApi) -> web.Application:
    hdx = HdxWeb(device, api)
    app = web.Application(middlewares=[_faults(device), hdx.authenticate])
    app.router.add_post("/a_apicommand.cgi", hdx.apicommand)
    app.router.add_get("/systemstatus.xml", hdx.systemstatus)
    return app


class HdxWeb:
    """HTTP Digest (MD5, qop=auth) as Mividas uses against 3.1.x; Basic vs Digest is UNSURE."""

    def __init__(self, device: PolycomState, api: LineApi) -> None:
        self.device, self.api = device, api
        self.nonces: set[str] = set()

    @web.middleware
    async def authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if header:  # any credentials but a valid digest count as a failed login
            ok = header.startswith("Digest ") and self._digest_ok(request, header[7:])
            if self.device.admit(ok):
                return await handler(request)
        nonce = secrets.token_hex(16)
        self.nonces.add(nonce)
        challenge = f'Digest realm="{REALM}", qop="auth", nonce="{nonce}", algorithm=MD5'
        return web.Response(status=401, text="401 Unauthorized", headers={"WWW-Authenticate": challenge})

    def _digest_ok(self, request: web.Request, params: str) -> bool:
        fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(params))
        device = self.device
        if fields.get("nonce") not in self.nonces or device.faults.refuse_login:
            return False
        if fields.get("username", "").casefold() != "admin" or fields.get("realm") != REALM:
            return False
        ha1 = _md5(f"{fields.get('username')}:{REALM}:{device.admin_password}")
        ha2 = _md5(f"{request.method}:{fields.get('uri', '')}")
        if fields.get("qop"):
            expected = _md5(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                            f"{fields['qop']}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{fields['nonce']}:{ha2}")
        return hmac.compare_digest(expected, fields.get("response", ""))

    async def apicommand(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        commands = [c.strip() for c in str(form.get("apicommand", "")).split(";") if c.strip()]
        parts = ["<?xml version='1.0' standalone='yes'?>\n<apicommands>\n"]
        for command in commands:
            answer = self.api.execute(command)
            reply = answer.lines
            if answer.after == AFTER_REBOOT:
                carry_out(self.device, answer)
            # UNSURE: the status word of a refused command; only "success" was recorded.
            failed = bool(reply) and _is_error(reply[0])
            result = "".join(f"{line}\n" for line in reply)
            parts.append(f'\t<apicommand>\n\t\t<command status="{"failed" if failed else "success"}">'
                         f"{escape(command)}</command>\n\t\t<result>{escape(result)}</result>\n"
                         "\t</apicommand>\n")
        parts.append("</apicommands>")
        return web.Response(text="".join(parts), content_type="text/xml")

    async def systemstatus(self, request: web.Request) -> web.StreamResponse:
        text = (firmware.DATA / "hdx-systemstatus.xml").read_text(encoding="utf-8")
        element = self._sip_register()
        return web.Response(text=_SIP_REGISTER.sub(lambda _: element, text), content_type="text/xml")

    def _sip_register(self) -> str:
        word = self.device.registration_word("web")
        # REGISTRAR_REGISTERING was recorded with state down; the other helplines are UNSURE.
        helpline = {"up": "REGISTRAR_REGISTERED", "down": "REGISTRAR_REGISTERING"}.get(word, "DISABLEDSTR")
        registrar = escape(self.device.value("comm.nics.sipnic.sipregistrarserver"))
        return (f"<SIP_REGISTER><LABEL><TRANSLATE>REGISTRAR_SERVER</TRANSLATE></LABEL><HELPLINE>"
                f"<TRANSLATE>REGISTRARIPADDRESS</TRANSLATE>{registrar}</HELPLINE><HELPLINE><TRANSLATE>"
                f"{helpline}</TRANSLATE></HELPLINE><STATE>{word}</STATE></SIP_REGISTER>")


_SIP_REGISTER = re.compile(r"<SIP_REGISTER>.*?</SIP_REGISTER>", re.DOTALL)


def _is_error(line: str) -> bool:
    lowered = line.strip().casefold()
    return lowered.startswith("error") or "not available" in lowered


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()
