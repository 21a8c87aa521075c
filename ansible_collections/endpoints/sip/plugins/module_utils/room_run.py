# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""What `endpoints.sip.room` and `endpoints.sip.facts` share: the room's options, the room
built by the `endpoints` inventory loader, and one run of one task over it.

The modules hold no rule of their own about what a valid room is. Their options are
written out as a one-host inventory (secrets in 0600 files of a private folder, never on a
command line) and read back by `endpoints.inventory.load_inventory`, so a playbook and the
command line accept and refuse exactly the same rooms; the loader's "file:line key" errors
are told back in option words. The run goes through `endpoints.app.prepare` and
`endpoints.app.run_rooms`, with the same memory of refused passwords the command line
keeps (lock safety holds across Ansible runs and CLI runs alike).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENDPOINTS_IMPORT_ERROR: str | None
try:
    import yaml

    from endpoints import app
    from endpoints.core.options import Options
    from endpoints.core.processor import HistoryProcessor, Processor, Processors
    from endpoints.errors import InputError
    from endpoints.host import Host
    from endpoints.inventory import load_inventory
    from endpoints.profiles import ProfileSet
    from endpoints.results import HostResult
    from endpoints.secrets import MASK, redact
    from endpoints.state import Memory, state_dir
    from endpoints.tasks import TASKS
except ImportError:
    ENDPOINTS_IMPORT_ERROR = traceback.format_exc()
else:
    ENDPOINTS_IMPORT_ERROR = None

DISTRIBUTION = "endpoints-sip"  # what pip installs; the import package is `endpoints`

# --- the options -------------------------------------------------------------------------

_SECRET: dict[str, Any] = {"type": "raw", "no_log": True}  # a string, {env: NAME} or {file: PATH}

CONNECTION_SPEC: dict[str, Any] = {
    "name": {"type": "str"},  # the collection's action plugin fills in inventory_hostname
    "address": {"type": "str", "required": True},
    "model": {"type": "str"},
    "transport": {"type": "str"},
    "ports": {"type": "dict", "options": {p: {"type": "int"} for p in ("http", "https", "ssh", "telnet")}},
    "device_credentials": {"type": "dict", "options": {"username": {"type": "str"}, "password": _SECRET}},
    "tls_verify": {"type": "raw"},  # true, false, a CA bundle path or sha256:<fingerprint>: the loader decides
    "ssh_host_key": {"type": "raw"},  # strict, accept-new, off (YAML reads a bare off as false)
    "known_hosts": {"type": "path"},
    "serial": {"type": "str"},
    "profile": {"type": "str"},
    "state_dir": {"type": "path"},
    "run_dir": {"type": "path"},
    "timeout": {"type": "float", "default": 10.0},
}

SIP_SPEC: dict[str, Any] = {
    "type": "dict",
    "options": {
        **{key: {"type": "str"} for key in ("number", "domain", "uri", "auth_username", "display_name",
                                            "registrar", "proxy", "transport")},
        "password": _SECRET,
    },
}

ROOM_SPEC: dict[str, Any] = {
    **CONNECTION_SPEC,
    "sip": SIP_SPEC,
    "verify": {"type": "bool", "default": True},
    "verify_timeout": {"type": "float", "default": 120.0},
    "force_password": {"type": "bool", "default": False, "no_log": False},  # a switch, not a password
}

# the options that are inventory keys, written into the one-host inventory as they are
INVENTORY_KEYS = ("address", "model", "transport", "ports", "device_credentials", "sip", "tls_verify",
                  "ssh_host_key", "known_hosts", "serial", "profile")


class OptionError(Exception):
    """A bad option, in the words of the module's options (`option 'sip.number': ...`)."""


# --- the room, built by the inventory loader -------------------------------------------------

@contextmanager
def room_host(params: Mapping[str, Any], tmpdir: str | None = None) -> Iterator[Host]:
    """The `Host` the inventory loader builds from these options; its private folder (the
    one-host inventory and the secret files) lives as long as the run needs the secrets.
    Bad input, from the loader or from the checks before the device is touched, comes out
    as an OptionError."""
    if not params.get("name"):
        raise OptionError("option 'name' is missing: run the module through its collection "
                          "(endpoints.sip.room), which names the room after inventory_hostname, or set it")
    name = str(params["name"])
    folder = Path(tempfile.mkdtemp(prefix="endpoints-room-", dir=tmpdir))  # mode 0700
    try:
        variables = {key: _written(key, params.get(key), folder) for key in INVENTORY_KEYS}
        variables = {key: value for key, value in variables.items() if value is not None}
        path = folder / "inventory.yaml"
        _private(path, yaml.safe_dump({"all": {"hosts": {name: variables}}}, sort_keys=False))
        try:
            yield load_inventory(path).hosts[name]
        except InputError as error:
            raise OptionError(option_words(error, name, folder)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _written(key: str, value: Any, folder: Path) -> Any:
    """One option as the inventory file holds it: no unset sub-options, secrets in files,
    relative paths made absolute: relative to the module's working directory, which Ansible
    sets to the task's playbook (or role) directory for a local module."""
    if isinstance(value, Mapping) and key in ("ports", "device_credentials", "sip"):
        kept = {k: v for k, v in value.items() if v is not None}
        if "password" in kept:
            kept["password"] = _secret_ref(f"{key}.password", kept["password"], folder)
        return kept or None
    if key == "known_hosts" and isinstance(value, str):
        return os.path.abspath(value)
    if key == "tls_verify" and isinstance(value, str) and _is_bundle(value):
        return os.path.abspath(os.path.expanduser(value))
    return value


def _is_bundle(text: str) -> bool:
    word = text.strip().lower()
    return bool(word) and word not in ("true", "false") and not word.startswith("sha256:")


def _secret_ref(key: str, value: Any, folder: Path) -> Any:
    """A password as a `{file: ...}` of the private folder (never in the inventory text);
    `{env: NAME}` and `{file: PATH}` as the inventory takes them."""
    if isinstance(value, str):
        path = folder / f"secret-{key}"
        _private(path, value)
        return {"file": str(path)}
    if isinstance(value, Mapping) and set(value) == {"file"} and isinstance(value["file"], str):
        return {"file": os.path.abspath(os.path.expanduser(value["file"]))}
    return dict(value) if isinstance(value, Mapping) else value  # the loader says what is wrong with it


def _private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def option_words(error: InputError, name: str, folder: Path) -> str:
    """The loader's or the input check's error as the module's option it is about; the
    private folder's paths never show (they name files that are gone after the task)."""
    key = error.key
    for prefix in (f"all.hosts.{name}.", f"all.hosts.{name}"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    reason = error.reason.removeprefix(f"host '{name}': ")
    reason = re.sub(re.escape(str(folder)) + r"\S*?(:\d+)?: ", "", reason)
    reason = reason.replace(str(folder), "(the module's private folder)")
    return f"option '{key}': {reason}" if key else reason


# --- one run -------------------------------------------------------------------------------

def options_for(command: str, params: Mapping[str, Any], check: bool) -> Options:
    """The run's options, as the command line's defaults would give them (one room: one fork)."""
    given = {key: params[key] for key in ("verify", "verify_timeout", "force_password", "timeout")
             if params.get(key) is not None}
    options = Options(command=command, check=check, forks=1, **given)
    for key in ("verify_timeout", "timeout"):
        if getattr(options, key) <= 0:
            raise OptionError(f"option '{key}': must be a number of seconds above 0")
    return options


def run_room(host: Host, options: Options, params: Mapping[str, Any], warn: Any) -> HostResult:
    """One task over one room, as `endpoints <command>` runs it: checked before the device is
    touched (InputError), with the command line's memory, warnings handed to `warn`."""
    profiles = ProfileSet.load(())
    spec = TASKS[options.command]
    prepared = app.prepare([host], profiles, spec, options)  # InputError: room_host tells it as an option
    folder = state_dir(Path(params["state_dir"]) if params.get("state_dir") else None)
    memory = Memory.open(folder, [folder / "ansible"])
    if spec.writes and not options.check and memory.fresh:
        warn(f"no memory of earlier runs in {memory.folder}: passwords the service refused before cannot be "
             "recognised (give every run the same state_dir, on storage that outlives the job)")
    processors: list[Processor] = [HistoryProcessor(memory.history)]
    record = RunFolder(params.get("run_dir"), options, spec.writes, host)
    processors += record.processors
    try:
        with _captured_warnings(host, warn):
            run = app.run_rooms([host], prepared, profiles, options, memory, Processors(processors))
    finally:
        record.close()
    record.report(run)
    return run.hosts[host.name]


class RunFolder:
    """`run_dir`: the room's run folder, as the command line keeps one (events.jsonl,
    report.json, and backup.json for `endpoints rollback --run`); nothing without it."""

    def __init__(self, run_dir: str | None, options: Options, writes: bool, host: Host) -> None:
        self.host, self.folder, self.events = host, None, None
        self.processors: list[Processor] = []
        if not run_dir:
            return
        from endpoints.events import EventLog, EventLogProcessor, new_run_folder

        self.folder = new_run_folder(Path(run_dir), f"{options.command}-{host.name}", check=options.check)
        self.events = EventLog(self.folder / "events.jsonl", {host.name: host.secrets()})
        self.processors.append(EventLogProcessor(self.events))
        if writes and not options.check:
            from endpoints.backup import BackupProcessor

            self.processors.append(BackupProcessor(self.folder))

    def close(self) -> None:
        if self.events is not None:
            self.events.close()

    def report(self, run: Any) -> None:
        if self.folder is not None:
            import json

            text = json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"
            (self.folder / "report.json").write_text(redact(text, self.host.secrets()), encoding="utf-8")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _captured_warnings(host: Host, warn: Any) -> Iterator[None]:
    """Library warnings become the task's warnings (secrets masked), never stray output
    on the module's stdout, which is its JSON answer."""
    root = logging.getLogger()
    handler = _Collect()
    handler.addFilter(app.RedactingFilter([host]))
    root.addHandler(handler)
    level, library = root.level, logging.getLogger("paramiko")
    library_level = library.level
    root.setLevel(logging.WARNING)
    library.setLevel(logging.CRITICAL + 1)  # its tracebacks of a broken handshake: the room's error says it
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        library.setLevel(library_level)
        for line in handler.lines:
            warn(line)


# --- the answer ----------------------------------------------------------------------------

def answer(result: HostResult, host: Host, *, check: bool) -> dict[str, Any]:
    """The module's return values for a room (secrets masked, twice over). `changed`: the
    room was (check mode: would be) changed; a room that failed after a write was changed."""
    data = result.to_json()
    changed = result.status == "changed" or (not check and bool(result.changes))
    found: dict[str, Any] = {"changed": changed}
    found |= {key: data[key] for key in ("status", "model", "software", "serial", "profile", "transport",
                                        "changes", "registration")}
    if result.advice:
        found["advice"] = result.advice
    if result.restored or result.not_restored:
        found["restored"], found["not_restored"] = data["restored"], data["not_restored"]
    return masked(found, host)


def diff_of(result: HostResult, host: Host) -> dict[str, Any]:
    """`--diff`: the settings before and after, one per line; a password shows only the
    mask and why it is sent (it can never be read back to compare)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for change in result.changes:
        shown = change.to_json()
        before[change.setting] = shown["before"]
        after[change.setting] = f"{MASK} ({change.reason})" if change.secret else shown["after"]
    header = f"{host.name} ({host.address})"
    return masked({"before": before, "after": after, "before_header": header, "after_header": header}, host)


def masked(value: Any, host: Host) -> Any:
    if isinstance(value, str):
        return redact(value, host.secrets())
    if isinstance(value, Mapping):
        return {k: masked(v, host) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, host) for v in value]
    return value


def finish(module: Any, result: HostResult, host: Host, values: dict[str, Any]) -> None:
    """End the task as the room ended: ok/changed exit; failed fails the task; unreachable
    ends it the way Ansible ends an unreachable host (see the modules' notes)."""
    for line in result.warnings:
        module.warn(redact(line, host.secrets()))
    error = redact(result.error or "", host.secrets()).replace("--force-password", "force_password: true")
    if result.status in ("ok", "changed"):
        module.exit_json(**values)
    if result.status == "unreachable":
        module.exit_json(msg=error, unreachable=True, **values)
    module.fail_json(msg=error or f"the room ended {result.status}", **values)
