"""Load an Ansible-style YAML inventory into validated `Host` objects.

Variables merge deep: ``all.vars`` < parent group < child group < host (groups of equal
depth in name order, as Ansible does). Every error names the file, the line and the
dotted key (``all.children.bldg-a.vars.adress``). Secrets stay lazy: nothing is read from
the environment or from secret files here.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, ValidationInfo

from endpoints import yamlfile
from endpoints.errors import InputError
from endpoints.host import CloudVars, Credentials, Host, SipVars, TlsPolicy
from endpoints.secrets import Secret
from endpoints.validation import unknown_key
from endpoints.yamlfile import LineMap as _Map
from endpoints.yamlfile import Vaulted as _Vaulted
from endpoints.yamlfile import WrittenFloat as _Float
from endpoints.yamlfile import WrittenInt as _Int

log = logging.getLogger(__name__)

MODELS = (
    "SX10", "SX20", "SX80",
    "Group 310", "Group 500", "Group 550", "Group 700",
    "HDX 4500", "HDX 6000", "HDX 7000", "HDX 8000", "HDX 9000",
)
FAMILY_TRANSPORTS = {
    "SX": ("http", "https", "ssh"),
    "Group": ("rest", "ssh", "telnet"),
    "HDX": ("telnet", "http"),
}
TRANSPORTS = ("http", "https", "ssh", "rest", "telnet")
HOST_KEY_POLICIES = ("strict", "accept-new", "off")
_GROUP_KEYS = ("vars", "hosts", "children")
_MODEL_KEYS = {re.sub(r"[\s_-]", "", m).upper(): m for m in MODELS}
_VAULT_HINT = "ansible-vault values are not supported; write {env: NAME} or {file: PATH}"


@dataclass(frozen=True)
class Inventory:
    hosts: dict[str, Host]  # in the order the file first defines them
    groups: dict[str, set[str]]  # group -> every host in it or in its children; `all`, `ungrouped`
    path: Path


def load_inventory(sources: Path | str | Sequence[Path | str]) -> Inventory:
    """Read, validate and resolve the inventory; raises InputError naming file, line, key."""
    paths = [Path(sources)] if isinstance(sources, (str, Path)) else [Path(p) for p in sources]
    if len(paths) != 1:
        raise InputError("give exactly one inventory (-i)")
    path = paths[0]
    parser = _Parser(Path(path))
    parser.parse(_load_yaml(Path(path)))
    return parser.build()


# --- YAML with line numbers: the shared reader ------------------------------------------

def _load_yaml(path: Path) -> Any:
    return yamlfile.load(path, "inventory")


# --- value checks (pydantic) -----------------------------------------------------------


class _Invalid(ValueError):
    """A bad value; pydantic turns ValueError (not TypeError) into a validation error."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {int: "a number", float: "a number", str: "a string", dict: "a mapping", list: "a list"}
    for cls, name in names.items():
        if isinstance(value, cls):
            return name
    return "nothing" if value is None else type(value).__name__.lstrip("_")


def _as_text(value: Any) -> Any:
    """A number written where text is meant keeps its written form."""
    return value.text if isinstance(value, (_Int, _Float)) else value


def _text(value: Any) -> str:
    value = _as_text(value)
    if isinstance(value, _Vaulted):
        raise _Invalid(_VAULT_HINT)
    if not isinstance(value, str):
        raise _Invalid(f"must be a string (got {_kind(value)})")
    return value


def _address(value: Any) -> str:
    text = _text(value).strip()
    if not text or any(c.isspace() for c in text):
        raise _Invalid(f"address {text!r} is not an IP address or DNS name")
    return text


def _model(value: Any) -> str:
    text = _text(value)
    canonical = _MODEL_KEYS.get(re.sub(r"[\s_-]", "", text).upper())
    if canonical is None:
        raise _Invalid(f"unknown model {text!r}; known models: {', '.join(MODELS)}")
    return canonical


def _transport(value: Any) -> str:
    text = _text(value).strip().lower()
    if text not in TRANSPORTS:
        raise _Invalid(f"unknown transport {_text(value)!r}; one of {', '.join(TRANSPORTS)}")
    return text


def _port(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"a port must be a number 1..65535 (got {_kind(value)})")
    if not 1 <= value <= 65535:
        raise _Invalid(f"port {int(value)} is out of range 1..65535")
    return int(value)


def _base(info: ValidationInfo) -> Path:
    return info.context["base"] if info.context else Path()


def _resolve(text: str, base: Path) -> Path:
    """Relative paths are relative to the inventory file, like Ansible's."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _tls(value: Any, info: ValidationInfo) -> TlsPolicy:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if isinstance(value, bool):
        return TlsPolicy(verify=value)
    if not isinstance(value, str):
        raise _Invalid(f"must be true, false, a CA bundle path or sha256:<fingerprint> (got {_kind(value)})")
    text = value.strip()
    if text.lower().startswith("sha256:"):
        pin = text[len("sha256:"):].replace(":", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", pin):
            raise _Invalid("a sha256 pin needs 64 hex digits (colons optional)")
        return TlsPolicy(pin=pin)
    bundle = _resolve(text, _base(info))
    if not bundle.is_file():
        raise _Invalid(
            f"CA bundle {bundle} not found "
            "(tls_verify takes true, false, a CA bundle path or sha256:<fingerprint>)"
        )
    return TlsPolicy(ca_bundle=bundle)


def _host_key(value: Any) -> str:
    if value is False:  # YAML 1.1 reads a bare `off` as false
        value = "off"
    if value not in HOST_KEY_POLICIES or not isinstance(value, str):
        got = repr(value) if isinstance(value, str) else _kind(value)
        raise _Invalid(f"ssh_host_key must be one of {', '.join(HOST_KEY_POLICIES)} (got {got})")
    return value


def _path(value: Any, info: ValidationInfo) -> Path:
    return _resolve(_text(value), _base(info))


def _plain(value: Any) -> Any:
    if isinstance(value, _Vaulted):
        raise _Invalid(_VAULT_HINT)
    if isinstance(value, _Int):
        return int(value)
    if isinstance(value, _Float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(_as_text(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _free_mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"must be a mapping (got {_kind(value)})")
    return _plain(value)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _SecretSpec:
    """A validated secret reference; the literal stays out of every repr."""

    kind: Literal["literal", "env", "file"]
    value: str = field(repr=False)


def _secret(value: Any) -> _SecretSpec:
    value = _as_text(value)
    if isinstance(value, str):
        return _SecretSpec("literal", value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, ref),) = value.items()
        ref = _as_text(ref)
        if kind in ("env", "file") and isinstance(ref, str) and ref:
            return _SecretSpec(kind, ref)
    if isinstance(value, _Vaulted):
        raise _Invalid(_VAULT_HINT)
    got = f"a mapping with keys {', '.join(map(str, value))}" if isinstance(value, Mapping) else _kind(value)
    raise _Invalid(f"a secret must be a string, {{env: NAME}} or {{file: PATH}} (got {got})")


Text = Annotated[Any, PlainValidator(_text)]
SecretIn = Annotated[Any, PlainValidator(_secret)]
Port = Annotated[Any, PlainValidator(_port)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PortsIn(_Strict):
    http: Port | None = None
    https: Port | None = None
    ssh: Port | None = None
    telnet: Port | None = None


class _CredentialsIn(_Strict):
    username: Text | None = None
    password: SecretIn | None = None


class _SipIn(_Strict):
    number: Text | None = None
    domain: Text | None = None
    uri: Text | None = None
    auth_username: Text | None = None
    password: SecretIn | None = None
    display_name: Text | None = None
    registrar: Text | None = None
    proxy: Text | None = None
    transport: Text | None = None


class _CloudIn(_Strict):
    api: Text | None = None
    app_id: Text | None = None
    app_key: SecretIn | None = None
    corp_id: Text | None = None
    user_id: Text | None = None
    tls_verify: Annotated[Any, PlainValidator(_tls)] | None = None
    terminal_name: Text | None = None
    notify_email: Text | None = None
    notify_phone: Text | None = None
    dept_code: Text | None = None


class _HostIn(_Strict):
    address: Annotated[Any, PlainValidator(_address)] | None = None
    model: Annotated[Any, PlainValidator(_model)] | None = None
    transport: Annotated[Any, PlainValidator(_transport)] | None = None
    ports: _PortsIn | None = None
    device_credentials: _CredentialsIn | None = None
    sip: _SipIn | None = None
    tls_verify: Annotated[Any, PlainValidator(_tls)] | None = None
    profile: Text | None = None
    serial: Text | None = None
    ssh_host_key: Annotated[Any, PlainValidator(_host_key)] | None = None
    known_hosts: Annotated[Any, PlainValidator(_path)] | None = None
    profile_vars: Annotated[Any, PlainValidator(_free_mapping)] | None = None
    cloud: _CloudIn | None = None
    ansible_host: Annotated[Any, PlainValidator(_address)] | None = None
    ansible_user: Text | None = None
    ansible_password: SecretIn | None = None


_NESTED: dict[str, type[BaseModel]] = {
    "ports": _PortsIn,
    "device_credentials": _CredentialsIn,
    "sip": _SipIn,
    "cloud": _CloudIn,
}


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error in operator words; never the offending value (it may be a secret)."""
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}'"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (got {_kind(error['input'])})"
    message = str(error["msg"])
    return f"{message[:1].lower()}{message[1:]} (got {_kind(error['input'])})"


# --- groups, hosts and the merge -------------------------------------------------------


@dataclass
class _Source:
    """One mapping of variables and the dotted key where it is written."""

    values: _Map
    path: str


@dataclass
class _Group:
    vars: list[_Source] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    children: dict[str, tuple[int, str]] = field(default_factory=dict)  # child -> line, key
    parents: set[str] = field(default_factory=set)


@dataclass
class _HostDef:
    line: int
    path: str
    sources: list[_Source] = field(default_factory=list)


Where = dict[tuple[Any, ...], tuple[int, str]]


def _merge(sources: Iterable[_Source]) -> tuple[dict[Any, Any], Where]:
    values: dict[Any, Any] = {}
    where: Where = {}
    for source in sources:
        _merge_into(values, source.values, (), source.path, where)
    return values, where


def _merge_into(dest: dict[Any, Any], src: _Map, loc: tuple[Any, ...], path: str, where: Where) -> None:
    for key, value in src.items():
        here, key_path = (*loc, key), f"{path}.{key}"
        deep = isinstance(value, _Map) and isinstance(dest.get(key), dict)
        if not deep:
            for stale in [k for k in where if k[: len(here)] == here]:
                del where[stale]
            dest[key] = {} if isinstance(value, _Map) else value
        where[here] = (src.key_lines[key], key_path)
        if isinstance(value, _Map):
            _merge_into(dest[key], value, here, key_path, where)


class _Parser:
    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.base = path.absolute().parent
        self.groups: dict[str, _Group] = {}
        self.hosts: dict[str, _HostDef] = {}

    def error(self, message: str, line: int | None, key: str = "") -> InputError:
        return InputError(message, file=self.file, line=line, key=key)

    # walking the document

    def parse(self, root: Any) -> None:
        if root is None:
            raise self.error("the inventory is empty; it needs a top-level 'all' group", None)
        if not isinstance(root, _Map):
            message = f"the inventory must be a mapping with a top-level 'all' group (got {_kind(root)})"
            raise self.error(message, 1)
        if "all" not in root:
            raise self.error("no top-level 'all' group", root.line)
        self.groups["all"] = _Group()
        for name, body in root.items():
            # Ansible reads other top-level keys as groups under `all`
            self.group(self.name(name, root), body, root.key_lines[name], str(name), "all")

    def name(self, key: Any, where: _Map) -> str:
        if not isinstance(key, (str, int)) or isinstance(key, bool) or key == "":
            raise self.error(f"'{key}' is not a usable name", where.key_lines[key], str(key))
        return str(_as_text(key))

    def group(self, name: str, body: Any, line: int, path: str, parent: str) -> None:
        group = self.groups.setdefault(name, _Group())
        if name != "all":
            group.parents.add(parent)
            self.groups[parent].children.setdefault(name, (line, path))
        if body is None:
            return
        if not isinstance(body, _Map):
            message = f"group '{name}' must be a mapping of vars, hosts and children (got {_kind(body)})"
            raise self.error(message, line, path)
        for key, value in body.items():
            self.group_entry(name, key, value, body.key_lines[key], f"{path}.{key}")

    def group_entry(self, name: str, key: Any, value: Any, line: int, path: str) -> None:
        if key not in _GROUP_KEYS:
            raise self.error(unknown_key(key, _GROUP_KEYS), line, path)
        if value is None:
            return
        if not isinstance(value, _Map):
            raise self.error(f"'{key}' of group '{name}' must be a mapping (got {_kind(value)})", line, path)
        if key == "vars":
            self.check_keys(value, path, _HostIn)
            self.groups[name].vars.append(_Source(value, path))
            return
        for member, body in value.items():
            line, member_path = value.key_lines[member], f"{path}.{member}"
            if key == "hosts":
                self.host(name, self.name(member, value), body, line, member_path)
            else:
                self.group(self.name(member, value), body, line, member_path, name)

    def host(self, group: str, name: str, body: Any, line: int, path: str) -> None:
        if body is not None and not isinstance(body, _Map):
            raise self.error(f"host '{name}' must be a mapping of variables (got {_kind(body)})", line, path)
        definition = self.hosts.setdefault(name, _HostDef(line, path))
        if body is not None:
            self.check_keys(body, path, _HostIn)
            definition.sources.append(_Source(body, path))
        self.groups[group].hosts.append(name)

    def check_keys(self, values: _Map, path: str, model: type[BaseModel]) -> None:
        """Catch typos where they are written, even in groups without hosts."""
        for key, value in values.items():
            if model is _HostIn and isinstance(key, str) and key.startswith("ansible_"):
                continue
            if key not in model.model_fields:
                line = values.key_lines[key]
                raise self.error(unknown_key(key, model.model_fields), line, f"{path}.{key}")
            nested = _NESTED.get(key) if model is _HostIn else None
            if nested is not None and isinstance(value, _Map):
                self.check_keys(value, f"{path}.{key}", nested)

    # groups after the walk

    def check_cycles(
        self, name: str = "all", stack: tuple[str, ...] = (), done: set[str] | None = None
    ) -> None:
        done = set() if done is None else done  # each group's subtree is checked once
        for child, (line, path) in self.groups[name].children.items():
            if child in (*stack, name):
                chain = " -> ".join((*stack, name, child))
                raise self.error(f"group '{child}' contains itself ({chain})", line, path)
            if child not in done:
                self.check_cycles(child, (*stack, name), done)
        done.add(name)

    def depths(self) -> dict[str, int]:
        depth: dict[str, int] = {"all": 0}

        def of(name: str) -> int:
            if name not in depth:
                depth[name] = 1 + max(of(p) for p in self.groups[name].parents)
            return depth[name]

        for name in self.groups:
            of(name)
        return depth

    def members(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}

        def of(name: str) -> set[str]:
            if name not in found:
                group = self.groups[name]
                found[name] = set(group.hosts).union(*(of(c) for c in group.children))
            return found[name]

        for name in self.groups:
            of(name)
        found["all"] = set(self.hosts)
        grouped = set().union(*(m for g, m in found.items() if g not in ("all", "ungrouped")))
        found["ungrouped"] = found.get("ungrouped", set()) | (set(self.hosts) - grouped)
        return found

    def build(self) -> Inventory:
        self.check_cycles()
        depth = self.depths()
        members = self.members()
        order = sorted(self.groups, key=lambda g: (depth[g], g))
        hosts = {}
        for name, definition in self.hosts.items():
            in_order = [g for g in order if name in members[g]]
            names = tuple(sorted(g for g, m in members.items() if name in m and g != "all"))
            hosts[name] = self.make_host(name, definition, in_order, names)
        names_in_order = ["all", *(g for g in self.groups if g not in ("all", "ungrouped")), "ungrouped"]
        return Inventory(hosts=hosts, groups={g: members[g] for g in names_in_order}, path=Path(self.file))

    # one host

    def make_host(self, name: str, definition: _HostDef, groups: list[str], names: tuple[str, ...]) -> Host:
        sources = [s for g in groups for s in self.groups[g].vars] + definition.sources
        values, where = _merge(sources)
        values = {k: v for k, v in values.items() if not _ignored(k)}
        checked = _HostChecker(self, name, definition, where)
        spec = checked.validate(values)
        return Host(
            name=name,
            address=checked.address(spec),
            model=spec.model,
            transport=checked.transport(spec),
            ports=_ports(spec.ports),
            device_credentials=checked.credentials(spec),
            sip=checked.sip(spec.sip or _SipIn()),
            tls=spec.tls_verify or TlsPolicy(),
            profile=spec.profile,
            serial=spec.serial,
            ssh_host_key=spec.ssh_host_key or "strict",
            known_hosts=spec.known_hosts,
            profile_vars=spec.profile_vars or {},
            groups=names,
            source=f"{self.file}:{definition.line}",
            cloud=checked.cloud(spec.cloud or _CloudIn()),
        )


def _ports(spec: _PortsIn | None) -> dict[str, int]:
    given = {k: getattr(spec, k) for k in _PortsIn.model_fields} if spec else {}
    return {k: v for k, v in given.items() if v is not None}


def _ignored(key: Any) -> bool:
    """Other ansible_* keys (ansible_port, ansible_connection, ...) are Ansible's business."""
    return isinstance(key, str) and key.startswith("ansible_") and key not in _HostIn.model_fields


@dataclass
class _HostChecker:
    """Validation of one host's merged variables, with errors pointing where a value is written."""

    parser: _Parser
    name: str
    definition: _HostDef
    where: Where

    def locate(self, loc: tuple[Any, ...]) -> tuple[int, str]:
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.where:
                line, path = self.where[loc[:n]]
                return line, path + "".join(f".{k}" for k in loc[n:])
        return self.definition.line, self.definition.path

    def error(self, message: str, loc: tuple[Any, ...]) -> InputError:
        line, key = self.locate(loc)
        return self.parser.error(f"host '{self.name}': {message}", line, key)

    def validate(self, values: dict[Any, Any]) -> _HostIn:
        try:
            return _HostIn.model_validate(values, context={"base": self.parser.base})
        except ValidationError as exc:
            first = min(exc.errors(include_url=False), key=lambda e: self.locate(tuple(e["loc"]))[0])
            raise self.error(_describe(first), tuple(first["loc"])) from None

    def address(self, spec: _HostIn) -> str:
        if spec.address and spec.ansible_host and spec.address != spec.ansible_host:
            message = f"address '{spec.address}' and ansible_host '{spec.ansible_host}' differ"
            raise self.error(message, ("address",))
        address = spec.address or spec.ansible_host
        if not address:
            raise self.error("no address (set address or ansible_host)", ())
        return str(address)

    def transport(self, spec: _HostIn) -> str | None:
        if spec.model and spec.transport:
            offered = FAMILY_TRANSPORTS[re.match(r"[A-Za-z]+", spec.model).group()]  # type: ignore[union-attr]
            if spec.transport not in offered:
                choices = ", ".join(offered)
                message = f"{spec.model} does not offer transport '{spec.transport}'; use one of {choices}"
                raise self.error(message, ("transport",))
        return spec.transport

    def secret(self, spec: _SecretSpec | None, loc: tuple[Any, ...]) -> Secret | None:
        if spec is None:
            return None
        line, _ = self.locate(loc)
        origin = f"{self.parser.file}:{line}: "
        if spec.kind == "env":
            return Secret(env=spec.value, origin=origin)
        if spec.kind == "file":
            return Secret(file=_resolve(spec.value, self.parser.base), origin=origin)
        return Secret(spec.value, origin=origin)

    def credentials(self, spec: _HostIn) -> Credentials:
        given = spec.device_credentials or _CredentialsIn()
        password = self.secret(given.password, ("device_credentials", "password"))
        if password is None:
            password = self.secret(spec.ansible_password, ("ansible_password",))
        username = given.username if given.username is not None else spec.ansible_user
        return Credentials(password=password) if username is None else Credentials(username, password)

    def cloud(self, spec: _CloudIn) -> CloudVars:
        plain = {k: getattr(spec, k) for k in _CloudIn.model_fields if k not in ("app_key", "tls_verify")}
        return CloudVars(**plain, app_key=self.secret(spec.app_key, ("cloud", "app_key")),
                         tls=spec.tls_verify or TlsPolicy())

    def sip(self, spec: _SipIn) -> SipVars:
        plain = {k: getattr(spec, k) for k in _SipIn.model_fields if k != "password"}
        return SipVars(**plain, password=self.secret(spec.password, ("sip", "password")))
