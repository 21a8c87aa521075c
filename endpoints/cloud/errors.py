"""What can go wrong with the meeting service, by cause, and the one mapping from an answer.

The service answers errors as `{"error_code": "USG.xxxxxxxxx", "error_msg": "..."}`
(protocols/huaweicloud.md §5; the SDK core also reads `errorCode`/`errorMsg` and
`code`/`message`, nested or not). Only `USG.000000004` (invalid or expired token, HTTP
401) is a confirmed code; every other code is passed through as the service wrote it.
No message ever carries the App Key, the signature or the access token.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from endpoints.errors import EndpointsError

TOKEN_INVALID = "USG.000000004"


class CloudError(EndpointsError):
    """The meeting service could not do what was asked; the message says why, for an operator."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.request_id = status, code, request_id


class CloudAuthError(CloudError):
    """The service refused the App ID login or the token (401), or the account's rights (403, 412, 423)."""


class CloudNotFound(CloudError):
    """The service has no such thing (404): a terminal SN it does not know."""


class CloudRateLimited(CloudError):
    """The service kept answering 429 after the bounded back-off."""


class CloudServerError(CloudError):
    """The service failed (5xx) or answered something this client cannot read."""


class CloudRefused(CloudError):
    """The service refused the request itself (400, 409 ...): a field it does not accept."""


class CloudNetworkError(CloudError):
    """The service could not be reached: DNS, refused, timeout, broken connection."""


class CloudTLSError(CloudNetworkError):
    """The service's certificate did not verify (CA, host name or the `cloud.tls_verify` pin)."""


_BY_STATUS: dict[int, tuple[type[CloudError], str]] = {
    400: (CloudRefused, "the service refused the request"),
    401: (CloudAuthError, "the service refused the login"),
    403: (CloudAuthError, "the account has no right to do this (device management needs an enterprise "
                          "administrator: leave cloud.user_id empty for the default administrator)"),
    404: (CloudNotFound, "the service does not know it"),
    409: (CloudRefused, "the service says it exists already"),
    412: (CloudAuthError, "the service says the account is disabled"),
    423: (CloudAuthError, "the service says the account is locked"),
    429: (CloudRateLimited, "the service is rate limiting this App ID"),
}


def error_body(body: Any) -> tuple[str, str]:
    """(code, message) from an error body in any of the shapes the SDK reads; ("", "") if none."""
    if not isinstance(body, Mapping):
        return "", ""
    for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
        code, msg = body.get(code_key), body.get(msg_key)
        if isinstance(code, (str, int)) and not isinstance(code, bool) and str(code):
            return str(code), str(msg) if msg is not None else ""
    for value in body.values():
        if isinstance(value, Mapping):
            found = error_body(value)
            if found != ("", ""):
                return found
    return "", ""


def error_for(status: int, body: Any, *, what: str, request_id: str = "") -> CloudError:
    """The one mapping: an HTTP error answer -> the CloudError of its cause, in operator words."""
    code, msg = error_body(body)
    kind: type[CloudError]
    if status >= 500:
        kind, meaning = CloudServerError, f"the service failed (HTTP {status})"
    else:
        kind, meaning = _BY_STATUS.get(status, (CloudRefused, f"the service answered HTTP {status}"))
    if status == 401 and code == TOKEN_INVALID:
        meaning = "the service says the access token is invalid or expired"
    said = f" [{code}] {msg}".rstrip() if code else (f" {msg}" if msg else "")
    ref = f" (request id {request_id})" if request_id else ""
    return kind(f"{what}: {meaning}:{said}{ref}" if said else f"{what}: {meaning}{ref}", status=status,
                code=code, request_id=request_id)
