"""Group Series REST driver (the web UI's `/rest/...` backend, HTTPS).

Settings are config keys (`comm.nics.sipnic.sipusername` ...) read and written through
`POST /rest/config`; registration is `system.status.sipserver` in `/rest/system/status`;
identity is `/rest/system`. Every session is logged out (`DELETE /rest/session`) on the
way out, whatever the way: Group Series units lock out leaked sessions.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from endpoints import support
from endpoints.drivers import polycom_lineproto as proto
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.errors import (
    AuthenticationFailed,
    DeviceBusy,
    DeviceError,
    ProtocolError,
    SettingRefused,
    Transient,
)
from endpoints.host import Credentials, Host
from endpoints.secrets import Secret
from endpoints.transports.http import HttpTransport, Response

log = logging.getLogger(__name__)

OK = "NOERROR"
OUT_OF_BOX = "system.info.outofbox"
STATUS_PREFIX = "system.status."


class GroupRestDriver(Driver):
    family = "polycom-rest"
    transports = ("rest",)

    def __init__(self, host: Host, transport: str = "rest", *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False,
                 command_gap: float | None = None) -> None:
        super().__init__(host, transport, credentials=credentials, timeout=timeout,
                         trust_changed_key=trust_changed_key)
        self.command_gap = command_gap  # for the line API (SSH), when REST cannot end the wizard
        self._http: HttpTransport | None = None
        self._session_id: str | None = None

    # -- session --

    def open(self) -> None:
        self._http = HttpTransport(self.host, "https", self.host.port("https", support.default_port("https")),
                                   timeout=self.timeout,
                                   trust_changed_key=self.trust_changed_key)
        try:
            self._login()
        except BaseException:
            self.close()
            raise
        if self._http.key_changed:
            self.accepted(f"sha256:{self._http.presented_fingerprint}")

    def _login(self) -> None:
        password = self.credentials.password.reveal() if self.credentials.password else ""
        response = self._transport().request("POST", "/rest/session", json={
            "user": self.credentials.username, "password": password, "action": "Login"})
        if response.status_code in (400, 412) and "SessionAlreadyActive" in response.text:
            raise DeviceBusy(f"{self.host.name}: the device has no free web session (SessionAlreadyActive)")
        body = _json(response, "/rest/session") if response.status_code == 200 else None
        if response.status_code == 503:
            raise DeviceBusy(f"{self.host.name}: the device is busy (HTTP 503)")
        if not isinstance(body, dict) or body.get("success") is not True:
            raise AuthenticationFailed(
                f"{self.host.name}: the device refused the REST login of user "
                f"'{self.credentials.username}' (HTTP {response.status_code})")
        session = body.get("session") or {}
        self._session_id = session.get("sessionId") or response.cookies.get("session_id")
        if not self._session_id:
            raise ProtocolError(f"{self.host.name}: the login answer carries no session id")

    def close(self) -> None:
        http, session, self._http, self._session_id = self._http, self._session_id, None, None
        if http is None:
            return
        try:
            if session is not None:
                response = http.request("DELETE", "/rest/session", headers=_cookie(session))
                log.debug("%s: logged out (HTTP %s)", self.host.name, response.status_code)
        except DeviceError as exc:
            log.warning("%s: logout failed: %s", self.host.name, exc)
        finally:
            http.close()

    def _transport(self) -> HttpTransport:
        if self._http is None:
            raise Transient(f"{self.host.name}: the REST session is not open")
        return self._http

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"headers": _cookie(self._session_id or "")}
        if body is not None:
            kwargs["json"] = body
        response = self._transport().request(method, path, **kwargs)
        if response.status_code in (401, 403):
            raise AuthenticationFailed(f"{self.host.name}: the device ended the REST session ({path})")
        if response.status_code == 503:
            raise DeviceBusy(f"{self.host.name}: the device is busy (HTTP 503 on {path})")
        if response.status_code >= 300:
            raise ProtocolError(f"{self.host.name}: HTTP {response.status_code} on {method} {path}")
        return _json(response, path)

    # -- getters --

    def identity(self) -> Identity:
        system = self._call("GET", "/rest/system")
        if not isinstance(system, dict) or not system.get("model"):
            raise ProtocolError(f"{self.host.name}: /rest/system carries no model")
        product = str(system["model"])
        version = str(system.get("softwareVersion", ""))
        return Identity("polycom", product, proto.canonical_model(product), proto.software_of(version),
                        str(system.get("serialNumber", "")))

    def read(self, paths: Sequence[str]) -> dict[str, str | None]:
        keys = {path: config_key(path) for path in paths}
        answer = self._call("POST", "/rest/config", {"names": list(dict.fromkeys(keys.values()))})
        found = {str(v.get("name", "")).lower(): v for v in _vars(answer, self.host.name)}
        values: dict[str, str | None] = {}
        for path, key in keys.items():
            item = found.get(key)
            values[path] = str(item.get("value", "")) if item and item.get("result") == OK else None
        return values

    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        items = self._call("GET", "/rest/system/status")
        if not isinstance(items, list):
            raise ProtocolError(f"{self.host.name}: /rest/system/status is not a list")
        states = {}
        for item in items:
            if isinstance(item, dict) and item.get("name"):
                state = item.get("state")
                word = state[0] if isinstance(state, list) and state else state
                states[str(item["name"]).lower()] = None if word is None else str(word)
        return {path: states.get(status_key(path)) for path in paths}

    # -- setters --

    def write(self, writes: Sequence[Write]) -> None:
        for write in writes:
            self._write_one(write)

    def _write_one(self, write: Write) -> None:
        key = config_key(write.path)
        answer = self._call("POST", "/rest/config", {"vars": [{"name": key, "value": write.clear_value()}]})
        results = [v for v in _vars(answer, self.host.name) if str(v.get("name", "")).lower() == key]
        if not results:
            raise ProtocolError(f"{self.host.name}: no result for '{write.path}' in the config answer")
        result = str(results[0].get("result", ""))
        if result != OK:
            raise SettingRefused(write.path, result or "no result")

    def set_admin_password(self, new: Secret) -> None:
        answer = self._call("POST", "/rest/security/profile/low/verify", {
            "ids": None, "passwords": [{"password": new.reveal(), "passwordType": "Admin"}], "save": True})
        results = answer.get("passwordResults") if isinstance(answer, dict) else None
        error = str(results[0].get("error", "")) if results else "no result"
        if error != OK:
            raise SettingRefused("admin password", error)
        self.credentials = Credentials(self.credentials.username, new)

    # The first-boot wizard: `system.info.outofbox` in the config schema (polycomConfig.xsd)
    # is read and cleared over REST where the firmware lets it (UNSURE: whether REST serves
    # it in the wizard); else over the line API on SSH, as `oobcomplete`.
    def first_boot(self) -> bool:
        state = self._optional_read(OUT_OF_BOX)
        if state is not None:
            return state.strip().casefold() == "true"
        session = self._line_session()
        try:
            session.run(proto.get_setting("sipenable"))
        except proto.CommandRefused as refused:
            return refused.in_wizard
        finally:
            session.close()
        return False

    def finish_first_boot(self) -> None:
        try:
            self._write_one(Write(OUT_OF_BOX, "False"))
            log.info("%s: left the first-boot wizard over REST", self.host.name)
            return
        except (SettingRefused, ProtocolError) as refused:
            log.info("%s: REST does not end the wizard (%s): oobcomplete over SSH", self.host.name, refused)
        session = self._line_session()
        try:
            session.run(proto.OOB_COMPLETE)
        except proto.CommandRefused as refused:
            raise ProtocolError(f"{self.host.name}: {refused}") from None
        finally:
            session.say_goodbye()
            session.close()

    def _optional_read(self, path: str) -> str | None:
        try:
            return self.read([path]).get(path)
        except (ProtocolError, AuthenticationFailed):
            return None

    def _line_session(self) -> proto.LineSession:
        """The line API over SSH, for what REST cannot do; the SSH key is checked like any other
        (during recovery a changed one is accepted and reported, as for the certificate)."""
        session, ssh = proto.open_line_session(self.host, "ssh", self.credentials, timeout=self.timeout,
                                               gap=self.command_gap or 0.2, trust_changed_key=self.trust_changed_key)
        if ssh is not None and ssh.key_changed:
            self.accepted(ssh.presented_key_line)
        return session


def config_key(path: str) -> str:
    """The REST config key for a path: a config key as given, or a systemsetting name's key."""
    lowered = path.strip().lower()
    return proto.SETTINGS.get(lowered, lowered)


def status_key(path: str) -> str:
    lowered = path.strip().lower()
    return lowered if lowered.startswith(STATUS_PREFIX) else STATUS_PREFIX + lowered


def _cookie(session: str) -> dict[str, str]:
    return {"Cookie": f"session_id={session}"} if session else {}


def _json(response: Response, path: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ProtocolError(f"the device answered {path} with something not JSON") from None


def _vars(answer: Any, name: str) -> list[dict[str, Any]]:
    items = answer.get("vars") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise ProtocolError(f"{name}: the config answer carries no vars")
    return [item for item in items if isinstance(item, dict)]
