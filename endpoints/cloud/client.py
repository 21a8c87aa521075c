"""The meeting service's REST API: one verified HTTPS client, one token for the run.

Every call goes through `CloudClient.call`: the token (App ID login) is obtained on first
use, kept for the run and renewed once when the service answers `401 USG.000000004`;
rate-limit headers (`X-APIG-Ratelimit-*: remain:N,limit:M,time:1 minute`) pause the next
request when a window is spent; a 429 is backed off a bounded number of times; reads are
retried on a 502/503/504 or a broken connection, writes never (they may have happened).
The App Key and the token live in `Secret`s and never reach a log line or a message.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from endpoints.cloud.auth import AUTH_PATH, AppCredentials, auth_request
from endpoints.cloud.errors import (
    TOKEN_INVALID,
    CloudError,
    CloudNetworkError,
    CloudServerError,
    CloudTLSError,
    error_body,
    error_for,
)
from endpoints.cloud.tls import ssl_context
from endpoints.errors import InputError
from endpoints.host import TlsPolicy
from endpoints.secrets import Secret

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.meeting.huaweicloud.com"
DEVICES = "/v1/usg/dcs/corp/device"
DEVICE_TYPES = "/v1/usg/dcs/termdevtype"
USER_STATUS = "/v1/usg/acs/ap/userstatus"
PAGE_SIZE = 100  # asked per page of the terminal list (the service's default is 10)
RENEW_MARGIN = 300.0  # seconds before the token's validPeriod ends that it is renewed anyway
_RETRYABLE = (502, 503, 504)
_WINDOW = re.compile(r"(\d+(?:\.\d+)?)\s*(second|minute|hour|day)s?", re.IGNORECASE)
_UNIT = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


@dataclass(frozen=True)
class CloudSettings:
    """The service API of one run, from the selected rooms' `cloud.*` keys (they agree)."""

    api: str
    credentials: AppCredentials
    tls: TlsPolicy = field(default_factory=TlsPolicy)
    origin: str = ""  # "inventory.yaml:3", where the cloud keys are written


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on waiting for the service: a run never hangs on a rate limit."""

    rate_limited_tries: int = 5  # sends of one request while the service answers 429
    first_wait: float = 1.0  # then doubling: 1, 2, 4, 8 s
    max_wait: float = 30.0  # longest single back-off
    max_pause: float = 60.0  # longest pause for a spent rate-limit window
    read_retries: int = 2  # extra sends of a read after a 502/503/504 or a broken connection


@dataclass(frozen=True)
class Terminal:
    """A hard terminal as the service lists it (QueryDeviceResultDTO)."""

    sn: str
    name: str = ""
    model: str = ""
    number: str = ""
    status: int | None = None  # 0 normal (enabled), 1 frozen (disabled)
    type: str = ""  # TE (Huawei) or 3rd

    @classmethod
    def from_json(cls, data: Any) -> Terminal:
        if not isinstance(data, dict) or not isinstance(data.get("sn"), str) or not data["sn"]:
            raise CloudServerError(f"the service listed a terminal without an SN: {_short(data)}")
        status = data.get("status")
        return cls(sn=data["sn"], name=_str(data.get("name")), model=_str(data.get("model")),
                   number=_str(data.get("number")), type=_str(data.get("type")),
                   status=status if isinstance(status, int) and not isinstance(status, bool) else None)

    @property
    def status_text(self) -> str | None:
        if self.status is None:
            return None
        return {0: "enabled", 1: "disabled"}.get(self.status, str(self.status))

    def to_json(self) -> dict[str, Any]:
        return {"sn": self.sn, "name": self.name, "model": self.model, "number": self.number or None,
                "status": self.status_text}


@dataclass(frozen=True)
class DeviceType:
    type: str  # TE | 3rd
    model: str


@dataclass(frozen=True)
class NewTerminal:
    """What `cloud add` sends for one room (AddDeviceDTO)."""

    sn: str
    name: str
    model: str
    dept_code: str = "1"
    email: str | None = None
    phone: str | None = None
    country: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "name": self.name, "sn": self.sn, "deptCode": self.dept_code}
        for key, value in (("email", self.email), ("phone", self.phone), ("country", self.country)):
            if value:
                body[key] = value
        return body  # no sendNotify: the notice carries the SIP password


@dataclass
class _Limit:
    remain: int
    window: float


class CloudClient:
    """One run's connection to the service; thread-safe; count of requests in `requests`."""

    def __init__(self, settings: CloudSettings, *, timeout: float = 15.0, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> None:
        url = httpx.URL(settings.api)
        if url.scheme != "https" or not url.host:
            raise InputError(f"the service API must be an https:// URL (got {settings.api!r})",
                             file=settings.origin, key="cloud.api")
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.sleep, self.clock, self.now = sleep, clock, now
        self.requests = 0  # HTTP requests sent, logins and retries included
        self.by_path: dict[str, int] = {}
        self.logins = 0
        self.nonces: list[str] = []  # of every login sent (they must never repeat)
        self._token: Secret | None = None
        self._token_until = 0.0
        self._paused_until = 0.0
        self._lock = threading.RLock()
        self._http = httpx.Client(base_url=str(url).rstrip("/"), verify=ssl_context(settings.tls,
                                  origin=settings.origin), trust_env=False, timeout=timeout,
                                  follow_redirects=False, headers={"Accept": "application/json"})

    def __repr__(self) -> str:
        return f"CloudClient({self.settings.api}, app_id={self.settings.credentials.app_id})"

    # --- the API --------------------------------------------------------------------------

    def terminals(self, *, page_size: int = PAGE_SIZE) -> list[Terminal]:
        """Every terminal of the enterprise, paginated defensively (see `paginate`)."""
        rows = paginate(lambda offset: self.call("GET", DEVICES, params={"offset": offset, "limit": page_size},
                                                 what="listing the terminals"), key=_sn_of)
        found: dict[str, Terminal] = {}
        for row in rows:
            terminal = Terminal.from_json(row)
            found.setdefault(terminal.sn, terminal)
        return list(found.values())

    def device_types(self) -> list[DeviceType]:
        data = self.call("GET", DEVICE_TYPES, what="reading the terminal types")
        if not isinstance(data, list):
            raise CloudServerError(f"reading the terminal types: expected a list, got {_short(data)}")
        return [DeviceType(_str(d.get("type")), _str(d.get("model"))) for d in data
                if isinstance(d, dict) and d.get("model")]

    def add_terminal(self, terminal: NewTerminal) -> Terminal:
        data = self.call("POST", DEVICES, json=terminal.to_json(), idempotent=False,
                         what=f"adding terminal {terminal.sn}")
        added = Terminal.from_json(data if isinstance(data, dict) and data.get("sn") else
                                   {**(data if isinstance(data, dict) else {}), "sn": terminal.sn})
        if not added.number:
            raise CloudServerError(f"adding terminal {terminal.sn}: the service answered without a number; "
                                   "look it up with `endpoints cloud terminals`")
        return added

    def user_status(self, numbers: Sequence[str]) -> list[Any]:
        """One `userstatus` request (a batch): the service's rows, as it wrote them."""
        data = self.call("POST", USER_STATUS, json=list(numbers), what="asking the registration status")
        if not isinstance(data, list):
            raise CloudServerError(f"asking the registration status: expected a list, got {_short(data)}")
        return data

    # --- one call ---------------------------------------------------------------------------

    def call(self, method: str, path: str, *, what: str, json: Any = None, params: dict[str, Any] | None = None,
             idempotent: bool = True) -> Any:
        """Send with the token; renew it once on `401 USG.000000004`; the JSON answer or a CloudError."""
        for attempt in (1, 2):
            token = self._ensure_token()

            def prepare(token: Secret = token) -> dict[str, str]:
                return {"X-Access-Token": token.reveal(), "X-Request-Id": uuid.uuid4().hex}

            response = self._exchange(method, path, prepare, json=json, params=params, what=what,
                                      idempotent=idempotent)
            if response.status_code == 401 and attempt == 1 and _code(response) == TOKEN_INVALID:
                log.info("cloud: the access token expired; logging in again")
                self._drop_token(token)
                continue
            return _answer(response, what)
        raise AssertionError("unreachable")

    def login(self) -> None:
        """App ID login now (a fresh nonce and expiry every time)."""
        with self._lock:
            bodies: list[dict[str, Any]] = []

            def prepare() -> dict[str, str]:
                request = auth_request(self.settings.credentials, now=self.now)  # re-signed on every send
                self.nonces.append(request.nonce)
                bodies.append(request.body)
                return request.headers

            response = self._exchange("POST", AUTH_PATH, prepare, json=lambda: bodies[-1], what="App ID login",
                                      idempotent=True)
            self.logins += 1
            if response.status_code == 401:
                raise _login_refused(response, self.settings)
            data = _answer(response, "App ID login")
            token = data.get("accessToken") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                raise CloudServerError("App ID login: the service answered without an accessToken")
            period = data.get("validPeriod")
            valid = float(period) if isinstance(period, (int, float)) and period > 0 else 12 * 3600.0
            self._token = Secret(token)
            self._token_until = self.clock() + max(valid - RENEW_MARGIN, valid / 2)
            log.info("cloud: logged in as App ID %s (token valid %d s)", self.settings.credentials.app_id, valid)

    def close(self) -> None:
        try:
            self._http.close()
        except (OSError, httpx.HTTPError):
            log.debug("cloud: error while closing the HTTP client", exc_info=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _ensure_token(self) -> Secret:
        with self._lock:
            if self._token is None or self.clock() >= self._token_until:
                self.login()
            assert self._token is not None
            return self._token

    def _drop_token(self, token: Secret) -> None:
        with self._lock:
            if self._token is token:
                self._token = None

    def _exchange(self, method: str, path: str, prepare: Callable[[], dict[str, str]], *, what: str,
                  json: Any = None, params: dict[str, Any] | None = None, idempotent: bool) -> httpx.Response:
        """Send until an answer that is not a 429 (bounded) nor, for a read, a retryable failure."""
        rate_limited = failed = 0
        while True:
            self._respect_pause()
            headers = prepare()
            body = json() if callable(json) else json
            try:
                response = self._send(method, path, headers=headers, json=body, params=params, what=what,
                                      idempotent=idempotent)
            except CloudNetworkError as exc:
                if not idempotent or isinstance(exc, CloudTLSError) or failed >= self.retry.read_retries:
                    raise
                failed += 1
                self.sleep(self._backoff(failed - 1))
                continue
            self._note_limits(response)
            status = response.status_code
            if status == 429 and rate_limited + 1 < self.retry.rate_limited_tries:
                wait = self._rate_wait(response, rate_limited)
                log.info("cloud: %s: rate limited (429); waiting %.1f s", what, wait)
                rate_limited += 1
                self.sleep(wait)
                continue
            if status in _RETRYABLE and idempotent and failed < self.retry.read_retries:
                failed += 1
                self.sleep(self._backoff(failed - 1))
                continue
            return response

    def _send(self, method: str, path: str, *, headers: dict[str, str], json: Any, params: dict[str, Any] | None,
              what: str, idempotent: bool) -> httpx.Response:
        with self._lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
        where = f"{what} ({self.settings.api})"
        try:
            response = self._http.request(method, path, headers=headers, json=json, params=params)
        except CloudTLSError as exc:
            raise CloudTLSError(f"{where}: {exc}: if the service's certificate changed on purpose, "
                                "update cloud.tls_verify") from None
        except httpx.HTTPError as exc:
            raise _network_error(exc, where, self.settings.api, idempotent=idempotent) from None
        log.debug("cloud: %s %s -> %s", method, path, response.status_code)
        return response

    def _note_limits(self, response: httpx.Response) -> None:
        """A spent window (remain:0) pauses the next request for that window (bounded)."""
        for limit in _limits(response.headers):
            if limit.remain <= 0:
                pause = min(limit.window, self.retry.max_pause)
                with self._lock:
                    self._paused_until = max(self._paused_until, self.clock() + pause)

    def _respect_pause(self) -> None:
        wait = self._paused_until - self.clock()
        if wait > 0:
            log.info("cloud: the service's rate-limit window is spent; waiting %.1f s", wait)
            self.sleep(wait)

    def _rate_wait(self, response: httpx.Response, tries: int) -> float:
        retry_after = response.headers.get("Retry-After", "").strip()
        if retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), self.retry.max_wait)
        spent = [lim.window for lim in _limits(response.headers) if lim.remain <= 0]
        if spent:
            self._paused_until = 0.0  # the wait below covers it
            return min(min(spent), self.retry.max_pause)
        return self._backoff(tries)

    def _backoff(self, tries: int) -> float:
        return float(min(self.retry.first_wait * 2 ** tries, self.retry.max_wait))


# --- pagination ---------------------------------------------------------------------------

def paginate(fetch: Callable[[int], Any], *, key: Callable[[Any], Any], max_pages: int = 10_000) -> Iterator[Any]:
    """Every item of an `{offset, limit, count, data}` listing, whatever `offset` means.

    The notes leave open whether `offset` is an item index or a page number (UNSURE), and
    say an offset past the end returns the last page again. So: after page 0, ask offset 1.
    If that page starts with page 0's second item, offset is an item index (continue at the
    next unseen item); otherwise it is a page number (continue at 2, 3 ...). Stop when
    `count` items are in, on an empty page, or on a page already seen.
    """
    first = _page(fetch(0))
    count, items = first
    yield from items
    seen_pages = {tuple(key(i) for i in items)}
    got = {key(i) for i in items}
    if not items or (count is not None and len(got) >= count):
        return
    size = len(items)
    item_index: bool | None = None if size > 1 else True  # with one per page both meanings agree
    offset = 1
    for _ in range(max_pages):
        count_now, page = _page(fetch(offset))
        count = count_now if count_now is not None else count
        signature = tuple(key(i) for i in page)
        if not page or signature in seen_pages:
            return
        if item_index is None:
            item_index = key(page[0]) == key(items[1])
        seen_pages.add(signature)
        new = [i for i in page if key(i) not in got]
        got.update(key(i) for i in new)
        yield from new
        if count is not None and len(got) >= count:
            return
        offset = offset + len(page) if item_index else offset + 1


def _page(data: Any) -> tuple[int | None, list[Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("data", []), list):
        raise CloudServerError(f"a listing answered something other than {{count, data}}: {_short(data)}")
    count = data.get("count")
    return (count if isinstance(count, int) and not isinstance(count, bool) else None), list(data.get("data") or [])


def _sn_of(row: Any) -> Any:
    return row.get("sn") if isinstance(row, dict) else repr(row)


# --- answers --------------------------------------------------------------------------------

def _answer(response: httpx.Response, what: str) -> Any:
    request_id = response.headers.get("X-Request-Id", "")
    if response.status_code >= 400:
        raise error_for(response.status_code, _json_or_none(response), what=what, request_id=request_id)
    if not response.content:
        return None
    data = _json_or_none(response)
    if data is None:
        raise CloudServerError(f"{what}: the service answered HTTP {response.status_code} with something that "
                               "is not JSON", status=response.status_code, request_id=request_id)
    return data


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _code(response: httpx.Response) -> str:
    return error_body(_json_or_none(response))[0]


def _login_refused(response: httpx.Response, settings: CloudSettings) -> CloudError:
    error = error_for(401, _json_or_none(response), what="App ID login",
                      request_id=response.headers.get("X-Request-Id", ""))
    mode = ("SP mode: cloud.corp_id is set, so the App ID must be an SP application"
            if settings.credentials.sp_mode else
            "single-enterprise mode: leave cloud.corp_id unset unless the App ID is an SP application")
    error.args = (f"{error.args[0]}; check cloud.app_id and cloud.app_key ({mode}), cloud.user_id, "
                  "and this machine's clock (the login expires 10 minutes after it is signed)",)
    return error


def _network_error(exc: httpx.HTTPError, where: str, api: str, *, idempotent: bool) -> CloudNetworkError:
    import socket
    import ssl

    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in causes:
        causes.append(current)
        current = current.__cause__ or current.__context__
    verify = next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        return CloudTLSError(f"{where}: the service's certificate did not verify ({verify.verify_message}): "
                             "set cloud.tls_verify to its CA bundle or a sha256: pin")
    if any(isinstance(c, socket.gaierror) for c in causes):
        return CloudNetworkError(f"{where}: cannot resolve {httpx.URL(api).host}")
    if isinstance(exc, httpx.ConnectTimeout):
        return CloudNetworkError(f"{where}: connection timed out")
    if isinstance(exc, httpx.ConnectError):
        return CloudNetworkError(f"{where}: cannot connect: {str(exc) or type(exc).__name__}")
    if isinstance(exc, httpx.TimeoutException):
        return CloudNetworkError(f"{where}: no answer in time" + ("" if idempotent else
                                 ": it may have been done; check with `endpoints cloud terminals`"))
    return CloudNetworkError(f"{where}: connection broken: {str(exc) or type(exc).__name__}")


def _limits(headers: httpx.Headers) -> list[_Limit]:
    found = []
    for name, value in headers.items():
        if not name.lower().startswith("x-apig-ratelimit"):
            continue
        fields = dict(part.split(":", 1) for part in value.split(",") if ":" in part)
        remain, window = fields.get("remain", "").strip(), _WINDOW.search(fields.get("time", ""))
        if remain.lstrip("-").isdigit() and window:
            found.append(_Limit(int(remain), float(window.group(1)) * _UNIT[window.group(2).lower()]))
    return found


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _short(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 120 else text[:117] + "..."
