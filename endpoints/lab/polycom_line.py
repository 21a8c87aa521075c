"""The simulated line API (telnet and SSH) of a Polycom unit, and its command interpreter.

Wire behaviour (protocols/polycom.md §1.1, §2.1, §3): telnet asks `Password: ` (no
newline) when a password is set; the `whoami` banner greets every session; `-> ` is the
prompt; the command is echoed after the prompt; lines end `\\r\\n`, which an SSH PTY turns
into `\\r\\r\\n`. Faults: the banner can replace a reply, a reply can lag behind the next
command, replies can be slow, connections can be dropped.
"""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from endpoints.drivers.polycom_lineproto import quote, split_tokens
from endpoints.lab import polycom_table as firmware
from endpoints.lab.net import Stream

if TYPE_CHECKING:
    from endpoints.lab.polycom import PolycomDevice

LAG_SECONDS = 0.3  # a lagging reply waits this long for the next command, then comes anyway
BANNER_REPLAY_EVERY = 4  # with the fault on, every 4th reply is replaced by the banner
PASSWORD_TRIES = 3
# UNSURE what the wizard refuses; this is the IRM's wording for unavailable commands.
WIZARD_REFUSAL = "command is not available in current system configuration"
OOB_COMMANDS = frozenset({"whoami", "ver", "version", "serialnum", "status", "setpassword",
                          "oobcomplete", "exit", "session", "echo", "systemname"})
# The status items a 6.2.2.8 unit reports (group-rest-system-status.json), REST state -> line word.
STATUS_ITEMS = (
    ("inacall", "off"), ("autoanswerp2p", "off"), ("remotecontrol", "up"), ("microphones", "up"),
    ("visualboard", "up"), ("globaldirectory", "off"), ("ipnetwork", "up"), ("gatekeeper", "unknown"),
    ("sipserver", ""), ("logthreshold", "off"), ("meetingpassword", "off"), ("rpms", "off"),
)


class LineSessionServer:
    """Runs line sessions for one device: login, banner, echo, commands, faults."""

    def __init__(self, device: PolycomDevice) -> None:
        self.device = device
        self.table = firmware.table()

    # -- sessions --

    async def serve(self, stream: Stream) -> None:
        device = self.device
        if device.faults.drop > 0:
            device.faults.drop -= 1
            stream.close()
            return
        device.session_opened()
        try:
            if stream.kind == "telnet" and not await self._password(stream):
                return
            self._out(stream, "\r\n" + self.banner() + "-> ")
            await self._commands(stream)
        finally:
            device.session_closed()

    def _out(self, stream: Stream, text: str) -> None:
        # An SSH PTY (ONLCR) turns the device's \r\n into \r\r\n.
        stream.write(text.replace("\n", "\r\n") if stream.pty else text)

    async def _password(self, stream: Stream) -> bool:
        device = self.device
        if not device.admin_password and not device.faults.refuse_login:
            return True  # HDX: "Password:" only if a password is set
        for _ in range(PASSWORD_TRIES):
            stream.write("Password: ")
            answer = await stream.read_line()
            if answer is None:
                return False
            if device.check_login("", answer):
                return True
            stream.write("\r\n")  # UNSURE what a unit prints on a wrong password: it asks again
        stream.close()
        return False

    async def _commands(self, stream: Stream) -> None:
        held: str | None = None
        reading: asyncio.Future[str | None] | None = None
        count = 0
        try:
            while True:
                reading = reading or asyncio.ensure_future(stream.read_line())
                if held is not None:
                    await asyncio.wait({reading}, timeout=self.device.lag_seconds)
                    self._out(stream, held)
                    held = None
                line = await reading
                reading = None
                if line is None:
                    return
                count += 1
                reply, close = await self._answer(stream, line, count)
                if close:
                    self._out(stream, reply)
                    stream.close()
                    return
                if self.device.faults.lag:
                    held = reply
                else:
                    self._out(stream, reply)
        finally:
            if reading is not None:
                reading.cancel()

    async def _answer(self, stream: Stream, line: str, count: int) -> tuple[str, bool]:
        device = self.device
        # The echo: HDX's API echo ends <LF><CR> (IRM 3.0 example); UNSURE whether GS telnet
        # echoes at all: it does here, as GS does over SSH.
        echo_end = "\n\r" if device.family == "hdx" and stream.kind == "telnet" else "\r\n"
        stream.write(line + (echo_end if not stream.pty else "\r\r\n"))
        if not line.strip():
            return "-> ", False
        device.counters.requests += 1
        lines, close = self.execute(line)
        if device.faults.slow:
            await asyncio.sleep(device.faults.slow)
        if device.faults.banner_replay and count % BANNER_REPLAY_EVERY == 0:
            return "\r\n" + self.banner() + "-> ", False  # the banner in place of the reply
        return "".join(f"{text}\r\n" for text in lines) + ("" if close else "-> "), close

    # -- the banner --

    def banner(self) -> str:
        device = self.device
        fields = [
            ("Hi, my name is ", device.system_name),
            ("Here is what I know about myself", None),
            ("Model", device.product),
            ("Serial Number", device.serial),
            ("Software Version", device.software),
            ("Build Information", device.value("system.info.build") or "670021"),
            ("Contact Number", ""),
            ("Time In Last Call", "0:00:00:27"),
            ("Total Time In Calls", "365:04:53:32"),
            ("Total Calls", "97"),
            ("SNTP Time Service", "auto insync pool.ntp.org"),
            ("Local Time is", time.strftime("%a, %d %b %Y %H:%M:%S")),
            ("IP Video Number", "127.0.0.1"),
            ("MP Enabled", "False"),
            ("H323 Enabled", device.value("comm.callpreference.iph323enable") or "True"),
            ("HTTP Enabled", device.value("security.remoteaccess.web.enabled") or "True"),
            ("SNMP Enabled", "True"),
        ]
        return "".join(f"{key}\r\n" if value is None else f"{key}: {value}\r\n" for key, value in fields)

    # -- the interpreter --

    def execute(self, text: str) -> tuple[list[str], bool]:
        """Reply lines for one command line, and whether the session ends."""
        self.device.commands_seen.append(text)
        try:
            tokens = split_tokens(text)
        except ValueError:
            return [firmware.error("_unterminatedquotedstring")], False
        match = self.table.match(tokens)
        if isinstance(match, str):
            return [match], False
        spec, params = match.spec, match.params
        if len(params) < spec.min_params:
            return [firmware.error("_notenoughparams")], False
        if spec.max_params is not None and len(params) > spec.max_params:
            return [firmware.error("_illegalparams")], False
        if self.device.oob and not self._allowed_in_wizard(spec):
            return [WIZARD_REFUSAL], False
        if spec.kind == "session" and spec.root == "exit":
            return [], True
        return self._run(spec, params, text), False

    @staticmethod
    def _allowed_in_wizard(spec: firmware.CommandSpec) -> bool:
        return spec.root in OOB_COMMANDS or spec.words == ("systemsetting", "get", "model")

    def _run(self, spec: firmware.CommandSpec, params: list[str], text: str) -> list[str]:
        if spec.kind == "getconfig" and spec.config_key:
            return self._render(spec, self._shown(spec, self.device.value(spec.config_key)), params, text)
        if spec.kind == "setconfig" and spec.config_key and "{1}" not in spec.action:
            return self._set(spec, params, text)
        if spec.root == "status" and spec.kind == "system":
            return self.status_lines()
        if spec.kind == "whoami":
            return self.banner().rstrip("\r\n").split("\r\n")
        if spec.kind == "setpassword" and spec.words[:2] == ("setpassword", "admin"):
            return self._set_password(params)
        if spec.root == "oobcomplete":
            self.device.oob = False
            return ["oobcomplete"]  # UNSURE: the template is `$^ {0}`; {0} is empty here
        if spec.kind == "getstatus" and spec.template != "nop":
            return self._render(spec, "", params, text)
        if spec.kind == "session" and spec.template != "nop":
            return self._render(spec, quote(params[0]) if params else "", params, text)
        # The lab does not model this command's effect: say so as the firmware would.
        return [firmware.error("_notsupportedcmd")]

    def _shown(self, spec: firmware.CommandSpec, value: str) -> str:
        if spec.translate_results:
            value = firmware.results().get(f"{spec.root}.{value}", value)
        return quote(value) if '"' not in value else value

    def _set(self, spec: firmware.CommandSpec, params: list[str], text: str) -> list[str]:
        key = spec.config_key or ""
        value = params[0] if params else ""  # UNSURE: a 0/1 set with no value clears it
        if spec.translate_params:
            value = firmware.params().get(f"{spec.root}.{value}", value)
            if value == "_illegalparams":
                return [firmware.error("_illegalparams")]
        written = spec.words[-1] if spec.root == "systemsetting" else key
        error = self.device.set_value(key, value, count_as=written)
        if error:
            return [error]
        return self._render(spec, self._shown(spec, self.device.value(key)), params, text)

    def _render(self, spec: firmware.CommandSpec, value: str, params: list[str], text: str) -> list[str]:
        template = spec.template
        if template.startswith("%[transresult."):
            return [firmware.results().get(template[len("%[transresult."):-1], template)]
        if template == "nop":
            return []
        line = (template.replace("$^", spec.root).replace("$@", text)
                .replace("$*", " ".join(params)).replace("{0}", value))
        return [line]

    def status_lines(self) -> list[str]:
        lines = []
        for name, state in STATUS_ITEMS:
            word = self.device.registration_word("line") if name == "sipserver" else (
                "online" if state == "up" else "offline")
            lines.append(f"{name} {word}")
        return lines + ["status end"]

    def _set_password(self, params: list[str]) -> list[str]:
        old, new = params
        if old != self.device.admin_password:
            return [firmware.error("_illegalparams")]  # UNSURE: the wording of this refusal
        self.device.admin_password = new
        self.device.counters.written("admin password")
        return ["password changed"]  # HDX 3.1.14 reply (hdx-apicommand-results.json)
