"""The xAPI over HTTP or HTTPS (`/getxml`, `/putxml`): the Cisco driver's web channel.

Login: CE opens an XMLAPI session (`POST /xmlapi/session/begin`, Basic auth once, a
`SessionId` cookie after). Those sessions never expire on the device and its pool is
small, so `close()` ends the session on every path out, and `open()` ends it itself
when anything after the login fails. TC 7 has no sessions (the begin answers with a
redirect or 404): Basic auth goes with every request.

The device answers refusals with HTTP 200 and an error document, so every answer body is
parsed; the HTTP status alone is never trusted.
"""
from __future__ import annotations

import atexit
import logging
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any, ClassVar, Literal

from lxml import etree

from endpoints import support
from endpoints.drivers import cisco_xapi as xapi
from endpoints.drivers.base import Write
from endpoints.errors import (
    AuthenticationFailed,
    DeviceBusy,
    DeviceError,
    ProtocolError,
    SettingRefused,
    Transient,
    Unsupported,
)
from endpoints.host import Credentials, Host
from endpoints.secrets import MASK, Secret, redact
from endpoints.transports.http import HttpTransport, Response

log = logging.getLogger(__name__)

_OPEN: weakref.WeakSet[HttpXapi] = weakref.WeakSet()


@atexit.register
def _end_leftover_sessions() -> None:
    """Last resort for a channel nobody closed: a leaked session stays open until reboot."""
    for channel in list(_OPEN):
        channel.close()


class HttpXapi:
    busy_retries: ClassVar[int] = 3  # HTTP 503 (rate limit, busy codec): retries before DeviceBusy
    busy_backoff: ClassVar[float] = 0.25  # seconds, doubled per retry

    def __init__(self, host: Host, transport: str, *, timeout: float, trust_changed_key: bool = False) -> None:
        if transport not in ("http", "https"):
            raise Unsupported(f"{host.name}: the xAPI web channel does not speak {transport!r}")
        self.host, self.timeout, self.trust_changed_key = host, timeout, trust_changed_key
        self.scheme: Literal["http", "https"] = "https" if transport == "https" else "http"
        self.port = host.port(self.scheme, support.default_port(self.scheme))
        self.credentials = host.device_credentials
        self.key_changed = False
        self.presented_key: str | None = None
        self._http: HttpTransport | None = None
        self._cookie: tuple[str, str] | None = None  # (name, value) of the XMLAPI session

    # --- session ---------------------------------------------------------------------------

    def open(self, credentials: Credentials) -> None:
        self.open_for_status(credentials)
        try:
            self._login()
        except BaseException:
            self.close()  # a session begun before the failure must not leak
            raise
        assert self._http is not None
        if self._http.key_changed:
            self.key_changed = True
            self.presented_key = f"sha256:{self._http.presented_fingerprint}"

    def open_for_status(self, credentials: Credentials) -> None:
        """A registration poll is one getxml: Basic auth on it, no session (1 request, not 3),
        which also keeps polls out of the device's small session pool."""
        self.credentials = credentials
        self._http = HttpTransport(self.host, self.scheme, self.port, timeout=self.timeout,
                                   trust_changed_key=self.trust_changed_key)
        _OPEN.add(self)

    def close(self) -> None:
        """End the XMLAPI session and drop the connection; never raises."""
        http, self._http = self._http, None
        _OPEN.discard(self)
        if http is None:
            return
        cookie, self._cookie = self._cookie, None
        if cookie is not None:
            try:
                response = http.request("POST", "/xmlapi/session/end", headers=_cookie_header(cookie))
                log.debug("%s: XMLAPI session ended (%s)", self.host.name, response.status_code)
            except (DeviceError, OSError) as exc:  # the session may leak: say so, never raise from close
                log.warning("%s: could not end the XMLAPI session: %s", self.host.name, exc)
        http.close()

    def _login(self) -> None:
        response = self._send("POST", "/xmlapi/session/begin", auth=self._auth())
        if response.status_code in (200, 204):
            cookie = _session_cookie(response)
            if cookie is not None:
                self._cookie = cookie
                log.debug("%s: XMLAPI session opened", self.host.name)
                return
        self._check_https_redirect(response)
        if response.status_code in (200, 204, 301, 302, 303, 307, 308, 404):
            # TC 7: no sessions, so Basic auth goes with every request (no cookie kept)
            log.debug("%s: no XMLAPI sessions (%s): Basic auth per request", self.host.name,
                      response.status_code)
            self._get("Status", "SystemUnit")  # proves the credentials now, not at first use
            return
        self._raise_for(response, "session login")

    def _auth(self) -> tuple[str, str]:
        password = self.credentials.password.reveal() if self.credentials.password else ""
        return self.credentials.username, password

    # --- the xAPI ----------------------------------------------------------------------------

    def values(self, kind: str, paths: Sequence[str]) -> dict[str, str | None]:
        """One getxml: the subtree when every path shares its top node, else the whole tree."""
        if not paths:
            return {}
        tops = {xapi.split_path(p)[0][0].lower() for p in paths}
        document = self._get(kind, xapi.split_path(paths[0])[0][0] if len(tops) == 1 else None)
        found = {path: xapi.find_value(document, path) for path in paths}
        for path, value in found.items():
            log.debug("%s: %s %s = %r", self.host.name, kind, path, value)
        return found

    def tree(self, kind: str) -> Callable[[str], str | None]:
        document = self._get(kind, None)
        return lambda path: xapi.find_value(document, path)

    def configure(self, writes: Sequence[Write]) -> None:
        for write in writes:
            log.debug("%s: set %s = %s", self.host.name, write.path,
                      MASK if isinstance(write.value, Secret) else write.value)
        try:
            body = xapi.configuration_document([(w.path, w.clear_value()) for w in writes])
        except ValueError as exc:
            raise SettingRefused(writes[0].path, str(exc)) from None
        response = self._request("POST", "/putxml", content=body, headers={"Content-Type": "text/xml"})
        self._check_put(response, [w.path for w in writes], [w.value for w in writes if isinstance(w.value, Secret)])

    def command(self, path: str, params: Mapping[str, str], secrets: Sequence[Secret]) -> None:
        log.debug("%s: xCommand %s (values hidden)", self.host.name, path)
        response = self._request("POST", "/putxml", content=xapi.command_document(path, params),
                                 headers={"Content-Type": "text/xml"})
        self._check_put(response, [path], list(secrets))

    # --- requests --------------------------------------------------------------------------

    def _get(self, kind: str, top: str | None) -> etree._Element:
        location = f"/{kind}/{top}" if top else f"/{kind}"
        response = self._request("GET", "/getxml", params={"location": location})
        return xapi.parse_xml(response.content)

    def _request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                 **kwargs: object) -> Response:
        """One authenticated request: session cookie or Basic auth, one re-login when the
        device forgot the session (it rebooted), redirects and refusals turned into errors."""
        response = self._authenticated(method, path, headers or {}, kwargs)
        if response.status_code == 401 and self._cookie is not None:
            log.debug("%s: session no longer valid, logging in again", self.host.name)
            self._cookie = None
            self._login()
            response = self._authenticated(method, path, headers or {}, kwargs)
        if response.status_code != 200:
            self._check_https_redirect(response)
            self._raise_for(response, f"{method} {path}")
        return response

    def _authenticated(self, method: str, path: str, headers: dict[str, str],
                       kwargs: dict[str, object]) -> Response:
        if self._cookie is not None:
            return self._send(method, path, headers={**headers, **_cookie_header(self._cookie)}, **kwargs)
        return self._send(method, path, headers=headers, auth=self._auth(), **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send, backing off on 503 (rate limit or a busy codec) a bounded number of times."""
        if self._http is None:
            raise Transient(f"{self.host.name}: the xAPI channel is not open")
        delay = self.busy_backoff
        for attempt in range(self.busy_retries + 1):
            response = self._http.request(method, path, **kwargs)
            if response.status_code != 503:
                return response
            if attempt < self.busy_retries:
                log.debug("%s: 503 from the device, retrying in %.2f s", self.host.name, delay)
                time.sleep(delay)
                delay *= 2
        raise DeviceBusy(f"{self.host.name}: the device kept answering 503 (busy, rate limited, or no free "
                         f"XMLAPI session: sessions never time out, a reboot frees leaked ones)")

    def _check_https_redirect(self, response: Response) -> None:
        location = response.headers.get("Location") or ""
        if response.is_redirect and self.scheme == "http" and location.lower().startswith("https:"):
            raise Unsupported(f"{self.host.name}: the device serves its API over HTTPS only (NetworkServices "
                              "HTTP Mode: HTTPS): set `transport: https` for this host")

    def _raise_for(self, response: Response, what: str) -> None:
        if response.status_code == 401:
            raise AuthenticationFailed(f"{self.host.name}: the device refused the login of user "
                                       f"'{self.credentials.username}' ({what})")
        if response.status_code in (500, 502, 504):
            raise DeviceBusy(f"{self.host.name}: {what}: HTTP {response.status_code} from the device")
        raise ProtocolError(f"{self.host.name}: {what}: unexpected HTTP {response.status_code}")

    def _check_put(self, response: Response, paths: list[str], secrets: list[Secret]) -> None:
        errors = xapi.put_errors(response.content)
        if not errors:
            return
        for path in paths:  # the first refused path in write order
            for error in errors:
                if xapi.match_refused(error, [path]):
                    raise SettingRefused(path, redact(error.reason, secrets))
        path = paths[0] if len(paths) == 1 else (errors[0].path or ", ".join(paths))
        raise SettingRefused(path, redact(errors[0].reason, secrets))


def _session_cookie(response: Response) -> tuple[str, str] | None:
    """The session cookie (`SessionId`; newer RoomOS over HTTPS calls it `SecureSessionId`)."""
    for header in response.headers.get_list("set-cookie"):
        try:
            parsed = SimpleCookie(header)
        except CookieError:
            continue
        for name, morsel in parsed.items():
            if "sessionid" in name.lower() and morsel.value:
                return name, morsel.value
    return None


def _cookie_header(cookie: tuple[str, str]) -> dict[str, str]:
    return {"Cookie": f"{cookie[0]}={cookie[1]}"}
