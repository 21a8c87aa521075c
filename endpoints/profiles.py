"""Profiles: per software family, how the desired state maps onto the device's own paths.

Profiles are YAML data (see profiles/README.md). The built-in ones ship inside the
package; an operator adds settings or whole profiles in folders named on the command
line. The profile of a room follows the software the device reports.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic

from endpoints import support, yamlfile
from endpoints.desired import DesiredSip
from endpoints.drivers.base import Identity, Registration, RegistrationState
from endpoints.errors import InputError, Unsupported
from endpoints.host import Host, Refused
from endpoints.secrets import Secret
from endpoints.validation import input_error, unknown_key

VENDORS = tuple(support.FAMILIES)
TEMPLATE = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_]+)?)\}")


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)


class SettingModel(_Strict):
    setting: str
    value: str
    secret: bool = False
    casefold: bool = False
    sip: bool | None = None  # part of the SIP account (a change re-sends the password); default: built-in
    via: dict[str, str] = {}


class RegistrationModel(_Strict):
    status: str
    reason: str | None = None
    # Seconds from a SIP write until the device can first have a verdict: the first
    # registration poll waits this long, then polls back off (see core.waiting.await_registration).
    settle: float = pydantic.Field(default=0.0, ge=0)
    via: dict[str, dict[str, str]] = {}
    states: dict[str, Literal["registered", "registering", "failed", "unregistered", "unknown"]]


class NetworkModel(_Strict):
    """Where the room's own API tells of its network, for `doctor` (read only)."""

    dns_servers: list[str] = []  # paths, one per DNS server slot
    dns_source: Literal["status", "configuration"] = "configuration"  # where those paths are read
    clock: str | None = None  # status path of the device's clock
    proxy_status: str | None = None  # status path of the device's word on its SIP proxy
    proxy_address: str | None = None  # status path of the proxy that status speaks of
    via: dict[str, dict[str, Any]] = {}  # per-transport overrides of the keys above


class FactoryLoginModel(_Strict):
    username: str
    password: str  # a template: "" (Cisco) or "{host.serial}" (Polycom)


class ProfileModel(_Strict):
    name: str
    description: str = ""
    extends: str | None = None
    vendor: Literal["cisco", "polycom-group", "polycom-hdx"] | None = None
    software: str | None = None
    models: list[str] | None = None
    minimum_software: dict[str, str | float] | None = None
    transports: list[str] | None = None
    registration: RegistrationModel | None = None
    factory_logins: list[FactoryLoginModel] | None = None
    network: NetworkModel | None = None
    settings: list[SettingModel] = []


@dataclass(frozen=True)
class Setting:
    setting: str
    value: str  # a template
    secret: bool = False
    casefold: bool = False
    via: dict[str, str] = field(default_factory=dict)
    source: str = ""  # file:line
    # A SIP setting's change re-registers the room, so the password goes with it; an
    # operator's own setting (system name, NTP ...) changes nothing at the service.
    sip: bool = True

    def path_for(self, transport: str) -> str:
        return self.via.get(transport, self.setting)


@dataclass(frozen=True)
class RegistrationSpec:
    status: str
    reason: str | None
    via: dict[str, dict[str, str]]
    states: dict[str, RegistrationState]
    settle: float = 0.0  # seconds after a write before the first poll can see a verdict

    def paths_for(self, transport: str) -> tuple[str, str | None]:
        over = self.via.get(transport, {})
        return over.get("status", self.status), over.get("reason", self.reason)

    def interpret(self, values: dict[str, str | None], transport: str) -> Registration:
        status_path, reason_path = self.paths_for(transport)
        raw = (values.get(status_path) or "").strip()
        state = self.states.get(raw.casefold(), "unknown")
        reason = (values.get(reason_path) or "") if reason_path else ""
        detail = {k: v for k, v in values.items() if v is not None}
        return Registration(state, reason.strip() or (raw if state != "registered" else ""), detail)


@dataclass(frozen=True)
class NetworkSpec:
    dns_servers: tuple[str, ...] = ()
    dns_source: str = "configuration"
    clock: str | None = None
    proxy_status: str | None = None
    proxy_address: str | None = None
    via: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_transport(self, transport: str) -> NetworkSpec:
        """The paths on one transport (an API that does not report a thing gives it as null)."""
        over = self.via.get(transport, {})
        return NetworkSpec(tuple(over.get("dns_servers", self.dns_servers) or ()),
                           over.get("dns_source", self.dns_source), over.get("clock", self.clock),
                           over.get("proxy_status", self.proxy_status),
                           over.get("proxy_address", self.proxy_address))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    vendor: str
    software: re.Pattern[str]
    models: tuple[str, ...]
    minimum_software: dict[str, tuple[int, ...]]
    transports: tuple[str, ...]
    registration: RegistrationSpec
    settings: tuple[Setting, ...]
    file: str
    lineage: tuple[str, ...] = ()  # names of the profiles this one extends, nearest first
    builtin: bool = True
    factory_logins: tuple[tuple[str, str], ...] = ()  # (username, password template), tried in order
    network: NetworkSpec = field(default_factory=NetworkSpec)

    def factory_credentials(self, host: Host) -> list[tuple[str, str]]:
        """The factory default logins for this host, in order (`recover` tries each once)."""
        logins = []
        for username, template in self.factory_logins:
            if "{host.serial}" in template and not host.serial:
                raise InputError("the factory default login needs the device's serial number: set `serial`",
                                 file=host.source, key="serial")
            logins.append((username, template.replace("{host.serial}", host.serial or "")))
        return logins

    def matches(self, identity: Identity) -> bool:
        return bool(self.software.search(identity.software))

    def minimum_for(self, model: str | None) -> tuple[int, ...] | None:
        return self.minimum_software.get(model or "")

    def render(self, desired: DesiredSip, host: Host) -> list[tuple[Setting, str | Secret]]:
        """Each setting with its value for this room (secrets stay Secrets)."""
        context = template_context(desired, host)
        return [(s, fill(s, context)) for s in self.settings]


def version_tuple(text: str) -> tuple[int, ...]:
    """The first dotted number in a software string: `ce9.4.0.abc` -> (9, 4, 0)."""
    match = re.search(r"(\d+(?:\.\d+)+)", text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def below_minimum(profile: Profile, identity: Identity) -> tuple[int, ...] | None:
    """The tested minimum when the device runs software below it, else None."""
    minimum = profile.minimum_for(identity.model)
    have = version_tuple(identity.software)
    if minimum and have and have < minimum:
        return minimum
    return None


def template_context(desired: DesiredSip, host: Host) -> dict[str, Any]:
    sip = {
        "enabled": "True", "uri": desired.uri, "number": desired.number, "domain": desired.domain,
        "auth_username": desired.auth_username, "password": desired.password,
        "display_name": desired.display_name, "registrar": desired.registrar,
        "proxy": str(desired.proxy), "proxy_host": desired.proxy.host,
        "proxy_port": str(desired.proxy.port), "transport": desired.transport,
    }
    context: dict[str, Any] = {f"sip.{k}": v for k, v in sip.items()}
    context.update({"host.name": host.name, "host.address": host.address, "host.serial": host.serial or ""})
    context.update({f"vars.{k}": v for k, v in host.template_vars().items()})  # free vars < profile_vars
    return context


def fill(setting: Setting, context: dict[str, Any]) -> str | Secret:
    names = TEMPLATE.findall(setting.value)
    for name in names:
        if context.get(name) is None:
            what = "SIP password (sip.password)" if name == "sip.password" else f"{{{name}}}"
            raise InputError(f"no value for {what}, needed by setting {setting.setting!r}",
                             file=setting.source, key=name)
        if isinstance(context[name], Refused):  # Jinja or a vault in the inventory: never sent
            raise context[name].error(f"setting {setting.setting!r}")
    if setting.secret:
        value = context[names[0]] if names and setting.value == f"{{{names[0]}}}" else None
        if not isinstance(value, Secret):
            raise InputError("a secret setting's value must be exactly one secret, e.g. '{sip.password}'",
                             file=setting.source, key="value")
        return value
    if any(isinstance(context[n], Secret) for n in names):
        raise InputError("a secret may only fill a setting marked `secret: true`", file=setting.source,
                         key="value")
    return TEMPLATE.sub(lambda m: str(context[m.group(1)]), setting.value)


def builtin_dir() -> Path:
    """Profiles shipped in the wheel (endpoints/_profiles), else the checkout's profiles/."""
    here = Path(__file__).resolve().parent
    packaged = here / "_profiles"
    return packaged if packaged.is_dir() else here.parent / "profiles"


class ProfileSet:
    """All profiles known to a run: built-in ones, then the operator's (which win)."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.profiles = profiles

    @classmethod
    def load(cls, extra_dirs: Sequence[Path] = ()) -> ProfileSet:
        raw: dict[str, tuple[ProfileModel, Any, str, bool]] = {}
        for folder, builtin in [(builtin_dir(), True)] + [(Path(d), False) for d in extra_dirs]:
            if not folder.is_dir():
                raise InputError("profile folder not found", file=str(folder))
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                model, data = _parse(path)
                raw[model.name] = (model, data, str(path), builtin)
        return cls({name: _resolve(name, raw) for name in raw})

    def get(self, name: str, *, where: str = "") -> Profile:
        """A profile by name; `where` (the inventory's file:line) names the key that asked for it."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise InputError(unknown_key(name, self.profiles).replace("unknown key", "no profile named")
                             + f"; known: {known}", file=where, key="profile") from None

    def start(self, host: Host, vendor: str) -> Profile:
        """The profile to use before the device has said what it runs (factory logins)."""
        if host.profile:
            return self.get(host.profile, where=host.origin("profile"))
        family = [p for p in self.profiles.values() if p.vendor == vendor]
        for profile in family:
            if host.model in profile.models:
                return profile
        if not family:
            raise Unsupported(f"no profile for {vendor}")
        return family[0]

    def select(self, identity: Identity, vendor: str, forced: str | None = None) -> Profile:
        """The profile for the software the device runs; `forced` (inventory `profile`) wins."""
        if forced:
            return self.get(forced)
        found = [p for p in self.profiles.values() if p.vendor == vendor and p.matches(identity)]
        extended = {base for p in found for base in p.lineage}
        found = [p for p in found if p.name not in extended]
        if len(found) > 1:
            found = [p for p in found if not p.builtin] or found
        if not found:
            raise Unsupported(f"no profile matches software {identity.software!r} on {identity.product}")
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise Unsupported(f"several profiles match software {identity.software!r} ({names}): "
                              "set `profile:` for this host")
        return found[0]


def _parse(path: Path) -> tuple[ProfileModel, Any]:
    data = yamlfile.load(path)
    if not isinstance(data, dict):
        raise InputError("a profile must be a mapping", file=str(path), line=1)
    _refuse_non_strings(data, path)
    try:
        return ProfileModel.model_validate(data), data
    except pydantic.ValidationError as exc:
        raise input_error(exc, data, file=str(path), known=ProfileModel.model_fields) from None


def _refuse_non_strings(data: Any, path: Path) -> None:
    for index, item in enumerate(data.get("settings") or []):
        if isinstance(item, dict) and "value" in item and not isinstance(item["value"], str):
            line = yamlfile.line_of(item, "value")
            raise InputError(f"value {item['value']!r} is not a string: quote it (YAML reads On/Off/yes as "
                             "booleans)", file=str(path), line=line, key=f"settings.{index}.value")


def _resolve(name: str, raw: dict[str, tuple[ProfileModel, Any, str, bool]], seen: tuple[str, ...] = ()) -> Profile:
    model, data, file, builtin = raw[name]
    if name in seen:
        raise InputError(f"profiles extend each other in a circle: {' -> '.join(seen + (name,))}", file=file,
                         key="extends")
    base: Profile | None = None
    if model.extends:
        if model.extends not in raw:
            raise InputError(f"extends unknown profile {model.extends!r}", file=file,
                             line=yamlfile.line_of(data, "extends"), key="extends")
        base = _resolve(model.extends, raw, seen + (name,))
    return _build(model, data, file, builtin, base)


def _build(model: ProfileModel, data: Any, file: str, builtin: bool, base: Profile | None) -> Profile:
    def inherit(key: str) -> Any:
        value = getattr(model, key)
        if value is None and base is None:
            raise InputError("required key is missing (or `extends` a profile that has it)", file=file,
                             line=1, key=key)
        return value if value is not None else getattr(base, key)

    settings = _merge_settings(base.settings if base else (), model.settings, data, file, builtin)
    registration = model.registration
    return Profile(
        name=model.name,
        description=model.description or (base.description if base else ""),
        vendor=inherit("vendor"),
        software=_regex(model, base, data, file),
        models=_models(model, base),
        minimum_software=_minimums(model, base),
        transports=_transports(model, base, inherit("vendor")),
        registration=_registration(registration) if registration else inherit("registration"),
        settings=settings,
        file=file,
        lineage=((base.name,) + base.lineage) if base else (),
        builtin=builtin,
        factory_logins=(tuple((f.username, f.password) for f in model.factory_logins)
                        if model.factory_logins is not None else (base.factory_logins if base else ())),
        network=(NetworkSpec(tuple(model.network.dns_servers), model.network.dns_source, model.network.clock,
                             model.network.proxy_status,
                             model.network.proxy_address, dict(model.network.via))
                 if model.network is not None else (base.network if base else NetworkSpec())),
    )


def _regex(model: ProfileModel, base: Profile | None, data: Any, file: str) -> re.Pattern[str]:
    if model.software is None:
        if base is None:
            raise InputError("required key is missing", file=file, line=1, key="software")
        return base.software
    try:
        return re.compile(model.software, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"bad regular expression: {exc}", file=file, line=yamlfile.line_of(data, "software"),
                         key="software") from None


def _models(model: ProfileModel, base: Profile | None) -> tuple[str, ...]:
    """The support matrix's models of this line; an operator profile may narrow or name its own."""
    if model.models is not None:
        return tuple(model.models)
    from_matrix = tuple(m for line in support.MATRIX if line.profile == model.name for m in line.models)
    return from_matrix or (base.models if base else ())


def _minimums(model: ProfileModel, base: Profile | None) -> dict[str, tuple[int, ...]]:
    if model.minimum_software is not None:
        return {k: version_tuple(f"{v}.0" if "." not in str(v) else str(v))
                for k, v in model.minimum_software.items()}
    found = {m: support.tested_minimum(m, model.name) for m in _models(model, base)}
    from_matrix = {m: v for m, v in found.items() if v}
    return from_matrix or (dict(base.minimum_software) if base else {})


def _transports(model: ProfileModel, base: Profile | None, vendor: str) -> tuple[str, ...]:
    if model.transports is not None:
        return tuple(model.transports)
    return base.transports if base else support.FAMILIES[vendor].transports


def _registration(model: RegistrationModel) -> RegistrationSpec:
    return RegistrationSpec(model.status, model.reason, model.via,
                            {k.casefold(): v for k, v in model.states.items()}, model.settle)


def _merge_settings(inherited: Iterable[Setting], own: list[SettingModel], data: Any,
                    file: str, builtin: bool) -> tuple[Setting, ...]:
    merged = {s.setting: s for s in inherited}
    items = data.get("settings") or []
    for index, item in enumerate(own):
        line = yamlfile.line_of(items, index)
        replaced = merged.get(item.setting)
        sip = item.sip if item.sip is not None else (replaced.sip if replaced else builtin)
        merged[item.setting] = Setting(item.setting, item.value, item.secret, item.casefold, dict(item.via),
                                       f"{file}:{line}" if line else file, sip=sip)
    return tuple(merged.values())
