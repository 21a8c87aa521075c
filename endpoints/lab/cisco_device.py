"""The state of a simulated Cisco codec: SX10/SX20 on CE 8/9, SX80 on TC 7, and the
RoomOS 11 units (Room Kit, Room Bar, Desk Pro).

One state model, three personalities chosen from the software string and the model:
TC (`TC7.3.6...`) keeps its SIP settings under `SIP Profile 1`, decorates every XML
element with `item="1"`, has no XMLAPI sessions and separate HTTP/HTTPS switches; CE
(`ce9.4.0...`) has sessions (a small pool that never times out) and one `HTTP Mode`;
RoomOS (`ce11...`, the RoomOS line of the support matrix) is CE with the status tree of
a recorded Room Bar on RoomOS 11.19 (`cisco_data/`) and HTTPS by default.

Nothing here serves anything: `cisco_http` and `cisco_shell` serve this state, and
`cisco.CiscoDevice` wires them to it.
Where protocols/cisco.md is UNSURE the choice made here is said in a comment.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from endpoints import support
from endpoints.lab import cisco_roomos
from endpoints.lab.cisco_cli import CliSyntaxError, path_tokens
from endpoints.lab.cisco_schema import (
    CE_CONFIGURATION,
    RELEASE_DATES,
    ROOMOS_CONFIGURATION,
    SOFTWARE_NAMES,
    TC_CONFIGURATION,
)
from endpoints.lab.cisco_tree import Leaf, Token, matches_exactly, matches_prefix, parse_spec, status_leaf
from endpoints.lab.device import SimDevice
from endpoints.lab.registration import CISCO_REASONS, MeetingService, SipSettings

CE_LEAVES = parse_spec(CE_CONFIGURATION)
TC_LEAVES = parse_spec(TC_CONFIGURATION)
ROOMOS_LEAVES = parse_spec(ROOMOS_CONFIGURATION)
ROOMOS_MODELS = frozenset(m for line in support.MATRIX if line.profile == "cisco-roomos" for m in line.models)
# How RoomOS units name themselves. Room Bar and Room Kit are recorded (cisco.md §5); the
# Desk Pro's ProductId is UNSURE (the Room Kit's "Cisco Webex ..." pattern is used).
ROOMOS_PRODUCT_IDS = {"Room Bar": "Cisco Room Bar", "Room Kit": "Cisco Webex Room Kit",
                      "Desk Pro": "Cisco Webex Desk Pro"}
NO_MATCH = "No match on address expression."
ILLEGAL = "Illegal value"

# The settings that make a codec (re)register when they change.
_SIP_PATHS = {
    "ce": ("NetworkServices SIP Mode", "SIP URI", "SIP Authentication UserName", "SIP Authentication Password",
           "SIP DefaultTransport", *(f"SIP Proxy {n} Address" for n in range(1, 5))),
    "tc": ("NetworkServices SIP Mode", "SIP Profile 1 URI", "SIP Profile 1 Authentication 1 LoginName",
           "SIP Profile 1 Authentication 1 Password", "SIP Profile 1 DefaultTransport",
           *(f"SIP Profile 1 Proxy {n} {leaf}" for n in range(1, 5) for leaf in ("Address", "Discovery"))),
}
_PHASE_STATUS = {"inactive": "Inactive", "registering": "Registering", "registered": "Registered",
                 "failed": "Failed"}
# Proxy status per failure kind. UNSURE (cisco.md §4 lists the values, not when each shows).
_PROXY_STATUS = {"dns": "DNSFailed", "timeout": "Timeout", "auth": "AuthenticationFailed",
                 "locked": "AuthenticationFailed"}


@dataclass
class ConfigError:
    """One refused configuration leaf: the CLI path, the device's XPath and reason."""

    path: str
    xpath: str
    reason: str
    tokens: list[Token] = field(default_factory=list)


@dataclass
class CommandResult:
    name: str  # e.g. PassphraseSetResult (last two path words + Result)
    status: str  # OK | Error | ParameterError
    reason: str = ""


class CiscoState(SimDevice):
    """One SX10/SX20/SX80 or RoomOS unit; `software` and `model` pick the personality."""

    vendor = "cisco"

    def __init__(self, name: str, model: str, software: str, *, service: MeetingService, serial: str,
                 admin_password: str = "", resolves_names: bool = True, session_limit: int = 8) -> None:
        super().__init__(name, model, service=service, serial=serial or "FTT00000000",
                         admin_password=admin_password, resolves_names=resolves_names)
        self.software = software
        self.tc = software.lower().startswith("tc")
        self.roomos = not self.tc and (model in ROOMOS_MODELS or _major(software) >= 10)
        # The CE session pool size is not documented (cisco.md §1.6): 8 here, a knob.
        self.session_limit = session_limit
        self.sessions: dict[str, float] = {}  # XMLAPI session id -> opened at
        self.leaves = TC_LEAVES if self.tc else ROOMOS_LEAVES if self.roomos else CE_LEAVES
        self._by_key = {leaf.key: leaf for leaf in self.leaves}
        self._sip_keys = frozenset(p.lower() for p in _SIP_PATHS["tc" if self.tc else "ce"])
        self._values: dict[str, str] = {}  # leaf key -> value, where it differs from the default
        self._booted = time.monotonic()
        self.last_login: str | None = None
        self.http_modes_at_boot = self._http_modes()
        self.feedback_seen: list[str] = []  # tshell `xFeedback` requests as received (for tests)

    def __repr__(self) -> str:
        return f"CiscoDevice({self.name!r}, {self.model!r}, {self.software!r})"

    # --- identity ----------------------------------------------------------------------

    @property
    def version(self) -> str:
        """`9.4.0` of `ce9.4.0.cd3c4c6`; `11.19.1.6` of `ce11.19.1.6.76526b1b094`."""
        parts = self.software[2:].split(".")
        return ".".join(p for p in (parts[:-1] if len(parts) > 3 else parts) if p.isdigit())

    @property
    def build(self) -> str:
        """The build hash: the last part when it is not a number."""
        parts = self.software.split(".")
        return parts[-1] if len(parts) > 3 and not parts[-1].isdigit() else ""

    @property
    def release_date(self) -> str:
        return RELEASE_DATES.get(".".join(self.software.lower().split(".")[:3]), "2017-01-01")

    @property
    def product_id(self) -> str:
        if self.roomos:
            return ROOMOS_PRODUCT_IDS.get(self.model, f"Cisco {self.model}")
        return f"Cisco TelePresence {self.model}"

    @property
    def display_name(self) -> str:
        """`SystemUnit Software DisplayName`: `RoomOS 11.19.1.6 76526b1b094` on RoomOS
        (recorded), `ce 9.4.0 cd3c4c6 2018-06-21` on CE (UNSURE, from the CE 9 banner)."""
        if self.roomos:
            return f"RoomOS {self.version} {self.build}"
        return f"ce {self.version} {self.build} {self.release_date}"

    @property
    def root_attributes(self) -> str:
        # TC 7 root attributes are UNSURE (cisco.md §1.4): the CE form, apiVersion 2.
        return f' product="Cisco Codec" version="{self.software}" apiVersion="{"2" if self.tc else "4"}"'

    # --- configuration -------------------------------------------------------------------

    def value(self, path: str) -> str:
        leaf = self._by_key[" ".join(path.split()).lower()]
        return self._values.get(leaf.key, leaf.default)

    def find_leaf(self, tokens: Sequence[Token]) -> Leaf | None:
        """The leaf a write names, as the CLI resolves it."""
        return next((leaf for leaf in self.leaves if matches_exactly(leaf, tokens)), None)

    def configuration(self, tokens: Sequence[Token] = ()) -> list[tuple[Leaf, str]]:
        with self.lock:
            return [(leaf, self._values.get(leaf.key, leaf.default))
                    for leaf in self.leaves if matches_prefix(leaf, tokens)]

    def configure(self, items: Sequence[tuple[Sequence[Token], str]], *, count: bool = True,
                  leaf_for: Callable[[Sequence[Token]], Leaf | None] | None = None) -> list[ConfigError]:
        """Set leaves as one request: an unknown path refuses the whole request (nothing is
        set); otherwise every legal value is set and each illegal one reported.
        UNSURE (cisco.md §10.4): how a real codec treats a mixed document."""
        find = leaf_for or self.find_leaf
        resolved: list[tuple[Leaf, str, Sequence[Token]]] = []
        for tokens, value in items:
            leaf = find(tokens)
            if leaf is None:
                return [ConfigError(_cli_path(tokens), _xpath("Configuration", tokens), NO_MATCH, list(tokens))]
            resolved.append((leaf, value, tokens))
        errors, changes = [], []
        for leaf, value, tokens in resolved:
            canonical = leaf.space.canonical(value) if leaf.space else None
            if canonical is None:
                errors.append(ConfigError(leaf.path, _xpath("Configuration", tokens), ILLEGAL, list(tokens)))
            else:
                changes.append((leaf, canonical))
        self._apply(changes, count=count)
        return errors

    def _apply(self, changes: Sequence[tuple[Leaf, str]], *, count: bool) -> None:
        sip_changed = False
        with self.lock:
            for leaf, value in changes:
                before = self._values.get(leaf.key, leaf.default)
                if value == leaf.default:
                    self._values.pop(leaf.key, None)
                else:
                    self._values[leaf.key] = value
                if count:
                    self.counters.written(leaf.path)
                # A codec re-registers when a SIP setting changes, not when it is re-set to
                # the same value (UNSURE: no source either way).
                sip_changed = sip_changed or (leaf.key in self._sip_keys and before != value)
            if sip_changed:
                self.sip_changed()
        if count and changes and self.faults.reboot_after_write:
            self.reboot_soon()  # the fault: the codec restarts after it took the write

    def preset(self, settings: Mapping[str, str]) -> None:
        """Set device paths without counting writes (building a fleet); raises ValueError."""
        try:
            items = [(path_tokens(path), value) for path, value in settings.items()]
        except CliSyntaxError as exc:
            raise ValueError(f"{self.name}: cannot preset: {exc}") from None
        errors = self.configure(items, count=False)
        if errors:
            raise ValueError(f"{self.name}: cannot preset {errors[0].path}: {errors[0].reason}")

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {leaf.path: "***" if leaf.hidden else self._values.get(leaf.key, leaf.default)
                    for leaf in self.leaves}

    def factory_state(self) -> None:
        with self.lock:
            self._values.clear()
            self.admin_password = ""
            self.sessions_ended()
            self.last_login = None

    def sessions_ended(self) -> None:
        with self.lock:
            self.counters.sessions_open -= len(self.sessions)
            self.sessions.clear()

    # --- logins and sessions ---------------------------------------------------------------

    def check_password(self, username: str, password: str) -> bool:
        return self.admit(not self.faults.refuse_login and username == "admin" and password == self.admin_password)

    def open_session(self) -> str | None:
        with self.lock:
            if len(self.sessions) >= self.session_limit:
                return None
            session = secrets.token_hex(32)  # 64 characters, as real cookies (cisco.md §1.2)
            self.sessions[session] = time.monotonic()
            self._count_session(+1)
            return session

    def close_session(self, session: str) -> bool:
        with self.lock:
            if self.sessions.pop(session, None) is None:
                return False
            self._count_session(-1)
            return True

    def _count_session(self, delta: int) -> None:
        self.counters.sessions_open += delta
        self.counters.sessions_max = max(self.counters.sessions_max, self.counters.sessions_open)

    # --- commands --------------------------------------------------------------------------

    def command(self, path: str, params: Mapping[str, str]) -> CommandResult | None:
        """Run an xCommand; None when the device has no such command."""
        words = path.split()
        name = "".join(words[-2:]) + "Result"
        key = " ".join(words).lower()
        if self.tc and key == "systemunit adminpassword set":
            return self._set_admin_password(name, params.get("Password"), None, "admin")
        if not self.tc and key == "usermanagement user passphrase set":
            return self._set_admin_password(name, params.get("NewPassphrase"), params.get("YourPassphrase", ""),
                                            params.get("Username"))
        if not self.tc and key == "usermanagement user passphrase change":
            return self._set_admin_password(name, params.get("NewPassphrase"), params.get("OldPassphrase"), "admin")
        if key == "systemunit boot":
            # `xCommand SystemUnit Boot [Action: Restart|Shutdown]` (TC/CE guides): the
            # answer goes out, then the codec is away for `boot_seconds`.
            self.reboot_soon()
            return CommandResult(name, "OK")
        return None

    def _set_admin_password(self, name: str, new: str | None, current: str | None,
                            username: str | None) -> CommandResult:
        if new is None or username is None:
            return CommandResult(name, "ParameterError")
        # Reason texts are UNSURE (no recorded refusal).
        if username != "admin":
            return CommandResult(name, "Error", "No such user")
        if current is not None and current != self.admin_password:
            return CommandResult(name, "Error", "Wrong passphrase")
        with self.lock:
            self.admin_password = new
            self.counters.written("SystemUnit AdminPassword" if self.tc else "UserManagement User Passphrase")
        return CommandResult(name, "OK")

    # --- SIP and status --------------------------------------------------------------------

    def sip_settings(self) -> SipSettings:
        base = "SIP Profile 1 " if self.tc else "SIP "
        user = f"{base}Authentication 1 LoginName" if self.tc else "SIP Authentication UserName"
        password = f"{base}Authentication 1 Password" if self.tc else "SIP Authentication Password"
        with self.lock:
            uri = self.value(f"{base}URI")
            return SipSettings(
                enabled=self.value("NetworkServices SIP Mode") == "On" and bool(uri),
                uri=uri, auth_username=self.value(user), password=self.value(password),
                proxy=self._proxy(base), registrar="", transport=self.value(f"{base}DefaultTransport").lower())

    def _proxy(self, base: str) -> str:
        for n in range(1, 5):
            # TC: a proxy found by discovery ignores the address (no DHCP in the lab).
            if self.tc and self.value(f"{base}Proxy {n} Discovery") != "Manual":
                continue
            address = self.value(f"{base}Proxy {n} Address")
            if address:
                return address
        return ""

    def status(self, tokens: Sequence[Token] = ()) -> list[tuple[Leaf, str]]:
        return [(leaf, value) for leaf, value in self._status_leaves() if matches_prefix(leaf, tokens)]

    def _status_leaves(self) -> list[tuple[Leaf, str]]:
        with self.lock:
            phase, failure = self.registration.view()
            sip = self.sip_settings()
        base = "SIP Profile 1 " if self.tc else "SIP "
        sip_status = _sip_status(sip, phase, failure, base)
        if self.roomos:
            return cisco_roomos.status(self._live(sip_status))
        fixed = [
            status_leaf("Audio Volume", "50", quoted=False),
            *self._dns_status(),
            status_leaf("Network 1 IPv4 Address", "127.0.0.1"),
            status_leaf("Network 1 IPv4 Gateway", ""),
            status_leaf("Network 1 IPv4 SubnetMask", "255.0.0.0"),
        ]
        tail = [status_leaf("Standby State", "Off", quoted=False), *self._system_unit(),
                status_leaf("Time SystemTime", self.system_time())]
        return [*fixed, *sip_status, *tail]

    def _live(self, sip_status: list[tuple[Leaf, str]]) -> dict[str, tuple[bool, str]]:
        """RoomOS: the leaves of the recorded tree that are this unit's own, by CLI path."""
        own = [*sip_status, *self._dns_status(), *self._system_unit(),
               status_leaf("SystemUnit BroadcastName", self.value("SystemUnit Name") or self.name),
               # The UDI's product part is the recorded Room Bar's form (UNSURE for others).
               status_leaf("SystemUnit Hardware UDI",
                           f"CS-{self.model.upper().replace(' ', '-')}-K9 V02 {self.serial}"),
               status_leaf("Time SystemTime", self.system_time()),
               status_leaf("Network 1 IPv4 Address", "127.0.0.1")]
        return {leaf.path: (leaf.quoted, value) for leaf, value in own}

    def dns_servers_now(self) -> list[str]:
        """Static servers where the configuration names any, else the ones DHCP gave."""
        configured = [self.value(f"Network 1 DNS Server {n} Address") for n in (1, 2, 3)]
        return [a for a in configured if a] or list(self.dns_servers)

    def _dns_status(self) -> list[tuple[Leaf, str]]:
        # The recorded CE 9.1 and RoomOS 11 dumps list three servers, empty ones included.
        servers = (self.dns_servers_now() + ["", "", ""])[:max(3, len(self.dns_servers_now()))]
        return [status_leaf("Network 1 DNS Domain Name", self.value("Network 1 DNS Domain Name")),
                *(status_leaf(f"Network 1 DNS Server {n} Address", address)
                  for n, address in enumerate(servers, 1))]

    def system_time(self) -> str:
        """`Time SystemTime` in the recorded form `2021-03-02T14:06:31-0500` (UTC here)."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%S%z")

    def _system_unit(self) -> list[tuple[Leaf, str]]:
        date = self.release_date
        hardware = [status_leaf("SystemUnit Hardware Module CompatibilityLevel", "0", quoted=False),
                    status_leaf("SystemUnit Hardware Module SerialNumber", self.serial)]
        if self.tc:
            hardware = [status_leaf("SystemUnit Hardware MainBoard Identifier", "101250-4 [08]"),
                        status_leaf("SystemUnit Hardware MainBoard SerialNumber", self.serial), *hardware]
        software = [status_leaf("SystemUnit Software Name", SOFTWARE_NAMES.get(self.model, "s53300")),
                    status_leaf("SystemUnit Software ReleaseDate", date),
                    status_leaf("SystemUnit Software Version", self.software)]
        if self.tc:
            software.insert(0, status_leaf("SystemUnit Software Application", "Endpoint"))
        else:
            software.insert(0, status_leaf("SystemUnit Software DisplayName", self.display_name))
        return [
            *hardware,
            status_leaf("SystemUnit ProductId", self.product_id),
            status_leaf("SystemUnit ProductPlatform", self.model),
            status_leaf("SystemUnit ProductType", "Cisco Codec"),
            *software,
            status_leaf("SystemUnit State NumberOfActiveCalls", "0", quoted=False),
            status_leaf("SystemUnit Uptime", str(int(time.monotonic() - self._booted)), quoted=False),
        ]

    def booted(self) -> None:
        self._booted = time.monotonic()
        # TC applies HTTP/HTTPS Mode changes at the next boot ("Reboot required", cisco.md §1.3).
        self.http_modes_at_boot = self._http_modes()
        super().booted()

    # --- HTTP mode -------------------------------------------------------------------------

    def _http_modes(self) -> tuple[bool, bool]:
        """(plain HTTP served, HTTPS served) per the configuration."""
        if self.tc:
            return self.value("NetworkServices HTTP Mode") == "On", self.value("NetworkServices HTTPS Mode") == "On"
        mode = self.value("NetworkServices HTTP Mode")
        return mode == "HTTP+HTTPS", mode in ("HTTP+HTTPS", "HTTPS")

    def serves(self, secure: bool) -> bool | None:
        """Whether a request on this scheme is served; None: plain HTTP redirected to HTTPS."""
        # TC applies HTTP/HTTPS Mode changes at the next boot ("Reboot required", cisco.md §1.3).
        plain, tls = self.http_modes_at_boot if self.tc else self._http_modes()
        if secure:
            return tls
        if plain:
            return True
        return None if tls else False

def _sip_status(sip: SipSettings, phase: str, failure: str | None, base: str) -> list[tuple[Leaf, str]]:
    registered = phase == "registered"
    proxy_status = {"inactive": "Off", "registering": "Unknown", "registered": "Active"}.get(
        phase, _PROXY_STATUS.get(failure or "", "Unknown"))
    return [
        status_leaf(f"{base}Authentication", "Digest" if registered and sip.auth_username else "Off", quoted=False),
        status_leaf(f"{base}CallForward DisplayName", ""),
        status_leaf(f"{base}CallForward Mode", "Off", quoted=False),
        status_leaf(f"{base}CallForward URI", ""),
        status_leaf(f"{base}Mailbox MessagesWaiting", "0", quoted=False),
        status_leaf(f"{base}Mailbox URI", ""),
        status_leaf(f"{base}Proxy 1 Address", sip.proxy if phase != "inactive" else ""),
        status_leaf(f"{base}Proxy 1 Status", proxy_status, quoted=False),
        status_leaf(f"{base}Registration 1 Reason", CISCO_REASONS[failure] if failure else ""),  # type: ignore[index]
        status_leaf(f"{base}Registration 1 Status", _PHASE_STATUS[phase], quoted=False),
        status_leaf(f"{base}Registration 1 URI", sip.uri if phase != "inactive" else ""),
        status_leaf(f"{base}Secure", "True" if registered and sip.transport == "tls" else "False", quoted=False),
        status_leaf(f"{base}Verified", "False", quoted=False),
    ]


def _cli_path(tokens: Sequence[Token]) -> str:
    return " ".join(name if index is None else f"{name} {index}" for name, index in tokens)


def _xpath(root: str, tokens: Sequence[Token]) -> str:
    return "/".join([root, *(name if index is None else f"{name}[{index}]" for name, index in tokens)])


def _major(software: str) -> int:
    digits = software.lower().removeprefix("ce").removeprefix("tc").split(".")[0]
    return int(digits) if digits.isdigit() else 0
