"""App ID authentication (`POST /v2/usg/acs/auth/appauth`), exactly as the notes give it.

protocols/huaweicloud.md §1.1:

    single enterprise:  data = appId:userId:expireTime:nonce
    SP (multi-tenant):  data = appId:corpId:userId:expireTime:nonce
    signature = hex(HMAC-SHA256(key=appKey, msg=data)),  access = base64(appId)
    Authorization: HMAC-SHA256 signature=<hex>,access=<b64>

An empty user ID (the enterprise's default administrator, which device management needs)
keeps its colons (`appId::expire:nonce`); an SP administrator is `appId:::expire:nonce`.
The body repeats userId, corpId, expireTime and nonce exactly as signed, and carries
`corpId` only in SP mode: a single-enterprise login that sends it fails. Hex case is
UNSURE (the SDK sends upper, the docs and Terraform lower): lower case, as the docs.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from endpoints.secrets import Secret

AUTH_PATH = "/v2/usg/acs/auth/appauth"
CLIENT_TYPE_API = 72  # "API call": tokens are not kicked by each other, 64 live per user
NONCE_LENGTH = 48  # the service takes 32..64 characters
TOKEN_TTL = 600  # seconds the signed request itself stays valid (the SDK's now + 10 min)


@dataclass(frozen=True)
class AppCredentials:
    """An App ID login: who signs (the App ID and its key) and as whom (corp, user)."""

    app_id: str
    app_key: Secret = field(repr=False)
    user_id: str = ""  # "": the enterprise's default administrator
    corp_id: str | None = None  # None: a single-enterprise app; a string (even ""): SP mode

    @property
    def sp_mode(self) -> bool:
        return self.corp_id is not None


def signed_string(credentials: AppCredentials, expire_time: int, nonce: str) -> str:
    """The text the HMAC covers; empty parts keep their colons."""
    parts = [credentials.app_id]
    if credentials.corp_id is not None:
        parts.append(credentials.corp_id)
    parts += [credentials.user_id, str(expire_time), nonce]
    return ":".join(parts)


def signature(app_key: Secret, data: str) -> str:
    return hmac.new(app_key.reveal().encode("utf-8"), data.encode("utf-8"), hashlib.sha256).hexdigest()


def access_of(app_id: str) -> str:
    return base64.b64encode(app_id.encode("utf-8")).decode("ascii")


def new_nonce() -> str:
    """A fresh random nonce for every login (letters and digits, inside 32..64 characters)."""
    return secrets.token_hex(NONCE_LENGTH // 2)


@dataclass(frozen=True)
class AuthRequest:
    """One signed login: the headers and the body to POST. Never printed whole."""

    headers: dict[str, str] = field(repr=False)
    body: dict[str, Any]
    nonce: str
    expire_time: int


def auth_request(credentials: AppCredentials, *, now: Callable[[], float] = time.time,
                 ttl: int = TOKEN_TTL, nonce: str | None = None) -> AuthRequest:
    """Sign a login that expires `ttl` seconds from now (expireTime is in seconds)."""
    nonce = nonce or new_nonce()
    expire_time = int(now()) + ttl
    sig = signature(credentials.app_key, signed_string(credentials, expire_time, nonce))
    headers = {
        "Authorization": f"HMAC-SHA256 signature={sig},access={access_of(credentials.app_id)}",
        "X-Token-Type": "LongTicket",  # documented as required; the SDKs omit it; harmless
        "Content-Type": "application/json; charset=UTF-8",
    }
    body: dict[str, Any] = {"appId": credentials.app_id, "clientType": CLIENT_TYPE_API,
                            "expireTime": expire_time, "nonce": nonce}
    if credentials.user_id:
        body["userId"] = credentials.user_id
    if credentials.corp_id is not None:
        body["corpId"] = credentials.corp_id  # SP mode only
    return AuthRequest(headers, body, nonce, expire_time)
