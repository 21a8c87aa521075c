"""Simulated Polycom endpoints: RealPresence Group Series (6.x) and HDX (3.x).

One state model keyed by the firmware's own config keys (`comm.nics.sipnic.sipusername`
...) with defaults from a real 6.2.2.8 export, and one command parser driven by the
firmware's own legacy-API table (`polycom_table`). Served, as the family offers:
Group Series: REST (HTTP/HTTPS), SSH (`ssh-rsa` host key only), telnet;
HDX: telnet, HTTP (`a_apicommand.cgi`, `systemstatus.xml`).
Where protocols/polycom.md is UNSURE, the choice made here is said in a comment.
"""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from endpoints.lab import polycom_table as firmware
from endpoints.lab.device import SimDevice
from endpoints.lab.net import serve_http, serve_ssh, serve_telnet
from endpoints.lab.polycom_line import LAG_SECONDS, LineSessionServer
from endpoints.lab.polycom_web import group_rest_app, hdx_web_app
from endpoints.lab.registration import MeetingService, SipSettings

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


class PolycomDevice(SimDevice):
    """A Group Series or HDX unit; the family follows from the model."""

    vendor = "polycom"

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
        self.oob = False  # in the out-of-box setup wizard until `oobcomplete`
        self.lag_seconds = LAG_SECONDS  # with faults.lag: how long a reply waits for the next command
        self.rest_sessions: dict[str, str] = {}  # session id -> user
        self.commands_seen: list[str] = []  # line API commands as received (device side)
        self._servers: list[Any] = []
        self._load_defaults(factory=False)

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
        with self.lock:
            self.config = config

    def value(self, key: str) -> str:
        with self.lock:
            return self.config.get(key.lower(), "")

    def set_value(self, key: str, value: str, *, count_as: str | None) -> str | None:
        """Store a value in its canonical spelling; the error text when it is not valid."""
        key = key.lower()
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

    def preset(self, settings: dict[str, str]) -> None:
        """Set values (setting names or config keys) without counting writes."""
        for name, value in settings.items():
            error = self.set_value(config_key(name), value, count_as=None)
            if error:
                raise ValueError(f"{name}: {error}")

    def check_login(self, username: str, password: str) -> bool:
        # "Admin IDs are not case sensitive" (HDX admin guide); telnet asks no user name.
        return self.admit(not self.faults.refuse_login and username.casefold() in ("", "admin")
                          and password == self.admin_password)

    def session_opened(self) -> None:
        self.counters.sessions_open += 1
        self.counters.sessions_max = max(self.counters.sessions_max, self.counters.sessions_open)

    def session_closed(self) -> None:
        self.counters.sessions_open -= 1

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

    def factory_reset(self) -> None:
        self._load_defaults(factory=True)
        self.admin_password = self.serial
        self.oob = True
        self.rest_sessions.clear()
        self.registration.reset()
        self.renew_identity()
        self.clear_lockout()

    # -- servers --

    async def start(self, ports: dict[str, int]) -> None:
        self.ports = dict(ports)
        lines = LineSessionServer(self)
        for protocol, port in ports.items():
            self._servers.append(await self._serve(protocol, port, lines))
        if self.sip_settings().enabled and self.sip_settings().uri:
            self.sip_changed()

    async def _serve(self, protocol: str, port: int, lines: LineSessionServer) -> Any:
        offered = {"group": ("http", "https", "ssh", "telnet"), "hdx": ("http", "telnet")}[self.family]
        if protocol not in offered:
            raise ValueError(f"{self.product} does not serve {protocol}")
        if protocol == "telnet":
            return await serve_telnet(port, lines.serve)
        if protocol == "ssh":
            return await serve_ssh(port, self.host_key, self.check_login, lines.serve,
                                   host_key_algs=("ssh-rsa",))
        app = group_rest_app(self) if self.family == "group" else hdx_web_app(self, lines)
        return await serve_http(app, port, tls=self.certificate if protocol == "https" else None,
                                counters=self.counters)

    async def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            if isinstance(server, web.AppRunner):
                await server.cleanup()
            else:
                server.close()
                if isinstance(server, asyncio.AbstractServer):
                    await server.wait_closed()

    async def restart(self) -> None:
        """Serve again on the same ports (after `factory_reset`: new host key and certificate)."""
        await self.stop()
        await self.start(self.ports)

    def __repr__(self) -> str:
        return f"PolycomDevice({self.name!r}, {self.model!r}, {self.software!r})"



def family_of(model: str) -> str:
    lowered = model.casefold()
    if "group" in lowered:
        return "group"
    if "hdx" in lowered:
        return "hdx"
    raise ValueError(f"not a Polycom model the lab simulates: {model!r}")


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
