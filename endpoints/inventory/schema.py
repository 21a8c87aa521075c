"""The keys this tool reads from a host's variables, their checks, and the typo rule.

A host's variables are of three kinds:
- the tool's keys (`address`, `model`, `sip`, …, the tables in CONTRACT.md), validated here;
- the Ansible connection keys the tool reads (`ansible_host`, `ansible_port`, `ansible_user`,
  `ansible_password`, `ansible_ssh_pass`, and their `ansible_ssh_*` forms);
- everything else (other `ansible_*`, `location`, `asset_tag`, …): free variables, kept for
  operator profiles as `{vars.NAME}`.
A key that is not the tool's but looks like a typo of one (`validation.likely_typo`) is an
error where it is written, even in a group without hosts; inside the tool's own mappings
(`sip`, `ports`, `device_credentials`, `cloud`) every unknown key is an error.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationInfo

from endpoints import support
from endpoints.host import TlsPolicy
from endpoints.inventory.tree import Layer
from endpoints.validation import likely_typo, unknown_key
from endpoints.yamlfile import LineMap, Vaulted, WrittenFloat, WrittenInt, unusable

HOST_KEY_POLICIES = ("strict", "accept-new", "off")
HASH_KEY = "endpoints_hash_behaviour"  # `merge`: deep-merge mappings; `replace` (default): as Ansible
GROUP_KEYS = ("vars", "hosts", "children")
# Ansible's connection keys the tool reads. Of each list the last one set wins, as in
# Ansible's ssh and network_cli connections (ansible_ssh_pass over ansible_password).
ADDRESS_KEYS = ("ansible_host", "ansible_ssh_host")
PORT_KEYS = ("ansible_port", "ansible_ssh_port")
USER_KEYS = ("ansible_user", "ansible_ssh_user")
PASSWORD_KEYS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
CONNECTION_KEYS = ADDRESS_KEYS + PORT_KEYS + USER_KEYS + PASSWORD_KEYS
_SECRET_NAME = re.compile(r"pass|secret|token", re.IGNORECASE)  # a free variable kept as a Secret


def secret_named(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


# --- value checks (pydantic) -----------------------------------------------------------


class Invalid(ValueError):
    """A bad value; pydantic turns ValueError (not TypeError) into a validation error."""


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {int: "a number", float: "a number", str: "a string", dict: "a mapping", list: "a list"}
    for cls, name in names.items():
        if isinstance(value, cls):
            return name
    if isinstance(value, Vaulted):
        return "a vault value"
    return "nothing" if value is None else type(value).__name__.lstrip("_")


def as_text(value: Any) -> Any:
    """A number written where text is meant keeps its written form."""
    return value.text if isinstance(value, (WrittenInt, WrittenFloat)) else value


def _text(value: Any) -> str:
    value = as_text(value)
    if not isinstance(value, str):
        raise Invalid(f"must be a string (got {kind(value)})")
    return str(value)


def _address(value: Any) -> str:
    text = _text(value).strip()
    if not text or any(c.isspace() for c in text):
        raise Invalid(f"address {text!r} is not an IP address or DNS name")
    return text


def _model(value: Any) -> str:
    text = _text(value)
    canonical = support.canonical_model(text)
    if canonical is None:
        raise Invalid(f"unknown model {text!r}; known models: {', '.join(support.MODELS)}")
    return canonical


def _transport(value: Any) -> str:
    text = _text(value).strip().lower()
    if text not in support.TRANSPORTS:
        raise Invalid(f"unknown transport {_text(value)!r}; one of {', '.join(support.TRANSPORTS)}")
    return text


def port(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"a port must be a number 1..65535 (got {kind(value)})")
    if not 1 <= value <= 65535:
        raise Invalid(f"port {int(value)} is out of range 1..65535")
    return int(value)


def _base(info: ValidationInfo, *key: str) -> Path:
    """The folder a relative path written at `key` is relative to (where its value is written)."""
    bases = info.context.get("bases", {}) if info.context else {}
    return Path(bases.get(key, Path()))


def resolve(text: str, base: Path) -> Path:
    """Relative paths are relative to the inventory file, like Ansible's."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _host_tls(value: Any, info: ValidationInfo) -> TlsPolicy:
    return _tls(value, _base(info, "tls_verify"))


def _cloud_tls(value: Any, info: ValidationInfo) -> TlsPolicy:
    return _tls(value, _base(info, "cloud", "tls_verify"))


def _tls(value: Any, base: Path) -> TlsPolicy:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if isinstance(value, bool):
        return TlsPolicy(verify=value)
    if not isinstance(value, str):
        raise Invalid(f"must be true, false, a CA bundle path or sha256:<fingerprint> (got {kind(value)})")
    text = value.strip()
    if text.lower().startswith("sha256:"):
        pin = text[len("sha256:"):].replace(":", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", pin):
            raise Invalid("a sha256 pin needs 64 hex digits (colons optional)")
        return TlsPolicy(pin=pin)
    bundle = resolve(text, base)
    if not bundle.is_file():
        raise Invalid(
            f"CA bundle {bundle} not found "
            "(tls_verify takes true, false, a CA bundle path or sha256:<fingerprint>)"
        )
    return TlsPolicy(ca_bundle=bundle)


def _host_key(value: Any) -> str:
    if value is False:  # YAML 1.1 reads a bare `off` as false
        value = "off"
    if value not in HOST_KEY_POLICIES or not isinstance(value, str):
        got = repr(value) if isinstance(value, str) else kind(value)
        raise Invalid(f"ssh_host_key must be one of {', '.join(HOST_KEY_POLICIES)} (got {got})")
    return str(value)


def _known_hosts(value: Any, info: ValidationInfo) -> Path:
    return resolve(_text(value), _base(info, "known_hosts"))


def plain(value: Any) -> Any:
    """Loaded YAML as plain Python values (numbers as numbers)."""
    if isinstance(value, WrittenInt):
        return int(value)
    if isinstance(value, WrittenFloat):
        return float(value)
    if isinstance(value, Mapping):
        return {str(as_text(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _free_mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(f"must be a mapping (got {kind(value)})")
    return plain(value)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SecretSpec:
    """A validated secret reference; the literal stays out of every repr."""

    kind: Literal["literal", "env", "file"]
    value: str = field(repr=False)


def secret(value: Any) -> SecretSpec:
    value = as_text(value)
    if isinstance(value, str):
        return SecretSpec("literal", str(value))
    if isinstance(value, Mapping) and len(value) == 1:
        ((how, ref),) = value.items()
        ref = as_text(ref)
        if how in ("env", "file") and isinstance(ref, str) and ref:
            return SecretSpec(how, str(ref))
    got = f"a mapping with keys {', '.join(map(str, value))}" if isinstance(value, Mapping) else kind(value)
    raise Invalid(f"a secret must be a string, {{env: NAME}} or {{file: PATH}} (got {got})")


Text = Annotated[Any, PlainValidator(_text)]
SecretIn = Annotated[Any, PlainValidator(secret)]
Port = Annotated[Any, PlainValidator(port)]
text = _text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortsIn(_Strict):
    http: Port | None = None
    https: Port | None = None
    ssh: Port | None = None
    telnet: Port | None = None


class CredentialsIn(_Strict):
    username: Text | None = None
    password: SecretIn | None = None


class SipIn(_Strict):
    number: Text | None = None
    domain: Text | None = None
    uri: Text | None = None
    auth_username: Text | None = None
    password: SecretIn | None = None
    display_name: Text | None = None
    registrar: Text | None = None
    proxy: Text | None = None
    transport: Text | None = None


class CloudIn(_Strict):
    api: Text | None = None
    app_id: Text | None = None
    app_key: SecretIn | None = None
    corp_id: Text | None = None
    user_id: Text | None = None
    tls_verify: Annotated[Any, PlainValidator(_cloud_tls)] | None = None
    terminal_name: Text | None = None
    notify_email: Text | None = None
    notify_phone: Text | None = None
    dept_code: Text | None = None


class HostIn(_Strict):
    address: Annotated[Any, PlainValidator(_address)] | None = None
    model: Annotated[Any, PlainValidator(_model)] | None = None
    transport: Annotated[Any, PlainValidator(_transport)] | None = None
    ports: PortsIn | None = None
    device_credentials: CredentialsIn | None = None
    sip: SipIn | None = None
    tls_verify: Annotated[Any, PlainValidator(_host_tls)] | None = None
    profile: Text | None = None
    serial: Text | None = None
    ssh_host_key: Annotated[Any, PlainValidator(_host_key)] | None = None
    known_hosts: Annotated[Any, PlainValidator(_known_hosts)] | None = None
    profile_vars: Annotated[Any, PlainValidator(_free_mapping)] | None = None
    cloud: CloudIn | None = None


ADDRESS_VALIDATOR = _address
NESTED: dict[str, type[BaseModel]] = {
    "ports": PortsIn,
    "device_credentials": CredentialsIn,
    "sip": SipIn,
    "cloud": CloudIn,
}
TOOL_KEYS = tuple(HostIn.model_fields)
_TYPO_TARGETS = (*TOOL_KEYS, HASH_KEY)


def describe(error: Mapping[str, Any]) -> str:
    """One pydantic error in operator words; never the offending value (it may be a secret)."""
    what = error["type"]
    if what == "value_error":
        return str(error["ctx"]["error"])
    if what == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}'"
    if what in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (got {kind(error['input'])})"
    message = str(error["msg"])
    return f"{message[:1].lower()}{message[1:]} (got {kind(error['input'])})"


# --- where keys are written: the typo rule ---------------------------------------------


def check_layer(layer: Layer, *, host: bool = False) -> None:
    """Refuse typos of the tool's keys where they are written; raises InputError there."""
    for key, value in layer.values.items():
        name = str(as_text(key))
        if name in NESTED:
            _check_nested(layer, name, value)
        elif name in TOOL_KEYS or name == HASH_KEY or name.startswith("ansible_"):
            continue
        elif host and name in GROUP_KEYS:
            raise layer.at(key).error(f"'{name}' is a host variable here: is this entry indented one level "
                                      "too deep, or meant for the group?")
        elif "." in name and name.partition(".")[0] in NESTED:
            head, _, rest = name.partition(".")
            raise layer.at(key).error(f"'{name}' is one variable, not '{rest}' inside '{head}': write it as "
                                      f"{head}: {{{rest}: …}} (in INI: in host_vars/ or group_vars/ YAML)")
        else:
            typo = likely_typo(name, _TYPO_TARGETS)
            if typo is not None:
                raise layer.at(key).error(f"unknown key '{name}' (did you mean '{typo}'?)")


def _check_nested(layer: Layer, name: str, value: Any) -> None:
    if not isinstance(value, LineMap):
        return  # its type is checked where a host uses it
    fields = NESTED[name].model_fields
    for sub in value:
        if sub not in fields:
            raise layer.at(name, sub).error(unknown_key(sub, fields))


def first_unusable(value: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str] | None:
    """The first value (by path) that holds Jinja or a vault, with the reason; None when all are usable."""
    reason = unusable(value)
    if reason is not None:
        return path, reason
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = first_unusable(item, (*path, key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = first_unusable(item, (*path, index))
            if found:
                return found
    return None
