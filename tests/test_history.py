"""The attempt history that keeps the tool from hammering a number into a lock."""
from __future__ import annotations

import stat
import time
from pathlib import Path

from endpoints.history import Attempt, History


def test_history_survives_a_restart_and_stores_no_password(tmp_path: Path) -> None:
    history = History(tmp_path)
    fingerprint = history.fingerprint("+99111600001", "hunter2-secret")
    history.record("+99111600001", Attempt(time.time(), fingerprint, False, "403 Forbidden"))
    history.record("+99111600002", Attempt(time.time(), fingerprint, True))  # within the second: not yet saved
    history.flush()
    again = History(tmp_path)
    assert again.last("+99111600002") is not None
    last = again.last("+99111600001")
    assert last is not None and last.fingerprint == fingerprint and last.reason == "403 Forbidden"
    assert again.fingerprint("+99111600001", "hunter2-secret") == fingerprint
    assert again.fingerprint("+99111600001", "other") != fingerprint
    for path in tmp_path.iterdir():
        assert b"hunter2-secret" not in path.read_bytes()
    assert stat.S_IMODE((tmp_path / "history.key").stat().st_mode) == 0o600


def test_recent_failures_count_only_the_lock_window(tmp_path: Path) -> None:
    history = History(tmp_path)
    now = time.time()
    for when in (now - 3600, now - 600, now - 60):
        history.record("+1", Attempt(when, "f", False))
    history.record("+1", Attempt(now, "f", True))
    assert history.recent_failures("+1", now) == 2
    assert history.recent_failures("+2", now) == 0


def test_fingerprints_differ_between_installations(tmp_path: Path) -> None:
    one, two = History(tmp_path / "a"), History(tmp_path / "b")
    assert one.fingerprint("+1", "pw") != two.fingerprint("+1", "pw")


def test_only_failures_that_reached_the_service_count_towards_its_lock() -> None:
    from endpoints.advice import counts_towards_lock

    for reason in ("403 Forbidden", "400 Bad Request", "401 Unauthorized", "offline", "down", ""):
        assert counts_towards_lock(reason), reason
    for reason in ("DNS lookup failed", "408 Request Timeout", "404 send failed", "Couldn't connect to server"):
        assert not counts_towards_lock(reason), reason


def _record_one(folder: str, number: str) -> str:
    history = History(Path(folder))
    history.record(number, Attempt(time.time(), history.fingerprint(number, "pw"), False, "403 Forbidden"))
    history.flush()
    return history.fingerprint(number, "pw")


def test_processes_sharing_a_state_folder_keep_every_attempt_and_one_key(tmp_path: Path) -> None:
    """Ansible runs one module process per room, all on one state folder at once: no
    process's refused password may be lost to another's save (it would be sent again)."""
    import multiprocessing

    numbers = [f"+9911160000{i}" for i in range(6)]
    with multiprocessing.get_context("fork").Pool(6) as pool:
        fingerprints = pool.starmap(_record_one, [(str(tmp_path), n) for n in numbers])
    again = History(tmp_path)
    for number, fingerprint in zip(numbers, fingerprints):
        last = again.last(number)
        assert last is not None and last.reason == "403 Forbidden", number
        assert last.fingerprint == fingerprint == again.fingerprint(number, "pw")  # one key for all
    assert not list(tmp_path.glob("*.tmp"))


def test_a_save_keeps_what_another_history_saved_meanwhile(tmp_path: Path) -> None:
    one, two = History(tmp_path), History(tmp_path)
    one.record("+1", Attempt(time.time(), "f1", False, "403 Forbidden"))
    one.flush()
    two.record("+2", Attempt(time.time(), "f2", True))
    two.flush()
    again = History(tmp_path)
    assert again.last("+1") is not None and again.last("+2") is not None
