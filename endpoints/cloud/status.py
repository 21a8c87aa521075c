"""Registration as the service sees it: `userstatus` by number, in batches (`--cloud`).

`POST /v1/usg/acs/ap/userstatus` takes a JSON array of numbers and answers
`[{"Number": "tel:+99111...", "RegStatus": "0", "CallStatus": "1"}]` (RegStatus "0"
registered, "1" not; CallStatus "3": not a hard terminal). The notes give no batch size
for it (UNSURE): 100 numbers per request, the documented maximum of the sibling batch
APIs (BatchDeleteDevices takes 1-100 SNs); a batch the service refuses (400) is halved.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from endpoints.cloud.client import CloudClient
from endpoints.cloud.errors import CloudAuthError, CloudError, CloudRefused

STATUS_BATCH = 100
ServiceState = Literal["registered", "unregistered", "unknown"]
_CALL = {"0": "offline", "1": "idle", "2": "in a call", "3": "not a hard terminal"}


@dataclass(frozen=True)
class ServiceRegistration:
    state: ServiceState
    detail: str = ""

    def to_json(self, number: str) -> dict[str, Any]:
        """The run report's `service` field."""
        return {"state": self.state, "number": number}


def normalise_number(text: str) -> str:
    """`tel:+99111...`, `sip:+99111...@huaweicloud.com`, `+99111...` -> `+99111...`."""
    text = text.strip()
    for prefix in ("tel:", "sip:", "sips:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return text.split("@", 1)[0].replace(" ", "")


def service_registrations(client: CloudClient, numbers: Iterable[str], *,
                          batch: int = STATUS_BATCH) -> dict[str, ServiceRegistration]:
    """Each number (as given) -> what the service says; never raises for the service's faults.

    A refused login stops the asking (every later batch would be refused too); any other
    fault makes that batch `unknown` with the reason."""
    given = [n for n in dict.fromkeys(numbers) if n]
    by_key: dict[str, list[str]] = {}
    for number in given:
        by_key.setdefault(normalise_number(number), []).append(number)
    keys = list(by_key)
    answers: dict[str, ServiceRegistration] = {}
    stopped: str | None = None
    for start in range(0, len(keys), batch):
        chunk = keys[start:start + batch]
        if stopped is not None:
            answers.update({k: ServiceRegistration("unknown", stopped) for k in chunk})
            continue
        try:
            answers.update(_ask(client, chunk))
        except CloudAuthError as exc:
            stopped = f"the service could not be asked: {exc}"
            answers.update({k: ServiceRegistration("unknown", stopped) for k in chunk})
        except CloudError as exc:
            answers.update({k: ServiceRegistration("unknown", f"the service could not be asked: {exc}")
                            for k in chunk})
    missing = ServiceRegistration("unknown", "the service did not report this number")
    return {number: answers.get(key, missing) for key, numbers_ in by_key.items() for number in numbers_}


def _ask(client: CloudClient, chunk: Sequence[str]) -> dict[str, ServiceRegistration]:
    try:
        rows = client.user_status(chunk)
    except CloudRefused:
        if len(chunk) == 1:
            raise
        half = len(chunk) // 2
        return {**_ask(client, chunk[:half]), **_ask(client, chunk[half:])}
    wanted = set(chunk)
    found: dict[str, ServiceRegistration] = {}
    for row in rows:
        number, registration = _row(row)
        if number in wanted:
            found[number] = registration
    return found


def _field(row: dict[str, Any], *names: str) -> str:
    lowered = {str(k).lower(): v for k, v in row.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return str(value).strip()
    return ""


def _row(row: Any) -> tuple[str, ServiceRegistration]:
    """One answer row; the documented keys are capitalised strings, others are accepted too."""
    if not isinstance(row, dict):
        return "", ServiceRegistration("unknown")
    number = normalise_number(_field(row, "Number"))
    reg, call = _field(row, "RegStatus"), _field(row, "CallStatus")
    call_text = _CALL.get(call, f"CallStatus {call}" if call else "")
    if reg == "0":
        return number, ServiceRegistration("registered", f"registered at the service ({call_text})"
                                           if call_text else "registered at the service")
    if reg == "1":
        if call == "3":
            return number, ServiceRegistration(
                "unregistered", f"the service does not know {number} as a hard terminal of this enterprise "
                                "(see `endpoints cloud terminals`)")
        return number, ServiceRegistration("unregistered", f"the service sees no registration of {number}")
    return number, ServiceRegistration("unknown", f"the service answered RegStatus {reg or 'nothing'!r}")


def service_advice(device_state: str | None, service: ServiceRegistration, number: str) -> str | None:
    """One sentence for a room the service does not see registered, telling the two sides apart."""
    if service.state == "registered":
        return None
    if service.state == "unknown":
        return f"the service could not confirm {number} ({service.detail}); run verify --cloud again later"
    if device_state == "registered":
        return (f"the room says it is registered but the service does not see {number}: the room registered "
                "with a different number or account (compare sip.number with `endpoints cloud terminals`), or "
                "the account's password was changed at the service (put the new one in sip.password and apply)")
    return (f"neither the room nor the service sees {number} registered: fix what the room reports first "
            "(SIP credentials, or the network to the proxy)")
