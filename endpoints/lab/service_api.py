"""The simulated meeting service's REST API over HTTPS on loopback (protocols/huaweicloud.md).

App ID login (`service_api_auth.py`), hard-terminal management, terminal types and
terminal status, on the same accounts and registration model as the lab's rooms
(`registration.MeetingService`): adding a terminal opens an account (number + SIP
password) that a lab room can register with, and "mails" the notice into the lab's
mailbox folder (`<lab>/mail/<sn>.txt`); a number's status is registered while a lab
room is registered with it under the account's current password.

Choices where the notes are UNSURE (the client copes with the other variants):
- Listing `offset` is a page number (0, 1, 2 ...); an offset past the end returns the
  last page, as the notes' "若超过最大数量，则返回最后一页" says. `limit` is capped at
  `max_page` (default 100) without complaint.
- Rate limits: fixed windows per API and over all APIs, answered with the documented
  `X-APIG-Ratelimit-Api` and `X-APIG-Ratelimit-Api-Allenv` headers; over a limit, 429
  with `APIGW.0308` (the gateway's throttling code as commonly seen; not in the notes).
- `userstatus`: a number that is no terminal of the enterprise answers RegStatus "1",
  CallStatus "3" (invalid); batches are unlimited unless `status_batch_max` is set.
- Terminal types: the zh doc's model list, `polycom` and `cisco` in lower case.
- Error codes other than USG.000000004 are the simulator's own.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from endpoints.lab.net import LOOPBACK, Certificate, free_port, serve_http
from endpoints.lab.registration import MeetingService, SipSettings
from endpoints.lab.service_api_auth import BAD_PARAMS, App, Authority, Login, Refusal

THROTTLED = "APIGW.0308"
NO_RIGHT = "USG.000000005"  # the simulator's own
NOT_FOUND = "USG.000000007"  # the simulator's own
SN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,30}")
DEVICE_TYPES: tuple[tuple[str, str], ...] = tuple(
    [("TE", m) for m in ("TE10", "TE20", "TE30", "TE40", "TE50", "TE60", "HUAWEI Box 200", "HUAWEI Box 300",
                         "HUAWEI Box 500", "HUAWEI Box 600", "HUAWEI Box 700", "HUAWEI Box 900", "DP300",
                         "HUAWEI Board")] + [("3rd", "polycom"), ("3rd", "cisco")])
Registered = Callable[[], Iterable[tuple[str, SipSettings]]]  # (device phase, its SIP settings)


@dataclass
class Limit:
    """A fixed window: `limit` requests per `seconds`."""

    limit: int
    seconds: float
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> tuple[bool, int]:
        if now - self.started >= self.seconds:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            return False, 0
        self.used += 1
        return True, self.limit - self.used

    def header(self, remain: int) -> str:
        amount = f"{self.seconds:g}"
        unit = ("second" if self.seconds < 60 else "minute")
        if unit == "minute":
            amount = f"{self.seconds / 60:g}"
        plural = "" if amount == "1" else "s"
        return f"remain:{remain},limit:{self.limit},time:{amount} {unit}{plural}"


@dataclass
class ServiceConfig:
    api_limit: tuple[int, float] = (100, 60.0)  # per API: the doc sample's 100 per minute
    all_limit: tuple[int, float] = (200, 1.0)  # all APIs: 200 per second
    max_page: int = 100
    status_batch_max: int | None = None
    token_period: int = 43200  # validPeriod of a token, seconds


@dataclass
class TerminalRecord:
    sn: str
    name: str
    model: str
    type: str
    number: str
    account: str
    dept_code: str = "1"
    email: str = ""
    phone: str = ""
    country: str = ""
    description: str | None = None
    status: int = 0
    corp_id: str = "lab-corp"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "model": self.model, "sn": self.sn, "account": self.account,
                "number": self.number, "prjCodeMode": 0, "deptCode": self.dept_code, "deptName": "lab",
                "deptNamePath": "lab", "phone": _masked(self.phone), "country": self.country or None,
                "email": _masked(self.email), "description": self.description, "status": self.status}


def _masked(text: str) -> str | None:
    if not text:
        return None
    if "@" in text:
        return "****@" + text.split("@", 1)[1]
    return text[:3] + "*" * max(len(text) - 3, 0)


class ServiceApi:
    """The state and the aiohttp application of the simulated service."""

    def __init__(self, service: MeetingService, apps: list[App], *, config: ServiceConfig | None = None,
                 mailbox: Path | None = None, registered: Registered | None = None,
                 proxy: str = "sip2-ec.huaweicloud.com:5061", now: Callable[[], float] = time.time) -> None:
        self.service = service
        self.config = config or ServiceConfig()
        self.authority = Authority(apps, token_period=self.config.token_period, now=now)
        self.mailbox = mailbox
        self.registered = registered or (lambda: ())
        self.proxy = proxy
        self.now = now
        self.terminals: dict[str, TerminalRecord] = {}  # sn -> record, in the order added
        self.requests: dict[str, int] = {}  # route -> requests answered
        self.throttled = 0  # requests answered 429
        self.auth_requests: list[tuple[dict[str, str], bytes]] = []  # (headers, body) of each login, for tests
        self._api_limits: dict[str, Limit] = {}
        self._all_limit = Limit(*self.config.all_limit)
        self._lock = threading.Lock()

    # --- the lab's and the tests' hands on it ------------------------------------------------

    def seed(self, sn: str, name: str, model: str, number: str) -> None:
        """A terminal that was added before the lab started (the lab's own rooms)."""
        self.terminals[sn] = TerminalRecord(sn=sn, name=name, model=model, type="3rd", number=number,
                                            account=secrets.token_hex(16))

    def remove_terminal(self, sn: str) -> None:
        """As the admin console's delete: the terminal and its account are gone."""
        record = self.terminals.pop(sn)
        self.service.accounts.pop(record.number, None)

    def reset_password(self, sn: str) -> str:
        """The account's SIP password changed at the service; the new one is mailed."""
        record = self.terminals[sn]
        password = secrets.token_urlsafe(9)
        self.service.add_account(record.number, password)
        self._mail(record, password, subject="SIP password reset")
        return password

    def total_requests(self) -> int:
        return sum(self.requests.values())

    # --- the application ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.router.add_post("/v2/usg/acs/auth/appauth", self.appauth)
        app.router.add_get("/v1/usg/dcs/corp/device", self.list_devices)
        app.router.add_post("/v1/usg/dcs/corp/device", self.add_device)
        app.router.add_get("/v1/usg/dcs/corp/device/{sn}", self.show_device)
        app.router.add_get("/v1/usg/dcs/termdevtype", self.device_types)
        app.router.add_post("/v1/usg/acs/ap/userstatus", self.user_status)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = f"{request.method} {resource.canonical if resource is not None else request.path}"
        with self._lock:
            self.requests[route] = self.requests.get(route, 0) + 1
            now = time.monotonic()
            api_limit = self._api_limits.setdefault(route, Limit(*self.config.api_limit))
            api_ok, api_remain = api_limit.take(now)
            all_ok, all_remain = self._all_limit.take(now) if api_ok else (True, self._remain_all(now))
        headers = {"X-APIG-Ratelimit-Api": api_limit.header(api_remain),
                   "X-APIG-Ratelimit-Api-Allenv": self._all_limit.header(all_remain)}
        request_id = request.headers.get("X-Request-Id") or secrets.token_hex(16)
        headers["X-Request-Id"] = request_id
        if not (api_ok and all_ok):
            with self._lock:
                self.throttled += 1
            return _error(429, THROTTLED, "The throttling threshold has been reached", headers)
        try:
            response: web.StreamResponse = await handler(request)
        except Refusal as refusal:
            return _error(refusal.status, refusal.code, refusal.message, headers)
        response.headers.update(headers)
        return response

    def _remain_all(self, now: float) -> int:
        limit = self._all_limit
        return limit.limit - limit.used if now - limit.started < limit.seconds else limit.limit

    async def appauth(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.auth_requests.append((dict(request.headers), raw))
        body = _json(raw)
        token, login = self.authority.login(request.headers.get("Authorization", ""), body)
        now = self.now()
        return web.json_response({
            "accessToken": token, "tokenIp": LOOPBACK, "validPeriod": self.config.token_period,
            "expireTime": int(now) + self.config.token_period, "createTime": int(now * 1000),
            "user": {"realm": self.service.domain, "userId": secrets.token_hex(16), "appId": login.app_id,
                     "companyId": login.corp_id, "userType": login.user_type, "adminType": login.admin_type,
                     "name": login.user_id or "admin", "thirdAccount": login.user_id, "status": 0},
            "clientType": body.get("clientType"), "firstLogin": False, "pwdExpired": False, "tokenType": 0,
        })

    def _device_admin(self, request: web.Request) -> Login:
        login = self.authority.check(request.headers.get("X-Access-Token"))
        if not login.manages_devices:
            raise Refusal(403, NO_RIGHT, "device management needs an enterprise administrator")
        return login

    async def list_devices(self, request: web.Request) -> web.Response:
        login = self._device_admin(request)
        offset = _int(request.query.get("offset", "0"), "offset")
        limit = min(max(_int(request.query.get("limit", "10"), "limit"), 1), self.config.max_page)
        search = request.query.get("searchKey", "").lower()
        model = request.query.get("model", "")
        rows = [t for t in self.terminals.values() if t.corp_id == login.corp_id
                and (not search or search in t.name.lower() or search in t.sn.lower())
                and (not model or t.model == model)]
        last_page = max((len(rows) - 1) // limit, 0)
        page = min(offset, last_page)  # past the end: the last page
        data = [t.to_json() for t in rows[page * limit:(page + 1) * limit]]
        return web.json_response({"offset": page, "limit": limit, "count": len(rows), "data": data})

    async def show_device(self, request: web.Request) -> web.Response:
        login = self._device_admin(request)
        record = self.terminals.get(request.match_info["sn"])
        if record is None or record.corp_id != login.corp_id:
            raise Refusal(404, NOT_FOUND, "no such terminal")
        return web.json_response(record.to_json())

    async def device_types(self, request: web.Request) -> web.Response:
        self.authority.check(request.headers.get("X-Access-Token"))
        return web.json_response([{"type": kind, "model": model, "enableActiveCode": kind == "TE",
                                   "resolution": "1080P", "supportProjectionCode": kind == "TE",
                                   "supportSVC": None} for kind, model in DEVICE_TYPES])

    async def add_device(self, request: web.Request) -> web.Response:
        login = self._device_admin(request)
        body = _json(await request.read())
        if not isinstance(body, dict):
            raise Refusal(400, BAD_PARAMS, "the body must be a JSON object")
        fields = {k: body.get(k) for k in ("model", "name", "sn", "deptCode", "email", "phone", "country",
                                           "description", "sendNotify")}
        kind = next((t for t, m in DEVICE_TYPES if m == fields["model"]), None)
        if kind is None:
            raise Refusal(400, BAD_PARAMS, "model is not a terminal type of this service")
        name, sn = fields["name"], fields["sn"]
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise Refusal(400, BAD_PARAMS, "name must be 1 to 64 characters")
        if not isinstance(sn, str) or not SN_PATTERN.fullmatch(sn):
            raise Refusal(400, BAD_PARAMS, "sn must be 1 to 30 letters, digits or underscores")
        if not fields["email"] and not fields["phone"]:
            raise Refusal(400, BAD_PARAMS, "phone or email is required")
        with self._lock:
            if sn in self.terminals:
                raise Refusal(400, BAD_PARAMS, "a terminal with this sn exists")
            password = secrets.token_urlsafe(9)
            number = self.service.open_account(password)
            record = TerminalRecord(
                sn=sn, name=name, model=str(fields["model"]), type=kind, number=number,
                account=secrets.token_hex(16), dept_code=str(fields["deptCode"] or "1"),
                email=str(fields["email"] or ""), phone=str(fields["phone"] or ""),
                country=str(fields["country"] or ("chinaPR" if fields["phone"] else "")),
                description=fields["description"] if isinstance(fields["description"], str) else None,
                corp_id=login.corp_id)
            self.terminals[sn] = record
        if fields["sendNotify"] != "0":
            self._mail(record, password, subject="Your terminal was added to the meeting service")
        return web.json_response(record.to_json())

    async def user_status(self, request: web.Request) -> web.Response:
        login = self.authority.check(request.headers.get("X-Access-Token"))
        body = _json(await request.read())
        if not isinstance(body, list) or not all(isinstance(n, str) for n in body):
            raise Refusal(400, BAD_PARAMS, "the body must be a JSON array of numbers")
        if self.config.status_batch_max is not None and len(body) > self.config.status_batch_max:
            raise Refusal(400, BAD_PARAMS, f"at most {self.config.status_batch_max} numbers per request")
        registered = self._registered_numbers()  # as `lab status` looks: briefly, on the loop
        terminals = {t.number: t for t in self.terminals.values() if t.corp_id == login.corp_id}
        rows = []
        for number in body:
            terminal = terminals.get(number)
            if terminal is None:
                rows.append({"Number": f"tel:{number}", "RegStatus": "1", "CallStatus": "3"})
            elif terminal.status == 0 and number in registered:
                rows.append({"Number": f"tel:{number}", "RegStatus": "0", "CallStatus": "1"})
            else:
                rows.append({"Number": f"tel:{number}", "RegStatus": "1", "CallStatus": "0"})
        return web.json_response(rows)

    def _registered_numbers(self) -> set[str]:
        """Numbers a lab room is registered with now, under the account's current password."""
        found = set()
        domain = self.service.domain
        for phase, settings in self.registered():
            if phase != "registered":
                continue
            number = settings.uri.removeprefix("sip:").split("@", 1)[0]
            account = self.service.accounts.get(number)
            if account is not None and settings.password == account.password and \
                    settings.uri.endswith("@" + domain):
                found.add(number)
        return found

    def _mail(self, record: TerminalRecord, password: str, *, subject: str) -> None:
        """The notice the service sends by email/SMS, as a file the lab's operator reads."""
        if self.mailbox is None:
            return
        self.mailbox.mkdir(parents=True, exist_ok=True)
        os.chmod(self.mailbox, 0o700)
        to = ", ".join(x for x in (record.email, record.phone and f"SMS {record.phone}") if x)
        text = (f"To: {to}\nSubject: {subject}: {record.name}\n\n"
                f"Device model: {record.model}\nSIP number: sip:{record.number}@{self.service.domain}\n"
                f"SIP password: {password}\nSIP server address: primary site {self.proxy} (TLS)\n")
        path = self.mailbox / f"{record.sn}.txt"
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o600)


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> web.Response:
    return web.json_response({"error_code": code, "error_msg": message}, status=status, headers=headers)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, BAD_PARAMS, "the body is not JSON") from None


def _int(text: str, name: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text):
        raise Refusal(400, BAD_PARAMS, f"{name} must be a non-negative integer")
    return int(text)


# --- TLS: a CA of its own and a certificate for 127.0.0.1 --------------------------------------

@dataclass(frozen=True)
class ServiceCertificates:
    ca_pem: bytes
    server: Certificate


def make_certificates() -> ServiceCertificates:
    """A private CA and a server certificate for 127.0.0.1 and localhost signed by it,
    so that clients verify the service as they would the real one (CA and host name)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "endpoints lab meeting service CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.meeting.lab")])
    server = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=825))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return ServiceCertificates(
        ca.public_bytes(pem),
        Certificate(server.public_bytes(pem), key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption())))


# --- serving ---------------------------------------------------------------------------------

@dataclass
class ServiceServer:
    """The simulated service on a loopback port of a running loop."""

    api: ServiceApi
    certificates: ServiceCertificates = field(default_factory=make_certificates)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self.port = self.port or free_port()
        self._runner = await serve_http(self.api.app(), self.port, tls=self.certificates.server)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# --- in the lab ----------------------------------------------------------------------------------

LAB_APP_ID = "lab0app0" + "0" * 24
NOTIFY_EMAIL = "facilities@example.com"


class LabCloud:
    """The lab's meeting service API: started by `Lab.start()`, described in its inventory."""

    def __init__(self, folder: Path, service: MeetingService, registered: Registered,
                 proxy: str = "sip2-ec.huaweicloud.com:5061") -> None:
        self.folder = Path(folder)
        self.app = App(LAB_APP_ID, secrets.token_hex(16))
        self.api = ServiceApi(service, [self.app], mailbox=self.folder / "mail", registered=registered,
                              proxy=proxy)
        self.server = ServiceServer(self.api)

    @classmethod
    def for_lab(cls, lab: Any) -> LabCloud:
        """Every lab room is a terminal at the service already (its SN, name and number)."""
        from endpoints import support

        cloud = cls(lab.folder, lab.service, lambda: ((d.registration.view()[0], d.sip_settings())
                                                      for d in lab.devices()), proxy=lab.proxy)
        for room in lab.rooms.values():
            model = support.family_of(room.spec.model).vendor  # the service's types: cisco, polycom
            cloud.api.seed(room.spec.serial, room.spec.name, model, room.spec.number)
        return cloud

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def write_files(self) -> None:
        """The CA bundle and the App Key (0600) beside the inventory."""
        (self.folder / "cloud-ca.pem").write_bytes(self.server.certificates.ca_pem)
        secret = self.folder / "secrets" / "cloud-app-key"
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(self.app.app_key, encoding="utf-8")
        os.chmod(secret, 0o600)

    def inventory_vars(self) -> dict[str, Any]:
        """`all.vars.cloud` of the lab inventory."""
        return {"api": self.server.url, "app_id": self.app.app_id, "app_key": {"file": "secrets/cloud-app-key"},
                "tls_verify": "cloud-ca.pem", "notify_email": NOTIFY_EMAIL}


class StandaloneService:
    """The simulated service alone on a loop of its own (tests): `with StandaloneService(...) as s`."""

    def __init__(self, apps: list[App], folder: Path, *, config: ServiceConfig | None = None,
                 service: MeetingService | None = None, registered: Registered | None = None) -> None:
        self.folder = Path(folder)
        self.service = service or MeetingService()
        self.api = ServiceApi(self.service, apps, config=config, mailbox=self.folder / "mail",
                              registered=registered)
        self.server = ServiceServer(self.api)
        self.loop: Any = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca_path(self) -> Path:
        return self.folder / "service-ca.pem"

    @property
    def fingerprint(self) -> str:
        return self.server.certificates.server.sha256

    def __enter__(self) -> StandaloneService:
        from endpoints.lab.net import LabLoop

        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca_path.write_bytes(self.server.certificates.ca_pem)
        self.loop = LabLoop()
        self.loop.call(self.server.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call(self.server.stop())
        self.loop.stop()
