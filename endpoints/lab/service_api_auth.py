"""The simulated meeting service's side of App ID authentication, written from the notes.

protocols/huaweicloud.md §1 as the service would check it (this module shares nothing
with the client in `endpoints/cloud/`):

- `Authorization: HMAC-SHA256 signature=<hex>,access=<base64(appId)>`; the HMAC-SHA256
  key is the App Key, the message `appId:userId:expireTime:nonce` for a single-enterprise
  app and `appId:corpId:userId:expireTime:nonce` for an SP app (empty parts keep colons).
- `userId`, `corpId`, `expireTime`, `nonce` in the body are the signed ones.
- A single-enterprise login that carries `corpId` fails (a JSON null is tolerated, as the
  Python SDK sends it). An SP login carries `corpId` ("" for the SP administrator).
- `expireTime` is Unix seconds; the request is refused once the clock is past it; 0 never
  expires. `nonce` is 32..64 characters.

Choices where the notes are silent or UNSURE (the client must cope with either):
- Hex case: accepted in either case (the SDK sends upper, the docs lower).
- `access=`: checked when present; a header without it is accepted (older clients).
- A nonce is accepted once: a replayed login (same nonce) is refused with 401 while its
  signed request has not expired. The notes do not say the service does this.
- Error codes other than USG.000000004 (token invalid) are this simulator's own: the
  service's catalogue is not in the notes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN_INVALID = "USG.000000004"
AUTH_FAILED = "USG.000000001"  # the simulator's own
BAD_PARAMS = "USG.000000006"  # the simulator's own

AdminType = int  # 0 default admin, 1 admin, 2 not an admin


class Refusal(Exception):
    """An error answer: HTTP status and the documented `{error_code, error_msg}` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class App:
    """One application registered in the admin console (Application management)."""

    app_id: str
    app_key: str = field(repr=False)
    corp_id: str = "lab-corp"  # the enterprise of a single-enterprise app
    sp_corps: tuple[str, ...] = ()  # non-empty: an SP app managing these enterprises
    admins: tuple[str, ...] = ()  # user IDs that are (ordinary) administrators

    @property
    def sp(self) -> bool:
        return bool(self.sp_corps)


@dataclass(frozen=True)
class Login:
    """Who a token belongs to."""

    app_id: str
    corp_id: str  # "" for the SP administrator
    user_id: str
    admin_type: AdminType
    user_type: int  # 1 SP admin, 2 enterprise user

    @property
    def manages_devices(self) -> bool:
        return self.user_type == 2 and self.admin_type in (0, 1)


@dataclass
class _Token:
    login: Login
    expires: float


def _parse_authorization(header: str) -> dict[str, str]:
    scheme, _, rest = header.strip().partition(" ")
    if scheme != "HMAC-SHA256" or not rest:
        raise Refusal(401, AUTH_FAILED, "Authorization must be 'HMAC-SHA256 signature=...,access=...'")
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq:
            raise Refusal(401, AUTH_FAILED, "malformed Authorization parameter")
        # base64 values end in '=': only the first '=' separates the name
        params[name.strip()] = value.strip()
    if "signature" not in params:
        raise Refusal(401, AUTH_FAILED, "Authorization carries no signature")
    return params


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise Refusal(400, BAD_PARAMS, f"{key} is required")
        return None
    if not isinstance(value, str):
        raise Refusal(400, BAD_PARAMS, f"{key} must be a string")
    return value


class Authority:
    """Apps, nonces and tokens of the simulated service; thread-safe."""

    def __init__(self, apps: list[App], *, token_period: int = 43200,
                 now: Callable[[], float] | None = None) -> None:
        import time

        self.apps = {app.app_id: app for app in apps}
        self.token_period = token_period
        self.now = now or time.time
        self._nonces: dict[str, float] = {}  # nonce -> until when it must not come again
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.logins = 0  # accepted
        self.refused = 0

    def login(self, authorization: str, body: Any) -> tuple[str, Login]:
        """Check one appauth request; the new token and whose it is, or Refusal."""
        try:
            result = self._login(authorization, body)
        except Refusal:
            with self._lock:
                self.refused += 1
            raise
        with self._lock:
            self.logins += 1
        return result

    def _login(self, authorization: str, body: Any) -> tuple[str, Login]:
        params = _parse_authorization(authorization)
        if not isinstance(body, dict):
            raise Refusal(400, BAD_PARAMS, "the body must be a JSON object")
        app_id = _text(body, "appId", required=True) or ""
        app = self.apps.get(app_id)
        if app is None:
            raise Refusal(401, AUTH_FAILED, "unknown appId")
        if "access" in params and params["access"] != base64.b64encode(app_id.encode()).decode():
            raise Refusal(401, AUTH_FAILED, "access does not match the appId")
        nonce = _text(body, "nonce", required=True) or ""
        if not 32 <= len(nonce) <= 64:
            raise Refusal(400, BAD_PARAMS, "nonce must be 32 to 64 characters")
        expire = body.get("expireTime")
        if not isinstance(expire, int) or isinstance(expire, bool) or expire < 0:
            raise Refusal(400, BAD_PARAMS, "expireTime must be a Unix time in seconds")
        if not isinstance(body.get("clientType"), int):
            raise Refusal(400, BAD_PARAMS, "clientType is required")
        user_id = _text(body, "userId") or ""
        corp_id = self._corp_of(app, body)
        parts = [app_id] + ([corp_id] if app.sp else []) + [user_id, str(expire), nonce]
        expected = hmac.new(app.app_key.encode(), ":".join(parts).encode(), hashlib.sha256).digest()
        if not _same_digest(expected, params["signature"]):
            raise Refusal(401, AUTH_FAILED, "signature mismatch")
        now = self.now()
        if expire and now > expire:
            raise Refusal(401, AUTH_FAILED, "the request expired (expireTime is in the past)")
        self._use_nonce(nonce, expire, now)
        return self._issue(app, corp_id, user_id, now)

    def _corp_of(self, app: App, body: dict[str, Any]) -> str:
        corp = body.get("corpId")
        if not app.sp:
            if corp is not None:
                raise Refusal(401, AUTH_FAILED, "corpId is only for SP applications")
            return app.corp_id
        if not isinstance(corp, str):
            raise Refusal(401, AUTH_FAILED, "an SP application's login carries corpId")
        if corp and corp not in app.sp_corps:
            raise Refusal(401, AUTH_FAILED, "this SP does not manage that enterprise")
        return corp

    def _use_nonce(self, nonce: str, expire: int, now: float) -> None:
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if t > now}
            if nonce in self._nonces:
                raise Refusal(401, AUTH_FAILED, "nonce already used")
            self._nonces[nonce] = float(expire) if expire else float("inf")

    def _issue(self, app: App, corp_id: str, user_id: str, now: float) -> tuple[str, Login]:
        if app.sp and not corp_id:
            login = Login(app.app_id, "", user_id, 0, 1)
        else:
            admin = 0 if not user_id else 1 if user_id in app.admins else 2
            login = Login(app.app_id, corp_id, user_id, admin, 2)
        token = secrets.token_urlsafe(30)[:40]
        with self._lock:
            self._tokens[token] = _Token(login, now + self.token_period)
        return token, login

    def check(self, token: str | None) -> Login:
        """The login behind an `X-Access-Token`, or 401 USG.000000004."""
        with self._lock:
            held = self._tokens.get(token or "")
            if held is None or held.expires <= self.now():
                raise Refusal(401, TOKEN_INVALID, "the token is invalid or expired")
            return held.login

    def expire_tokens(self) -> int:
        """Test and lab hook: every token issued so far expires now."""
        with self._lock:
            for held in self._tokens.values():
                held.expires = 0.0
            return len(self._tokens)


def _same_digest(expected: bytes, given_hex: str) -> bool:
    if not re.fullmatch(r"[0-9A-Fa-f]{64}", given_hex):
        return False
    try:
        given = binascii.unhexlify(given_hex)  # hex digits decode in either case
    except binascii.Error:
        return False
    return hmac.compare_digest(expected, given)
