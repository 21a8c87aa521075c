"""The state of a simulated Polycom endpoint: RealPresence Group Series (6.x) and HDX (3.x).

One state model keyed by the firmware's own config keys (`comm.nics.sipnic.sipusername`
...) with defaults from a real 6.2.2.8 export. The line API's interpreter
(`polycom_api`) and the servers (`polycom_line`, `polycom_web`) work on this state;
`polycom.PolycomDevice` wires them to it.
Where protocols/polycom.md is UNSURE, the choice made here is said in a comment.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from endpoints import support
from endpoints.lab import polycom_table as firmware
from endpoints.lab.device import SimDevice
from endpoints.lab.registration import MeetingService, SipSettings

LAG_SECONDS = 0.3  # a lagging reply waits this long for the next command, then comes anyway
OUT_OF_BOX = "system.info.outofbox"  # the wizard flag (group500polycomConfig.xsd)

SIP = {
    "enable": "comm.callpreference.sipenable",
    "uri": "comm.nics.sipnic.sipusername",
    "account": "comm.nics.sipnic.sipaccountname",
    "password": "comm.nics.sipnic.sippassword",
    "registrar": "comm.nics.sipnic.sipregistrarserver",
    "proxy": "comm.nics.sipnic.sipproxyserver",
    "transport": "comm.nics.sipnic.siptransportprotocol",
}
SIP_KEYS = frozenset(SIP.values())
SECRET_KEYS = frozenset({SIP["password"], "security.local.admin.password"})

# Values the firmware stores raw (translate=False) but validates: canonical spellings.
TRANSPORTS = ("Auto", "TCP", "UDP", "TLS")
BOOLEANS = ("True", "False")
CHOICES = {
    SIP["transport"]: TRANSPORTS,
    SIP["enable"]: BOOLEANS,
    "comm.nics.sipnic.forceconnectionreuse": BOOLEANS,
    "comm.callpreference.iph323enable": BOOLEANS,
    # Other sipconfigtype values besides Specify are UNSURE; Auto is the likely one.
    "comm.nics.sipnic.sipconfigtype": ("Specify", "Auto"),
}

# HDX 3.1.14's own CSV export names for the same settings (hdx-settings.csv).
HDX_EXPORT_NAMES = {
    "sipenable": SIP["enable"], "sipusername": SIP["uri"], "sipaccountname": SIP["account"],
    "sipregistrarserver": SIP["registrar"], "sipproxyserver": SIP["proxy"],
}


class PolycomState(SimDevice):
    """A Group Series or HDX unit; the family follows from the model."""

    vendor = "polycom"
    # Whether the first-boot wizard refuses reads as well as writes is UNSURE (issue 19
    # item 4; polycom.md §5 "the API presumably still answers"). The IRM's refusal text
    # for unavailable commands is used for refused reads; a knob per room, so that
    # `recover` is tested both ways. Default: reads go through, as the notes lean.
    wizard_blocks_reads = False
    # The Group Series REST session pool. No source gives its size for GS 6.2: the HDX admin
    # guide's "max web sessions 10–50" lower bound is used (UNSURE), and a session idle for
    # 30 minutes ends (the client-side assumption the notes record, polycom.md §4; UNSURE).
    rest_session_limit = 10
    rest_session_idle = 1800.0
    # HDX: `oobcomplete` "Completes the setup wizard and restarts the Polycom HDX system"
    # (polycom.md §5): the unit goes away for its `boot_seconds`; recover waits for it.
    restart_after_oobcomplete = True

    def __init__(self, name: str, model: str, software: str, *, service: MeetingService, serial: str,
                 admin_password: str | None = None, resolves_names: bool = True,
                 system_name: str | None = None) -> None:
        family = family_of(model)
        # Factory default admin password: the serial number (HDX admin guide; UNSURE for GS).
        super().__init__(name, model, service=service, serial=serial,
                         admin_password=serial if admin_password is None else admin_password,
                         resolves_names=resolves_names)
        self.family = family
        self.software = software if software.startswith("Release") else f"Release - {software}"
        self.system_name = system_name or name
        self.config: dict[str, str] = {}
        self.lag_seconds = LAG_SECONDS  # with faults.lag: how long a reply waits for the next command
        self.rest_sessions: dict[str, str] = {}  # session id -> user
        self._rest_used: dict[str, float] = {}  # session id -> last request (monotonic)
        self.commands_seen: list[str] = []  # line API commands as received (device side)
        self._load_defaults(factory=False)

    @property
    def oob(self) -> bool:
        """In the out-of-box setup wizard until `oobcomplete` (or `system.info.outofbox`
        set False over REST)."""
        return self.value(OUT_OF_BOX).casefold() == "true"

    @oob.setter
    def oob(self, value: bool) -> None:
        with self.lock:
            self.config[OUT_OF_BOX] = "True" if value else "False"

    # -- state --

    @property
    def product(self) -> str:
        """The model as the unit names itself (`RealPresence Group 550`, `HDX 7000`)."""
        return f"RealPresence {self.model}" if self.family == "group" else self.model

    def _load_defaults(self, *, factory: bool) -> None:
        config = dict(firmware.export_defaults())
        if self.family == "hdx":
            config.update(_hdx_export_values())
        config.update({
            "system.info.humanreadablemodel": self.product,
            "system.info.serialnumber": self.serial,
            "system.info.systemname": self.system_name,
            "system.info.humanreadableversion": self.software,
            "system.info.plcmstandardversion": self.software,
            "system.info.version": self.software,
            SIP["password"]: "",
        })
        # The export's own SIP account belongs to its owner: a new unit has none.
        for key in (SIP["uri"], SIP["account"], SIP["registrar"], SIP["proxy"]):
            config[key] = ""
        if factory:
            config[SIP["transport"]] = "Auto"
        # The room's network as DHCP gave it (the export's own server belongs to its owner).
        for index in range(4):
            config[f"system.network.dnsserver[{index}]"] = (list(self.dns_servers) + ["", "", "", ""])[index]
        config[OUT_OF_BOX] = "True" if factory else "False"
        with self.lock:
            self.config = config

    def set_dns_servers(self, servers: tuple[str, ...]) -> None:
        self.dns_servers = servers
        with self.lock:
            for index in range(4):
                self.config[f"system.network.dnsserver[{index}]"] = (list(servers) + ["", "", "", ""])[index]

    def value(self, key: str) -> str:
        with self.lock:
            return self.config.get(stored_key(key, self.config), "")

    def set_value(self, key: str, value: str, *, count_as: str | None) -> str | None:
        """Store a value in its canonical spelling; the error text when it is not valid."""
        key = stored_key(key, self.config)
        choices = CHOICES.get(key)
        if choices is not None:
            canonical = next((c for c in choices if c.casefold() == value.casefold()), None)
            if canonical is None:
                return firmware.error("_illegalparams")
            value = canonical
        with self.lock:
            changed = self.config.get(key) != value
            self.config[key] = value
        if count_as is not None:
            self.counters.written(count_as)
        if changed and key in SIP_KEYS:
            self.sip_changed()
        return None

    def preset(self, settings: Mapping[str, str]) -> None:
        """Set values (setting names or config keys) without counting writes."""
        for name, value in settings.items():
            error = self.set_value(config_key(name), value, count_as=None)
            if error:
                raise ValueError(f"{name}: {error}")

    def check_login(self, username: str, password: str) -> bool:
        # "Admin IDs are not case sensitive" (HDX admin guide); telnet asks no user name.
        return self.admit(not self.faults.refuse_login and username.casefold() in ("", "admin")
                          and password == self.admin_password)

    # -- REST sessions --

    def open_rest_session(self, user: str) -> str | None:
        """A new REST session id, or None when every session of the pool is in use."""
        with self.lock:
            self._expire_rest_sessions()
            if len(self.rest_sessions) >= self.rest_session_limit:
                return None
            session = secrets.token_urlsafe(24)
            self.rest_sessions[session] = user
            self._rest_used[session] = time.monotonic()
            self.counters.sessions_open += 1
            self.counters.sessions_max = max(self.counters.sessions_max, self.counters.sessions_open)
            return session

    def rest_session(self, session: str | None) -> str | None:
        """The session if it is open (its idle time starts again), else None."""
        with self.lock:
            self._expire_rest_sessions()
            if session is None or session not in self.rest_sessions:
                return None
            self._rest_used[session] = time.monotonic()
            return session

    def close_rest_session(self, session: str) -> None:
        with self.lock:
            if self.rest_sessions.pop(session, None) is not None:
                self._rest_used.pop(session, None)
                self.counters.sessions_open -= 1

    def _expire_rest_sessions(self) -> None:
        now = time.monotonic()
        for session, used in list(self._rest_used.items()):
            if now - used > self.rest_session_idle:
                self.close_rest_session(session)

    def sessions_ended(self) -> None:
        with self.lock:
            for session in list(self.rest_sessions):
                self.close_rest_session(session)

    def sip_settings(self) -> SipSettings:
        return SipSettings(
            enabled=self.value(SIP["enable"]).casefold() == "true",
            uri=self.value(SIP["uri"]),
            auth_username=self.value(SIP["account"]),
            password=self.value(SIP["password"]),
            proxy=self.value(SIP["proxy"]),
            registrar=self.value(SIP["registrar"]),
            transport=self.value(SIP["transport"]).lower(),
        )

    def registration_word(self, kind: str) -> str:
        """How each API shows SIP registration: line `online|offline`, web `up|down|off`."""
        phase, _failure = self.registration.view()
        if kind == "line":
            return "online" if phase == "registered" else "offline"
        # UNSURE: REST `down` while registering (HDX shows REGISTRAR_REGISTERING with down).
        return {"registered": "up", "registering": "down", "failed": "down"}.get(phase, "off")

    def snapshot(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "model": self.product, "software": self.software, "serial": self.serial,
            "oob": self.oob, "registration": self.registration.view()[0],
        }
        for key in sorted(SIP_KEYS):
            value = self.value(key)
            shown[key] = "***" if key in SECRET_KEYS and value else value
        return shown

    def factory_state(self) -> None:
        self._load_defaults(factory=True)
        self.admin_password = self.serial
        self.sessions_ended()

    def booted(self) -> None:
        # A unit with SIP on but no account set up sends no REGISTER.
        if self.sip_settings().enabled and self.sip_settings().uri:
            self.sip_changed()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.model!r}, {self.software!r})"


def family_of(model: str) -> str:
    """`group` or `hdx`, from the support matrix."""
    canonical = support.canonical_model(model)
    family = support.family_of(canonical).name if canonical else ""
    if family == "polycom-group":
        return "group"
    if family == "polycom-hdx":
        return "hdx"
    raise ValueError(f"not a Polycom model the lab simulates: {model!r}")


def stored_key(key: str, config: dict[str, str]) -> str:
    """The key as the unit stores it. The legacy table names array entries `dnsserver0`,
    the export and the XSD `dnsserver[0]`: both reach the same value."""
    lowered = key.lower()
    if lowered in config or not lowered[-1:].isdigit():
        return lowered
    stem = lowered.rstrip("0123456789")
    bracketed = f"{stem}[{lowered[len(stem):]}]"
    return bracketed if bracketed in config else lowered


def config_key(name: str) -> str:
    """A systemsetting name (`sipusername`) or a config key, as the config key."""
    lowered = name.lower()
    if "." in lowered:
        return lowered
    spec = firmware.table().spelled(("systemsetting", lowered))
    if spec is None or spec.config_key is None:
        raise KeyError(f"no systemsetting named {name!r}")
    return spec.config_key


def setting_name(key: str) -> str:
    """The systemsetting name for a config key where one exists (what counters record)."""
    for spec in firmware.commands():
        if spec.kind == "setconfig" and spec.root == "systemsetting" and spec.config_key == key.lower():
            return spec.words[-1]
    return key.lower()


def _hdx_export_values() -> dict[str, str]:
    values = {}
    text = (firmware.DATA / "hdx-settings.csv").read_text(encoding="utf-8")
    for line in text.splitlines():
        name, _, value = line.partition(",")
        if name in HDX_EXPORT_NAMES:
            values[HDX_EXPORT_NAMES[name]] = value
    return values
