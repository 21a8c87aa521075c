"""The Polycom line API (HDX 3.x and Group Series 6.x, telnet and SSH) as text.

Pure helpers (quoting, tokens, error and noise lines, banner fields, identity, the set
commands of a setting) and `LineSession`, which runs one command at a time over a text
`Channel` and matches the reply by its first words, never by position: real units replay
their login banner mid-session, echo commands late, and let replies lag behind
(protocols/polycom.md §3.5). Every driver of the line API's commands (telnet, SSH, the
HDX web server's a_apicommand.cgi, the Group Series wizard over SSH) builds on this module.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from endpoints import support
from endpoints.channel import Channel
from endpoints.drivers.base import Write
from endpoints.drivers.polycom_commands import CONFIG_COMMANDS
from endpoints.errors import AuthenticationFailed, ProtocolError, SettingRefused, Transient, Unreachable
from endpoints.host import Credentials, Host
from endpoints.secrets import MASK, Secret
from endpoints.transports.base import Deadline, StreamTransport
from endpoints.transports.ssh import SshTransport
from endpoints.transports.telnet import TelnetTransport

log = logging.getLogger(__name__)

# systemsetting names and their config keys (the firmware's legacycommands.txt).
SETTINGS: dict[str, str] = {
    "sipenable": "comm.callpreference.sipenable",
    "sipusername": "comm.nics.sipnic.sipusername",
    "sipaccountname": "comm.nics.sipnic.sipaccountname",
    "sippassword": "comm.nics.sipnic.sippassword",
    "sipregistrarserver": "comm.nics.sipnic.sipregistrarserver",
    "sipproxyserver": "comm.nics.sipnic.sipproxyserver",
    "siptransportprotocol": "comm.nics.sipnic.siptransportprotocol",
    "sipconfigtype": "comm.nics.sipnic.sipconfigtype",
    "sipforcereuse": "comm.nics.sipnic.forceconnectionreuse",
    "model": "system.info.humanreadablemodel",
}
WRITE_ONLY = frozenset({"sippassword"})  # the table has no `get` form for it
NAME_OF_KEY = {key: name for name, key in SETTINGS.items()}
NAME_OF_KEY.update({key: name for name, (_, key) in CONFIG_COMMANDS.items() if key not in NAME_OF_KEY})

# The firmware table's error texts (legacyresults.txt) plus the IRM's extras; replies
# starting with `error:` or `info:` are refusals too (field test I-7).
FIRMWARE_ERRORS = (
    "error: command has illegal parameters",
    "error: command needs more parameters to execute successfully",
    "error: command not found",
    'error: sub command "{0}" not found',
    "error: command contains unterminated quoted string",
    "error: this command is not supported",
    "error: Permission Denied",
)
IRM_ERRORS = (
    "error:command not found",
    "error: this command is not supported on this model",
    "command is not available in current system configuration",
    "this setting is controlled by a provisioning service and cannot be changed.",
)
NOT_FOUND_MARKS = ("command not found", "sub command", "not supported")
WIZARD_MARK = "not available in current system configuration"

NOTIFICATION_PREFIXES = ("notification:", "control event:", "listen ", "cs: ", "active: ", "ended: ")
BANNER_START = "hi, my name is"
BANNER_END = "snmp enabled"
BANNER_KEYS = frozenset({
    "hi, my name is", "here is what i know about myself", "model", "serial number",
    "software version", "build information", "contact number", "time in last call",
    "total time in calls", "total calls", "sntp time service", "local time is",
    "ip video number", "mp enabled", "h323 enabled", "http enabled", "snmp enabled",
    "session type", "polycom command shell",
})


# --- values and tokens ----------------------------------------------------------------------

def quote(value: str) -> str:
    """A value as one token: quoted when it holds whitespace, `""` when empty."""
    if '"' in value or "\r" in value or "\n" in value:
        raise ValueError("the line API cannot carry a double quote or a line break in a value")
    if value == "" or any(c.isspace() for c in value):
        return f'"{value}"'
    return value


def split_tokens(line: str) -> list[str]:
    """Tokens of a command or reply; a quoted string is one token. Raises on an open quote."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = in_token = False
    for char in line:
        if char == '"':
            quoted, in_token = not quoted, True
        elif char.isspace() and not quoted:
            if in_token:
                tokens.append("".join(current))
            current, in_token = [], False
        else:
            current.append(char)
            in_token = True
    if quoted:
        raise ValueError("unterminated quoted string")
    if in_token:
        tokens.append("".join(current))
    return tokens


def loose_tokens(line: str) -> list[str]:
    try:
        return split_tokens(line)
    except ValueError:
        return line.split()


def same_words(a: str, b: str) -> bool:
    return [t.casefold() for t in loose_tokens(a)] == [t.casefold() for t in loose_tokens(b)]


# --- line kinds ---------------------------------------------------------------------------

def error_of(line: str) -> str | None:
    """The device's refusal text when this line is one, else None."""
    text = line.strip()
    lowered = text.casefold()
    if lowered.startswith(("error:", "error :", "info:")):
        return text
    if any(lowered.startswith(extra.casefold()) for extra in IRM_ERRORS[2:]):
        return text
    if lowered.endswith(" failed") and not lowered.startswith("systemsetting"):
        return text
    return None


def is_notification(line: str) -> bool:
    return line.casefold().startswith(NOTIFICATION_PREFIXES)


def banner_field(line: str) -> tuple[str, str] | None:
    """(key, value) when the line belongs to the login banner (`whoami` block)."""
    key, sep, value = line.partition(":")
    if key.strip().casefold() in BANNER_KEYS and (sep or key.strip().casefold().startswith("here is")):
        return key.strip(), value.strip()
    return None


def strip_prompt(line: str) -> tuple[bool, str]:
    """(True, rest) for a line that starts with the `-> ` prompt (rest: echo or glued data)."""
    if not line.startswith("->"):
        return False, line
    rest = line
    while rest.startswith("->"):
        rest = rest[2:].lstrip()
    return True, rest


def value_of(reply: str, words: int) -> str:
    """The value after the first `words` tokens of a reply, quotes removed."""
    tokens = loose_tokens(reply)
    rest = tokens[words:]
    return " ".join(rest) if rest else ""


# --- identity -----------------------------------------------------------------------------

def software_of(version: str) -> str:
    """`Release - 6.2.2.8-670021` -> `6.2.2.8-670021` (any `Release` prefix dropped)."""
    match = re.search(r"\d+\.\d+[\w.\-]*", version)
    return match.group(0) if match else version.strip()


def canonical_model(product: str) -> str | None:
    """`RealPresence Group 550` -> `Group 550`; `HDX 9006` -> `HDX 9000` (the support matrix)."""
    return support.model_of_product(product)


# --- commands -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One command to send and how to recognise its reply."""

    text: str  # as sent (may hold a secret: never logged)
    shown: str  # as logged
    replies: tuple[tuple[str, ...], ...]  # first words of an acceptable reply
    echo_like: bool = False  # the reply repeats the command (set forms)
    end: str | None = None  # multi-line reply ends with this line (`status end`)
    resend_after_banner: bool = True  # idempotent: safe to send again

    @property
    def head(self) -> str:
        return " ".join(self.shown.split()[:3])


def is_command_setting(name: str) -> bool:
    """A setting with a command of its own (`systemname get`), not a `systemsetting` name."""
    return name not in SETTINGS and name in CONFIG_COMMANDS


def value_position(name: str) -> int:
    """How many words precede the value in the reply: `systemname X` 1, `systemsetting n X` 2."""
    return 1 if is_command_setting(name) else 2


def get_setting(name: str) -> Command:
    if is_command_setting(name):
        return Command(f"{name} get", f"{name} get", ((name,),))
    return Command(f"systemsetting get {name}", f"systemsetting get {name}", (("systemsetting", name),))


def set_setting(name: str, value: str, *, secret: bool) -> Command:
    if is_command_setting(name):
        verb = f"{name} set" if CONFIG_COMMANDS[name][0] else name
        shown = f"{verb} {MASK if secret else quote(value)}"
        return Command(f"{verb} {quote(value)}", shown, ((name,),), echo_like=True)
    text = f"systemsetting {name} {quote(value)}"
    shown = f"systemsetting {name} {MASK if secret else quote(value)}"
    return Command(text, shown, (("systemsetting", name),), echo_like=True)


def simple(word: str) -> Command:
    return Command(word, word, ((word,),))


STATUS = Command("status", "status", (), end="status end")


def set_password(old: str, new: str) -> Command:
    text = f"setpassword admin room {quote(old)} {quote(new)}"
    shown = f"setpassword admin room {MASK} {MASK}"
    return Command(text, shown, (("password", "changed"), ("setpassword",)), echo_like=True,
                   resend_after_banner=False)


OOB_COMPLETE = Command("oobcomplete", "oobcomplete", (("oobcomplete",),), echo_like=True,
                       resend_after_banner=False)


class CommandRefused(Exception):
    """The device answered a command with an error line (text is the device's own)."""

    def __init__(self, command: Command, reason: str) -> None:
        super().__init__(f"'{command.head}': {reason}")
        self.command, self.reason = command, reason

    @property
    def not_found(self) -> bool:
        lowered = self.reason.casefold()
        return any(mark in lowered for mark in NOT_FOUND_MARKS)

    @property
    def in_wizard(self) -> bool:
        return WIZARD_MARK in self.reason.casefold()


# --- the session ------------------------------------------------------------------------------

_DEVICE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def device_lock(device: str) -> threading.Lock:
    """One command in flight per device, whichever session or thread sends it."""
    with _LOCKS_GUARD:
        return _DEVICE_LOCKS.setdefault(device, threading.Lock())


@dataclass
class _Exchange:
    command: Command
    echo_seen: bool = False
    banner_open: bool = False
    resent: bool = False
    skipped: int = 0
    lines: list[str] = field(default_factory=list)


class LineSession:
    """Login and command/reply over one channel; one command at a time per device."""

    SKIP_BUDGET = 200  # unrelated lines tolerated while waiting for one reply

    def __init__(self, channel: Channel, *, device: str, timeout: float, gap: float,
                 secrets: Iterable[str] = ()) -> None:
        self.channel, self.device, self.timeout, self.gap = channel, device, timeout, gap
        self.secrets = [s for s in secrets if s]
        self.banner: dict[str, str] = {}
        self.echoes = False  # learned: the device echoes commands back
        self.echo_known = False  # a get has shown whether it does
        self._buffer = ""
        self._last_reply = 0.0
        self._sent: list[str] = []
        self._lock = device_lock(device)

    # -- login --

    def login(self, username: str, password: str | None) -> None:
        """Answer the device's own prompts and wait for its banner or `-> ` prompt."""
        deadline = Deadline(self.timeout)
        received = answered = False
        while True:
            chunk = self.channel.read(deadline)
            if chunk == "":
                self._closed_during_login(received, answered)
            received = True
            self._buffer += chunk
            answered = self._answer_prompt(username, password, answered)
            if self._logged_in():
                self._last_reply = time.monotonic()
                return

    def _closed_during_login(self, received: bool, answered: bool) -> None:
        if answered:
            raise AuthenticationFailed(f"{self.device}: the device closed the session after the password")
        if not received:
            raise Unreachable(f"{self.device}: the device closed the connection before saying anything")
        raise Transient(f"{self.device}: the device closed the connection during login")

    def _answer_prompt(self, username: str, password: str | None, answered: bool) -> bool:
        tail = self._buffer.rsplit("\n", 1)[-1].strip().casefold()
        if tail.endswith("password:"):
            if answered:
                raise AuthenticationFailed(f"{self.device}: the device refused the password")
            if password is None:
                raise AuthenticationFailed(f"{self.device}: the device asks for a password and none is set")
            self._buffer = ""
            self.channel.send_line(password, shown=MASK)
            return True
        if tail.endswith(("username:", "login:", "user name:")):
            self._buffer = ""
            self.channel.send_line(username)
            return answered
        lowered = self._buffer.casefold()
        if answered and ("login incorrect" in lowered or "authentication failed" in lowered
                         or "invalid password" in lowered):
            raise AuthenticationFailed(f"{self.device}: the device refused the password")
        return answered

    def _logged_in(self) -> bool:
        complete, _, partial = self._buffer.rpartition("\n")
        for raw in complete.split("\n"):
            line = raw.strip("\r ").strip()
            field_ = banner_field(line)
            if field_:
                self.banner[field_[0]] = field_[1]
        if partial.strip().startswith("->") or "\n->" in "\n" + complete:
            self._buffer = ""  # everything up to the prompt was greeting
            return True
        return False

    # -- commands --

    def run(self, command: Command) -> list[str]:
        """Send one command and return its reply line(s); CommandRefused for an error line."""
        with self._lock:
            self._wait_gap()
            self._send(command)
            try:
                lines = self._collect(_Exchange(command))
                self.echo_known = self.echo_known or not command.echo_like
                return lines
            finally:
                self._last_reply = time.monotonic()

    def _wait_gap(self) -> None:
        pause = self._last_reply + self.gap - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def _send(self, command: Command) -> None:
        self.channel.send_line(command.text, shown=command.shown)
        self._sent = (self._sent + [command.text])[-20:]

    def _collect(self, exchange: _Exchange) -> list[str]:
        deadline = Deadline(self.timeout)  # the whole reply, however the device drips it
        while True:
            for line in self._complete_lines():
                done = self._take(exchange, line)
                if done:
                    return exchange.lines
            chunk = self.channel.read(deadline)
            if chunk == "":
                raise Transient(f"{self.device}: the device closed the session during "
                                f"'{exchange.command.head}'")
            self._buffer += chunk

    def _complete_lines(self) -> list[str]:
        if "\n" not in self._buffer:
            return []
        complete, _, self._buffer = self._buffer.rpartition("\n")
        return [raw.strip("\r").strip() for raw in complete.split("\n")]

    def _take(self, exchange: _Exchange, line: str) -> bool:
        """Account one line; True when the reply is complete."""
        if not line:
            return False
        prompted, line = strip_prompt(line)
        if prompted and (not line or self._is_echo(exchange, line)):
            return False
        if self._is_noise(exchange, line):
            return False
        reason = error_of(line)
        if reason is not None:
            raise CommandRefused(exchange.command, self._redact(reason))
        if exchange.command.end is not None:
            return self._take_multiline(exchange, line)
        if same_words(line, exchange.command.text):
            return self._take_repeat(exchange, line)
        if self._answers(exchange.command, line):
            exchange.lines.append(line)
            return True
        self._skip(exchange)
        return False

    def _is_echo(self, exchange: _Exchange, rest: str) -> bool:
        """After the prompt: our command's echo, or a stale echo of an earlier one."""
        if same_words(rest, exchange.command.text) and not exchange.echo_seen:
            if exchange.command.echo_like and self.echo_known and not self.echoes:
                return False  # a device without echo: the reply sits right after the prompt
            exchange.echo_seen = self.echoes = True
            return True
        return any(same_words(rest, sent) for sent in self._sent[:-1])

    def _is_noise(self, exchange: _Exchange, line: str) -> bool:
        field_ = banner_field(line)
        if field_ is not None:
            self.banner[field_[0]] = field_[1]
            key = field_[0].casefold()
            if key == BANNER_START:
                exchange.banner_open = True
            elif key == BANNER_END and exchange.banner_open:
                self._after_banner(exchange)
            return True
        return is_notification(line)

    def _after_banner(self, exchange: _Exchange) -> None:
        # The banner can replace a reply (field test I-8): ask again, once.
        exchange.banner_open = False
        command = exchange.command
        if command.resend_after_banner and not exchange.resent and not exchange.lines:
            log.debug("%s: banner replayed during '%s'; sending it again", self.device, command.head)
            exchange.resent, exchange.echo_seen = True, False
            self._send(command)

    def _take_repeat(self, exchange: _Exchange, line: str) -> bool:
        """A line that repeats the command: the echo, or the reply of a set form."""
        if exchange.command.echo_like and (exchange.echo_seen or not self.echoes):
            exchange.lines.append(line)
            return True
        if not exchange.echo_seen:
            exchange.echo_seen = self.echoes = True
        return False

    def _take_multiline(self, exchange: _Exchange, line: str) -> bool:
        if line.casefold() == (exchange.command.end or "").casefold():
            return True
        if same_words(line, exchange.command.text):
            exchange.echo_seen = self.echoes = True
            return False
        if len(loose_tokens(line)) == 2:
            exchange.lines.append(line)
        else:
            self._skip(exchange)
        return False

    def _answers(self, command: Command, line: str) -> bool:
        words = [t.casefold() for t in loose_tokens(line)]
        return any(words[:len(prefix)] == [p.casefold() for p in prefix] for prefix in command.replies)

    def _skip(self, exchange: _Exchange) -> None:
        exchange.skipped += 1
        log.debug("%s: skipped a line that does not answer '%s'", self.device, exchange.command.head)
        if exchange.skipped > self.SKIP_BUDGET:
            raise ProtocolError(f"{self.device}: no recognisable reply to '{exchange.command.head}'")

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def say_goodbye(self) -> None:
        """`exit` frees the device's login slot; never raises (the session may be gone)."""
        try:
            self.channel.send_line("exit")
        except Exception:
            log.debug("%s: could not say exit", self.device, exc_info=True)

    def close(self) -> None:
        try:
            self.channel.close()
        except Exception:
            log.debug("%s: error while closing the channel", self.device, exc_info=True)


# --- a setting's commands (every driver of the line commands) --------------------------------

def setting_name(path: str) -> str:
    """The canonical `systemsetting` name for a path (name in any case, or its config key)."""
    lowered = path.strip().casefold()
    if lowered.startswith("systemsetting "):
        lowered = lowered.split()[-1]
    return NAME_OF_KEY.get(lowered, lowered)


def set_command(write: Write, *, forbidden: str = "", why: str = "") -> Command:
    """The command that sets one setting; SettingRefused when the value cannot be sent."""
    value = write.clear_value()
    try:
        if forbidden and forbidden in value:
            raise ValueError(why)
        return set_setting(setting_name(write.path), value, secret=isinstance(write.value, Secret))
    except ValueError as exc:
        raise SettingRefused(write.path, str(exc)) from None


def check_kept(write: Write, kept: str) -> None:
    """A set reply repeats the value the device kept: it must be the one sent."""
    if not isinstance(write.value, Secret) and kept.casefold() != write.value.casefold():
        raise SettingRefused(write.path, f"the device kept {kept!r}")


def open_line_session(host: Host, transport: str, credentials: Credentials, *, timeout: float,
                      gap: float, trust_changed_key: bool = False) -> tuple[LineSession, SshTransport | None]:
    """Connect and log in to the line API; the session (and the SSH connection, for its key)."""
    port = host.port(transport, support.default_port(transport))
    ssh: SshTransport | None = None
    stream: StreamTransport
    if transport == "telnet":
        stream = TelnetTransport(host.address, port, timeout=timeout, where=f"{host.name} (telnet {host.address}:{port})")
        stream.open()
    else:
        # Group Series offers only the legacy `ssh-rsa` host key (the support matrix); checking stays on.
        ssh = SshTransport(host, port, credentials, timeout=timeout,
                           host_key_algs=support.ssh_host_keys("polycom-group"),
                           trust_changed_key=trust_changed_key)
        ssh.open()
        try:
            stream = ssh.stream(pty=True)
        except BaseException:
            ssh.close()
            raise
    password = credentials.password.reveal() if credentials.password else None
    session = LineSession(
        Channel(stream, timeout=timeout, newline="\r" if transport == "ssh" else "\r\n"),
        device=f"{host.name}@{host.address}", timeout=timeout, gap=gap, secrets=[password] if password else [])
    try:
        session.login(credentials.username, password)
    except BaseException:
        # Not logged in: hang up without a word. An `exit` sent now would land at the
        # device's password prompt and count as one more failed login towards its lockout.
        session.close()
        raise
    return session, ssh
