"""One `Host` from its merged variables, every error pointing at the line where the value is written.

Ansible's connection keys stand in for the tool's own where those are not set: `address`
else `ansible_host` (`ansible_ssh_host`) else the host's own name; `device_credentials`
else `ansible_user`/`ansible_password` (`ansible_ssh_user`, `ansible_ssh_pass`,
`ansible_ssh_password`); `ansible_port` (`ansible_ssh_port`) is the port of the room's
transport. A value the tool would use that holds Jinja or a vault is refused here, before
any device is touched; the same in a key the tool does not read is kept as written.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from endpoints import support
from endpoints.errors import InputError
from endpoints.host import CloudVars, Credentials, Host, SipVars, TlsPolicy
from endpoints.inventory import schema
from endpoints.inventory.merge import Key, Merged
from endpoints.inventory.tree import HostDef, Where
from endpoints.secrets import Secret
from endpoints.yamlfile import unusable


def build(definition: HostDef, merged: Merged, groups: tuple[str, ...]) -> Host:
    """The validated host; `groups` most specific first, without `all`."""
    return _Builder(definition, merged).host(groups)


class _Builder:
    def __init__(self, definition: HostDef, merged: Merged) -> None:
        self.name = definition.name
        self.definition = definition
        self.merged = merged
        self.origins: dict[str, str] = {".".join(map(str, k)): str(o.where) for k, o in merged.origins.items()}

    # where things are written

    def where(self, loc: Key) -> Where:
        for n in range(len(loc), 0, -1):
            origin = self.merged.origins.get(tuple(loc[:n]))
            if origin is not None:
                where = origin.where
                for part in loc[n:]:
                    where = where.child(part, None)
                return where
        return self.definition.where

    def base(self, loc: Key) -> Path:
        for n in range(len(loc), 0, -1):
            origin = self.merged.origins.get(tuple(loc[:n]))
            if origin is not None:
                return origin.base.absolute()
        return Path(self.definition.where.file).parent.absolute()

    def error(self, message: str, loc: Key) -> InputError:
        return self.where(loc).error(f"host '{self.name}': {message}")

    # the host

    def host(self, groups: tuple[str, ...]) -> Host:
        values = self.merged.values
        tool = {k: v for k, v in values.items() if k in schema.TOOL_KEYS}
        connection = {k: v for k, v in values.items() if k in schema.CONNECTION_KEYS and v is not None}
        self.refuse_unusable({k: v for k, v in tool.items() if k != "profile_vars"})
        spec = self.validate(tool)
        model = spec.model
        transport = self.transport(model, spec.transport)
        return Host(
            name=self.name,
            address=self.address(spec.address, connection),
            model=model,
            transport=transport,
            ports=_ports(spec.ports),
            device_credentials=self.credentials(spec.device_credentials or schema.CredentialsIn(), connection),
            sip=self.sip(spec.sip or schema.SipIn()),
            tls=spec.tls_verify or TlsPolicy(),
            profile=spec.profile,
            serial=spec.serial,
            ssh_host_key=spec.ssh_host_key or "strict",
            known_hosts=spec.known_hosts,
            profile_vars=spec.profile_vars or {},
            groups=groups,
            source=str(self.definition.where),
            cloud=self.cloud(spec.cloud or schema.CloudIn()),
            ansible_port=self.port(connection),
            vars=self.free_vars(values),
            origins=self.origins,
        )

    def refuse_unusable(self, values: Mapping[Any, Any]) -> None:
        found = schema.first_unusable(values)
        if found is not None:
            loc, reason = found
            raise self.error(f"{'.'.join(map(str, loc))} {reason}", loc)

    def validate(self, values: dict[Any, Any]) -> schema.HostIn:
        bases = {key: self.base(key) for key in (("tls_verify",), ("known_hosts",), ("cloud", "tls_verify"))}
        try:
            return schema.HostIn.model_validate(values, context={"bases": bases})
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = min(errors, key=lambda e: self.where(tuple(e["loc"])).line or 0)
            raise self.error(schema.describe(first), tuple(first["loc"])) from None

    def winner(self, connection: Mapping[str, Any], keys: Sequence[str]) -> tuple[str, Any] | None:
        """Of Ansible's alternatives for one setting, the last one set wins (its connection plugins' rule)."""
        found = [(k, connection[k]) for k in keys if k in connection]
        if not found:
            return None
        key, value = found[-1]
        reason = unusable(value)
        if reason is not None:
            raise self.error(f"{key} {reason}", (key,))
        return key, value

    def address(self, address: str | None, connection: Mapping[str, Any]) -> str:
        ansible = self.winner(connection, schema.ADDRESS_KEYS) if address is None else None
        if address is not None:
            given = next((connection[k] for k in reversed(schema.ADDRESS_KEYS) if k in connection), None)
            if given is not None and unusable(given) is None and str(schema.as_text(given)).strip() != address:
                key = next(k for k in reversed(schema.ADDRESS_KEYS) if k in connection)
                raise self.error(f"address '{address}' and {key} '{given}' differ", ("address",))
            return address
        if ansible is not None:
            key, value = ansible
            self.origins["address"] = self.origins[key]
            return self.checked(schema.ADDRESS_VALIDATOR, value, (key,))
        self.origins["address"] = str(self.definition.where)
        return self.checked(schema.ADDRESS_VALIDATOR, self.name, ())

    def checked(self, check: Any, value: Any, loc: Key) -> Any:
        try:
            return check(value)
        except schema.Invalid as exc:
            raise self.error(str(exc), loc) from None

    def port(self, connection: Mapping[str, Any]) -> int | None:
        found = self.winner(connection, schema.PORT_KEYS)
        if found is None:
            return None
        key, value = found
        return int(self.checked(schema.port, value, (key,)))

    def transport(self, model: str | None, transport: str | None) -> str | None:
        if model and transport:
            offered = support.family_of(model).transports
            if transport not in offered:
                message = f"{model} does not offer transport '{transport}'; use one of {', '.join(offered)}"
                raise self.error(message, ("transport",))
        return transport

    def secret(self, spec: schema.SecretSpec | None, loc: Key) -> Secret | None:
        if spec is None:
            return None
        origin, key = str(self.where(loc)), ".".join(map(str, loc))
        if spec.kind == "env":
            return Secret(env=spec.value, origin=origin, key=key)
        if spec.kind == "file":
            return Secret(file=schema.resolve(spec.value, self.base(loc)), origin=origin, key=key)
        return Secret(spec.value, origin=origin, key=key)

    def credentials(self, given: schema.CredentialsIn, connection: Mapping[str, Any]) -> Credentials:
        password = self.secret(given.password, ("device_credentials", "password"))
        if password is None:
            found = self.winner(connection, schema.PASSWORD_KEYS)
            if found is not None:
                key, value = found
                spec = self.checked(schema.secret, value, (key,))
                password = self.secret(spec, (key,))
                self.origins["device_credentials.password"] = self.origins[key]
        username = given.username
        if username is None:
            found = self.winner(connection, schema.USER_KEYS)
            if found is not None:
                key, value = found
                username = self.checked(schema.text, value, (key,))
                self.origins["device_credentials.username"] = self.origins[key]
        return Credentials(password=password) if username is None else Credentials(username, password)

    def cloud(self, spec: schema.CloudIn) -> CloudVars:
        plain = {k: getattr(spec, k) for k in schema.CloudIn.model_fields if k not in ("app_key", "tls_verify")}
        return CloudVars(**plain, app_key=self.secret(spec.app_key, ("cloud", "app_key")),
                         tls=spec.tls_verify or TlsPolicy())

    def sip(self, spec: schema.SipIn) -> SipVars:
        plain = {k: getattr(spec, k) for k in schema.SipIn.model_fields if k != "password"}
        return SipVars(**plain, password=self.secret(spec.password, ("sip", "password")))

    def free_vars(self, values: Mapping[Any, Any]) -> dict[str, Any]:
        skip = {*schema.TOOL_KEYS, *schema.CONNECTION_KEYS, schema.HASH_KEY}
        free = {}
        for key, value in values.items():
            name = str(schema.as_text(key))
            if name not in skip:
                free[name] = _guarded(name, schema.plain(value))
        return free


def _guarded(name: str, value: Any) -> Any:
    """Values under a key named like a password (at any depth) become Secrets."""
    if schema.secret_named(name):
        return _hidden(value)
    if isinstance(value, dict):
        return {k: _guarded(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_guarded(name, v) for v in value]
    return value


def _hidden(value: Any) -> Any:
    """A free variable named like a password never renders: its text becomes a Secret."""
    if isinstance(value, str) and unusable(value) is None:
        return Secret(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Secret(str(value))
    if isinstance(value, dict):
        return {k: _hidden(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    return value


def _ports(spec: schema.PortsIn | None) -> dict[str, int]:
    given = {k: getattr(spec, k) for k in schema.PortsIn.model_fields} if spec else {}
    return {k: v for k, v in given.items() if v is not None}
