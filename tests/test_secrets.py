"""Secrets never render: repr, str, format, JSON, pickling, logs, events."""
from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from endpoints.errors import InputError
from endpoints.events import EventLog
from endpoints.results import Change, HostResult, RunResult
from endpoints.secrets import MASK, Secret, SecretError, redact

VALUE = "s3cr3t-Value-42"


def test_a_secret_shows_only_its_source() -> None:
    secret = Secret(VALUE)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!s}", "%s" % secret,  # noqa: UP031
                 json.dumps({"p": secret}, default=str)):
        assert VALUE not in text
    assert repr(Secret(env="X")) == "Secret(env:X)"
    assert secret.reveal() == VALUE


def test_a_secret_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(VALUE))


def test_env_and_file_secrets_resolve_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = Secret(env="ENDPOINTS_TEST_SECRET", origin="inv.yaml:3: ")
    with pytest.raises(SecretError, match="inv.yaml:3: environment variable ENDPOINTS_TEST_SECRET is not set"):
        secret.reveal()
    monkeypatch.setenv("ENDPOINTS_TEST_SECRET", VALUE)
    assert secret.reveal() == VALUE
    path = tmp_path / "pw"
    path.write_text(VALUE + "\n")
    assert Secret(file=path).reveal() == VALUE
    with pytest.raises(SecretError) as caught:
        Secret(file=tmp_path / "missing").reveal()
    assert VALUE not in str(caught.value)


def test_logging_a_secret_shows_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("password is %s", Secret(VALUE))
    assert VALUE not in caplog.text and MASK in caplog.text


def test_redact_masks_values_in_free_text() -> None:
    assert redact(f"login admin/{VALUE} failed", [Secret(VALUE)]) == f"login admin/{MASK} failed"


def test_event_log_and_report_never_carry_a_secret(tmp_path: Path) -> None:
    secret = Secret(VALUE)
    log = EventLog(tmp_path / "events.jsonl", {"room": [secret]})
    log.emit("room", "write", settings={"SIP Authentication Password": secret}, note=f"echo {VALUE}")
    log.close()
    text = (tmp_path / "events.jsonl").read_text()
    assert VALUE not in text and MASK in text
    result = HostResult("room", status="changed", changes=[Change("SIP Authentication Password", None, secret, True)])
    report = json.dumps(RunResult("apply", {"room": result}).to_json())
    assert VALUE not in report and MASK in report


def test_a_secret_in_a_device_error_never_reaches_the_report(tmp_path: Path) -> None:
    from endpoints.core.options import Options
    from endpoints.core.processor import Processors
    from endpoints.core.room import Room, Steps
    from endpoints.core.runner import Runner
    from endpoints.errors import DeviceError
    from endpoints.host import Credentials, Host, SipVars
    from endpoints.profiles import ProfileSet
    from endpoints.state import Memory

    host = Host("room", "127.0.0.1", model="SX20", transport="http",
                device_credentials=Credentials("admin", Secret("device-" + VALUE)),
                sip=SipVars(number="+99111612345", password=Secret(VALUE)))
    room = Room(host, None, ProfileSet.load(), Options("facts"), Memory.open(None, ()), Processors())

    def leaky(room: Room) -> Steps:
        raise DeviceError(f"the device echoed {VALUE} and device-{VALUE}")
        yield 0.0

    assert Runner(1).run([room], leaky, lambda room: None)
    report = json.dumps(room.result.to_json())
    assert room.result.status == "failed"
    assert VALUE not in report and MASK in report


@pytest.mark.parametrize(("content", "message"), [
    (b"", r"is empty \(an empty password is written ''\)"),
    (b"\n", "is empty"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "is not UTF-8 text"),
    (b"$ANSIBLE_VAULT;1.1;AES256\n6162\n", "is encrypted with ansible-vault"),
    (b"x" * (64 * 1024 + 1), "larger than 64 KiB"),
])
def test_a_file_secret_that_cannot_be_a_password_is_an_input_error(tmp_path: Path, content: bytes,
                                                                   message: str) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    with pytest.raises(SecretError, match=message) as caught:
        Secret(file=path, origin="inv.yaml:7", key="sip.password").reveal()
    assert isinstance(caught.value, InputError)
    assert (caught.value.file, caught.value.line, caught.value.key) == ("inv.yaml", 7, "sip.password")


def test_a_secret_error_names_its_place_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINTS_EMPTY", "")
    for secret in (Secret(env="ENDPOINTS_UNSET_X", origin="inv.yaml:3", key="device_credentials.password"),
                   Secret(env="ENDPOINTS_EMPTY", origin="inv.yaml:3", key="device_credentials.password")):
        with pytest.raises(SecretError) as caught:
            secret.reveal()
        text = str(caught.value)
        assert text.startswith("inv.yaml:3: key 'device_credentials.password': environment variable ")
        assert text.count("inv.yaml") == 1


def test_a_device_file_as_a_secret_fails_at_once() -> None:
    with pytest.raises(SecretError, match="larger than 64 KiB"):
        Secret(file="/dev/zero").reveal()
