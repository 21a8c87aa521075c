"""The service client: defensive pagination (both offset meanings), rate limits and 429,
the error body, HTTPS trust, and `userstatus` in batches (requests counted)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from endpoints.cloud.auth import AppCredentials
from endpoints.cloud.client import CloudClient, CloudSettings, NewTerminal, RetryPolicy, paginate
from endpoints.cloud.context import cloud_settings
from endpoints.cloud.errors import (
    CloudAuthError,
    CloudNotFound,
    CloudRateLimited,
    CloudRefused,
    CloudServerError,
    CloudTLSError,
    error_for,
)
from endpoints.cloud.status import service_registrations
from endpoints.errors import InputError
from endpoints.host import TlsPolicy
from endpoints.inventory import load_inventory
from endpoints.lab.service_api import ServiceConfig, StandaloneService
from endpoints.lab.service_api_auth import App
from endpoints.secrets import Secret

APP_ID, APP_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "client-test-key-5e3c1d"
FAKE = "https://cloud.test"


def settings(url: str, tls: TlsPolicy | None = None) -> CloudSettings:
    return CloudSettings(url, AppCredentials(APP_ID, Secret(APP_KEY)), tls or TlsPolicy())


def simulator(tmp: Path, config: ServiceConfig | None = None, terminals: int = 0) -> StandaloneService:
    service = StandaloneService([App(APP_ID, APP_KEY)], tmp, config=config)
    for index in range(terminals):
        service.api.seed(f"SN{index:04d}", f"room-{index:04d}", "cisco", f"+99111{800000 + index}")
    return service


def client_of(service: StandaloneService, **kw: Any) -> CloudClient:
    return CloudClient(settings(service.url, TlsPolicy(ca_bundle=service.ca_path)), **kw)


class Sleeps:
    """Records the waits; really sleeps only when asked to (a simulator's real window)."""

    def __init__(self, real: bool) -> None:
        self.waits: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


# --- pagination --------------------------------------------------------------------------

def test_pagination_page_number_semantics_against_the_simulator(tmp_path: Path) -> None:
    with simulator(tmp_path, ServiceConfig(max_page=7), terminals=23) as service, client_of(service) as client:
        found = client.terminals(page_size=10)  # the service caps the page at 7
        assert sorted(t.sn for t in found) == [f"SN{i:04d}" for i in range(23)]
        assert client.by_path["/v1/usg/dcs/corp/device"] == 4  # pages 0..3, nothing asked twice


def listing(items: list[str], *, page_number: bool, limit_cap: int = 1000, count: int | None = None,
            ignore_offset: bool = False) -> Any:
    """A respx side effect serving `items` with one meaning of offset; past the end: the last page."""
    def serve(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        limit = min(int(request.url.params.get("limit", "10")), limit_cap)
        offset = 0 if ignore_offset else offset
        start = offset * limit if page_number else offset
        last = max((len(items) - 1) // limit * limit, 0)
        start = min(start, last)
        data = [{"sn": sn, "name": sn, "model": "cisco", "number": "+99111" + sn[-3:]} for sn in
                items[start:start + limit]]
        return httpx.Response(200, json={"offset": offset, "limit": limit,
                                         "count": len(items) if count is None else count, "data": data})
    return serve


@pytest.fixture
def fake_service() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=FAKE, assert_all_called=False) as router:
        router.post("/v2/usg/acs/auth/appauth").respond(200, json={"accessToken": "tok" * 10, "validPeriod": 3600})
        yield router


def items(n: int) -> list[str]:
    return [f"T{i:03d}" for i in range(n)]


@pytest.mark.parametrize("page_number", [True, False])
def test_pagination_either_offset_semantics(fake_service: respx.MockRouter, page_number: bool) -> None:
    route = fake_service.get("/v1/usg/dcs/corp/device").mock(side_effect=listing(items(35), page_number=page_number,
                                                                                 limit_cap=10))
    with CloudClient(settings(FAKE)) as client:
        assert [t.sn for t in client.terminals()] == items(35)
    # page numbers: 0, 1, 2, 3; item offsets: 0, 1 (the probe), 11, 21, 31
    assert route.call_count == (4 if page_number else 5)


def test_pagination_stops_on_a_page_already_seen(fake_service: respx.MockRouter) -> None:
    route = fake_service.get("/v1/usg/dcs/corp/device").mock(
        side_effect=listing(items(10), page_number=True, count=500, ignore_offset=True))
    with CloudClient(settings(FAKE)) as client:
        assert len(client.terminals()) == 10
    assert route.call_count == 2


def test_pagination_stops_on_an_empty_page_when_count_overstates() -> None:
    pages = {0: list(range(5)), 1: list(range(5, 10)), 2: []}
    asked: list[int] = []

    def fetch(offset: int) -> dict[str, Any]:
        asked.append(offset)
        return {"count": 99, "data": [{"sn": str(i)} for i in pages.get(offset, [])]}

    assert len(list(paginate(fetch, key=lambda r: r["sn"]))) == 10
    assert asked == [0, 1, 2]


def test_pagination_stops_when_count_is_reached_without_asking_more() -> None:
    asked: list[int] = []

    def fetch(offset: int) -> dict[str, Any]:
        asked.append(offset)
        return {"count": 3, "data": [{"sn": "a"}, {"sn": "b"}, {"sn": "c"}]}

    assert len(list(paginate(fetch, key=lambda r: r["sn"]))) == 3
    assert asked == [0]


def test_pagination_past_the_end_returning_the_last_page_with_item_offsets(fake_service: respx.MockRouter) -> None:
    # count says 25 but only 22 exist: the offsets past the end get the last page again
    fake_service.get("/v1/usg/dcs/corp/device").mock(side_effect=listing(items(22), page_number=False, limit_cap=10,
                                                                         count=25))
    with CloudClient(settings(FAKE)) as client:
        assert [t.sn for t in client.terminals()] == items(22)


# --- rate limits ---------------------------------------------------------------------------

def test_rate_limit_headers_are_honoured_so_no_429_comes_back(tmp_path: Path) -> None:
    sleeps = Sleeps(real=True)
    config = ServiceConfig(api_limit=(3, 1.0))
    with simulator(tmp_path, config) as service, client_of(service, sleep=sleeps) as client:
        for _ in range(7):
            client.terminals()
        assert service.api.throttled == 0
        assert sleeps.waits and all(0 < w <= 1.0 for w in sleeps.waits)  # paused for the spent window


def test_429_is_backed_off_and_the_request_succeeds(tmp_path: Path) -> None:
    config = ServiceConfig(api_limit=(3, 3.0))  # a window long enough for a busy machine
    with simulator(tmp_path, config) as service:
        with client_of(service) as first:
            for _ in range(3):
                first.terminals()  # the listing's window is now spent; a second client does not know it
        sleeps = Sleeps(real=True)
        with client_of(service, sleep=sleeps) as second:
            second.login()
            assert second.terminals() == []
        assert service.api.throttled >= 1
        assert 0 < sum(sleeps.waits) <= 3.0  # the spent window the 429 named, not a blind back-off


def test_429_back_off_is_bounded(tmp_path: Path) -> None:
    config = ServiceConfig(api_limit=(1, 3600.0))
    sleeps = Sleeps(real=False)
    retry = RetryPolicy(rate_limited_tries=4, first_wait=0.01, max_wait=0.05, max_pause=0.05)
    with simulator(tmp_path, config) as service, client_of(service, sleep=sleeps, retry=retry) as client:
        client.terminals()
        with pytest.raises(CloudRateLimited) as caught:
            client.terminals()
        assert "APIGW.0308" in str(caught.value)
        assert service.api.throttled == 4 and all(w <= 0.05 for w in sleeps.waits)


def test_retry_after_and_a_503_on_a_read(fake_service: respx.MockRouter) -> None:
    fake_service.get("/v1/usg/dcs/termdevtype").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "0.01"}, json={"error_code": "APIGW.0308", "error_msg": "x"}),
        httpx.Response(503, json={"error_code": "USG.1", "error_msg": "busy"}),
        httpx.Response(200, json=[{"type": "3rd", "model": "Cisco"}])])
    sleeps = Sleeps(real=False)
    with CloudClient(settings(FAKE), sleep=sleeps) as client:
        assert [t.model for t in client.device_types()] == ["Cisco"]
    assert sleeps.waits[0] == 0.01


def test_a_write_is_not_retried_after_a_server_failure(fake_service: respx.MockRouter) -> None:
    route = fake_service.post("/v1/usg/dcs/corp/device").respond(502, json={"error_code": "USG.9", "error_msg": "gw"})
    with CloudClient(settings(FAKE), sleep=Sleeps(real=False)) as client:
        with pytest.raises(CloudServerError):
            client.add_terminal(NewTerminal(sn="S1", name="r", model="cisco", email="a@example.com"))
    assert route.call_count == 1


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "kind", "said"), [
    (401, {"error_code": "USG.000000004", "error_msg": "token invalid"}, CloudAuthError, "[USG.000000004] token invalid"),
    (403, {"errorCode": "USG.5", "errorMsg": "no right"}, CloudAuthError, "[USG.5] no right"),
    (404, {"code": "MMC.1", "message": "no such"}, CloudNotFound, "[MMC.1] no such"),
    (400, {"error": {"error_code": "USG.6", "error_msg": "bad sn"}}, CloudRefused, "[USG.6] bad sn"),
    (429, None, CloudRateLimited, "rate limiting"),
    (500, "not json", CloudServerError, "HTTP 500"),
])
def test_the_error_body_becomes_a_clear_message(status: int, body: Any, kind: type, said: str) -> None:
    error = error_for(status, body, what="listing the terminals", request_id="r-1")
    assert isinstance(error, kind) and said in str(error)
    assert str(error).startswith("listing the terminals: ") and "request id r-1" in str(error)


def test_a_refusal_from_the_simulator_carries_its_reason(tmp_path: Path) -> None:
    with simulator(tmp_path) as service, client_of(service) as client:
        with pytest.raises(CloudRefused) as caught:
            client.add_terminal(NewTerminal(sn="S 1", name="r", model="cisco", email="a@example.com"))
        assert "sn must be" in str(caught.value) and "adding terminal S 1" in str(caught.value)


# --- trust -------------------------------------------------------------------------------------

def test_https_trust_ca_bundle_pin_and_refusals(tmp_path: Path) -> None:
    with simulator(tmp_path) as service:
        for policy in (TlsPolicy(ca_bundle=service.ca_path), TlsPolicy(pin=service.fingerprint)):
            with CloudClient(settings(service.url, policy)) as client:
                client.login()
        with CloudClient(settings(service.url, TlsPolicy(pin="0" * 64))) as client:
            with pytest.raises(CloudTLSError) as caught:
                client.login()
            assert "does not match" in str(caught.value) and service.api.total_requests() == 2
        with CloudClient(settings(service.url, TlsPolicy())) as client:  # the system CAs do not know the lab CA
            with pytest.raises(CloudTLSError) as caught:
                client.login()
            assert "cloud.tls_verify" in str(caught.value)
        assert service.api.total_requests() == 2  # no byte of a request went to an unverified peer


def test_plain_http_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        CloudClient(settings("http://cloud.test"))
    assert "cloud.api" in str(caught.value)


def test_rooms_must_agree_on_the_service(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "all:\n  vars:\n    cloud:\n      app_id: one\n      app_key: k\n  hosts:\n"
        "    room-a:\n      address: 10.0.0.1\n      model: SX20\n"
        "    room-b:\n      address: 10.0.0.2\n      model: SX20\n      cloud:\n        app_id: two\n",
        encoding="utf-8")
    hosts = list(load_inventory(inventory).hosts.values())
    with pytest.raises(InputError) as caught:
        cloud_settings(hosts)
    assert caught.value.key == "cloud.app_id" and "room-a" in str(caught.value) and "room-b" in str(caught.value)
    assert str(inventory) in str(caught.value)
    assert cloud_settings(hosts[:1]).credentials.app_id == "one"


# --- userstatus in batches ------------------------------------------------------------------------

def test_userstatus_in_batches_of_100_counts_requests(tmp_path: Path) -> None:
    with simulator(tmp_path, terminals=250) as service, client_of(service) as client:
        numbers = [f"+99111{800000 + i}" for i in range(250)] + ["+99111999999"]
        seen = service_registrations(client, numbers)
        assert client.by_path["/v1/usg/acs/ap/userstatus"] == 3 and client.requests == 4  # + 1 login
        assert all(seen[n].state == "unregistered" for n in numbers)
        assert "not know +99111999999 as a hard terminal" in seen["+99111999999"].detail
        client.requests = 0
        service_registrations(client, numbers[:100])
        assert client.requests == 1  # per 100 rooms: one request once logged in (two with the login)


def test_a_refused_batch_is_halved(tmp_path: Path) -> None:
    with simulator(tmp_path, ServiceConfig(status_batch_max=30), terminals=100) as service, \
            client_of(service) as client:
        seen = service_registrations(client, [f"+99111{800000 + i}" for i in range(100)])
        assert len(seen) == 100 and {r.state for r in seen.values()} == {"unregistered"}
        assert client.by_path["/v1/usg/acs/ap/userstatus"] == 7  # 100 -> 2 x 50 -> 4 x 25


def test_userstatus_faults_make_unknown_not_exceptions(fake_service: respx.MockRouter) -> None:
    fake_service.post("/v1/usg/acs/ap/userstatus").mock(side_effect=[
        httpx.Response(200, json=[{"Number": "tel:+991110001", "RegStatus": "0", "CallStatus": "1"},
                                  {"number": "sip:+991110002@huaweicloud.com", "regStatus": 1}]),
        httpx.Response(500, json={"error_code": "USG.X", "error_msg": "boom"})])
    with CloudClient(settings(FAKE), sleep=Sleeps(real=False), retry=RetryPolicy(read_retries=0)) as client:
        seen = service_registrations(client, ["+991110001", "+991110002", "+991110003", "+991110004"], batch=3)
    assert seen["+991110001"].state == "registered"
    assert seen["+991110002"].state == "unregistered"
    assert seen["+991110003"].state == "unknown" and "did not report" in seen["+991110003"].detail
    assert seen["+991110004"].state == "unknown" and "USG.X" in seen["+991110004"].detail
