"""App ID authentication: signature vectors computed here from the notes, and the
simulated service's verdict on replayed nonces, expired requests, wrong keys, hex case,
and tokens that expire (renewed once)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest

from endpoints.cloud.auth import AppCredentials, auth_request
from endpoints.cloud.client import CloudClient, CloudSettings
from endpoints.cloud.errors import CloudAuthError
from endpoints.host import TlsPolicy
from endpoints.lab.service_api import StandaloneService
from endpoints.lab.service_api_auth import App
from endpoints.secrets import Secret

APP_ID, APP_KEY = "fdb8e4699586458bbd10c834872dcc62", "k3y-for-tests-0123456789abcdef"
SP_ID, SP_KEY = "sp0app" + "1" * 26, "sp-k3y-for-tests-fedcba9876543210"
NONCE = "EycLQsHwxhzK9OW8UEKWNfH2I3CGR2nINuU1EBpv162d42d92s"
EXPIRE = 1627722929


def hex_hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def creds(**kw: object) -> AppCredentials:
    values: dict[str, object] = {"app_id": APP_ID, "app_key": Secret(APP_KEY)}
    values.update(kw)
    return AppCredentials(**values)  # type: ignore[arg-type]


def signed(credentials: AppCredentials) -> tuple[str, str, dict[str, object]]:
    request = auth_request(credentials, now=lambda: EXPIRE - 600, nonce=NONCE)
    header = request.headers["Authorization"]
    assert header.startswith("HMAC-SHA256 signature=")
    sig, _, access = header.removeprefix("HMAC-SHA256 signature=").partition(",access=")
    return sig, access, request.body


# --- vectors -------------------------------------------------------------------------------

def test_signature_vector_single_enterprise_with_user_id() -> None:
    sig, access, body = signed(creds(user_id="testuser@mycorp.com"))
    assert sig == hex_hmac(APP_KEY, f"{APP_ID}:testuser@mycorp.com:{EXPIRE}:{NONCE}")
    assert access == "ZmRiOGU0Njk5NTg2NDU4YmJkMTBjODM0ODcyZGNjNjI="  # the docs' example
    assert body == {"appId": APP_ID, "clientType": 72, "expireTime": EXPIRE, "nonce": NONCE,
                    "userId": "testuser@mycorp.com"}


def test_signature_vector_empty_user_id_keeps_its_colons() -> None:
    sig, _, body = signed(creds())
    assert sig == hex_hmac(APP_KEY, f"{APP_ID}::{EXPIRE}:{NONCE}")
    assert "userId" not in body and "corpId" not in body  # corpId only in SP mode


def test_signature_vectors_sp_mode() -> None:
    sig, _, body = signed(creds(corp_id="corp1", user_id="alice"))
    assert sig == hex_hmac(APP_KEY, f"{APP_ID}:corp1:alice:{EXPIRE}:{NONCE}")
    assert body["corpId"] == "corp1" and body["userId"] == "alice"
    sig, _, body = signed(creds(corp_id="corp1"))  # the enterprise's admin under an SP
    assert sig == hex_hmac(APP_KEY, f"{APP_ID}:corp1::{EXPIRE}:{NONCE}")
    sig, _, body = signed(creds(corp_id=""))  # the SP administrator
    assert sig == hex_hmac(APP_KEY, f"{APP_ID}:::{EXPIRE}:{NONCE}")
    assert body["corpId"] == ""


def test_header_form_and_lower_case_hex() -> None:
    request = auth_request(creds())
    header = request.headers["Authorization"]
    sig = header.split("signature=")[1].split(",")[0]
    assert sig == sig.lower() and len(sig) == 64
    assert ",access=" in header and ", " not in header
    assert request.headers["Content-Type"].startswith("application/json")


def test_nonce_is_new_each_time_and_expiry_is_in_seconds() -> None:
    now = time.time()
    requests = [auth_request(creds()) for _ in range(50)]
    nonces = {r.nonce for r in requests}
    assert len(nonces) == 50
    assert all(32 <= len(n) <= 64 for n in nonces)
    assert all(now < r.expire_time <= now + 3600 for r in requests)  # seconds, not milliseconds
    assert all(r.body["nonce"] == r.nonce and r.body["expireTime"] == r.expire_time for r in requests)


def test_no_secret_in_the_repr_of_anything() -> None:
    credentials = creds(corp_id="c")
    request = auth_request(credentials)
    for thing in (credentials, request, CloudSettings("https://x.example", credentials)):
        assert APP_KEY not in repr(thing) and APP_KEY not in str(thing)
    assert request.headers["Authorization"].split("signature=")[1][:16] not in repr(request)


# --- against the simulated service ---------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneService]:
    apps = [App(APP_ID, APP_KEY), App(SP_ID, SP_KEY, sp_corps=("corp1",))]
    with StandaloneService(apps, tmp_path_factory.mktemp("service")) as running:
        yield running


def client_for(service: StandaloneService, **kw: object) -> CloudClient:
    credentials = creds(**kw) if "app_id" in kw or not kw.get("sp") else None
    if kw.pop("sp", False):
        credentials = AppCredentials(SP_ID, Secret(SP_KEY), **kw)  # type: ignore[arg-type]
    assert credentials is not None
    return CloudClient(CloudSettings(service.url, credentials, TlsPolicy(ca_bundle=service.ca_path)))


def raw_login(service: StandaloneService, headers: dict[str, str], body: dict[str, object] | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with httpx.Client(verify=ssl.create_default_context(cafile=str(service.ca_path))) as http:
        return http.post(f"{service.url}/v2/usg/acs/auth/appauth", headers=headers, content=content)


def hand_signed(*, key: str = APP_KEY, expire: int | None = None, nonce: str | None = None,
                upper: bool = False, extra: dict[str, object] | None = None) -> tuple[dict[str, str], dict[str, object]]:
    """A login signed here from the notes, not with the client's code."""
    expire = int(time.time()) + 300 if expire is None else expire
    nonce = nonce or hashlib.sha256(str(time.perf_counter_ns()).encode()).hexdigest()[:40]
    sig = hex_hmac(key, f"{APP_ID}::{expire}:{nonce}")
    sig = sig.upper() if upper else sig
    access = base64.b64encode(APP_ID.encode()).decode()
    headers = {"Authorization": f"HMAC-SHA256 signature={sig},access={access}", "Content-Type": "application/json"}
    body: dict[str, object] = {"appId": APP_ID, "clientType": 72, "expireTime": expire, "nonce": nonce}
    body.update(extra or {})
    return headers, body


def test_the_client_logs_in_single_enterprise_and_sp(service: StandaloneService) -> None:
    for kw in ({}, {"sp": True, "corp_id": "corp1"}, {"sp": True, "corp_id": ""}):
        with client_for(service, **kw) as client:
            client.login()
            assert client.logins == 1


def test_a_replayed_login_is_refused_and_the_client_never_replays(service: StandaloneService) -> None:
    with client_for(service) as client:
        client.login()
        headers, raw = service.api.auth_requests[-1]
        replay = raw_login(service, {k: v for k, v in headers.items() if k.lower() in
                                     ("authorization", "content-type", "x-token-type")}, raw)
        assert replay.status_code == 401 and "nonce" in replay.json()["error_msg"]
        client.login()  # a second login of the client signs a new nonce
        assert len(set(client.nonces)) == 2


def test_an_expired_login_is_refused_and_zero_never_expires(service: StandaloneService) -> None:
    headers, body = hand_signed(expire=int(time.time()) - 5)
    answer = raw_login(service, headers, body)
    assert answer.status_code == 401 and "expired" in answer.json()["error_msg"]
    headers, body = hand_signed(expire=0)
    assert raw_login(service, headers, body).status_code == 200


def test_hex_case_either_way_is_accepted(service: StandaloneService) -> None:
    for upper in (False, True):  # docs lower, the Python SDK upper (notes §1.1: either)
        headers, body = hand_signed(upper=upper)
        assert raw_login(service, headers, body).status_code == 200


def test_corp_id_in_a_single_enterprise_login_is_refused(service: StandaloneService) -> None:
    headers, body = hand_signed(extra={"corpId": "lab-corp"})
    assert raw_login(service, headers, body).status_code == 401
    headers, body = hand_signed(extra={"corpId": None})  # the SDK's null is tolerated
    assert raw_login(service, headers, body).status_code == 200


def test_a_wrong_key_is_refused_with_a_clear_message(service: StandaloneService) -> None:
    headers, body = hand_signed(key="not-the-key")
    assert raw_login(service, headers, body).status_code == 401
    wrong = "wr0ng-" + APP_KEY
    credentials = AppCredentials(APP_ID, Secret(wrong))
    with CloudClient(CloudSettings(service.url, credentials, TlsPolicy(ca_bundle=service.ca_path))) as client:
        with pytest.raises(CloudAuthError) as caught:
            client.terminals()
        text = str(caught.value)
        assert "cloud.app_key" in text and "signature mismatch" in text
        assert wrong not in text and wrong not in repr(client) and wrong not in repr(caught.value)


def test_an_expired_token_is_renewed_once(service: StandaloneService) -> None:
    with client_for(service) as client:
        assert client.terminals() == []
        service.api.authority.expire_tokens()
        assert client.terminals() == []
        assert client.logins == 2
        service.api.authority.token_period = 0  # from now on every token is born expired
        service.api.authority.expire_tokens()
        try:
            with pytest.raises(CloudAuthError) as caught:
                client.terminals()
        finally:
            service.api.authority.token_period = 43200
        assert caught.value.code == "USG.000000004" and client.logins == 3  # one renewal, then it gives up
        assert "invalid or expired" in str(caught.value)
