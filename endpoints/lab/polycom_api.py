"""The Polycom line API's interpreter: what one command line does to a unit and answers.

The same interpreter serves telnet and SSH (`polycom_line`) and HDX's `a_apicommand.cgi`
(`polycom_web`). Command names, abbreviations, parameter counts, reply templates and
error strings come from the Group Series firmware's own table (`polycom_table`); the
tokenizer is written here from the notes (polycom.md §1): a token is a word or a
`"quoted string"`, and a value "only needs to be enclosed in quotes if it contains
whitespace".
"""
from __future__ import annotations

from dataclasses import dataclass

from endpoints.lab import polycom_table as firmware
from endpoints.lab.polycom_device import PolycomState

# What the unit does once the answer is out (the session server carries it out).
AFTER_NOTHING, AFTER_CLOSE, AFTER_REBOOT = "", "close", "reboot"
# UNSURE what the wizard refuses and how (issue 19 item 4). Reads, where the room's
# `wizard_blocks_reads` says so, get the IRM's wording for unavailable commands; writes get
# the firmware table's `_permissiondenied` (`error: Permission Denied`).
WIZARD_REFUSAL = "command is not available in current system configuration"
OOB_COMMANDS = frozenset({"whoami", "ver", "version", "serialnum", "status", "setpassword",
                          "oobcomplete", "exit", "session", "echo", "systemname", "reboot", "resetsystem"})
# The status items a 6.2.2.8 unit reports (group-rest-system-status.json), REST state -> line word.
STATUS_ITEMS = (
    ("inacall", "off"), ("autoanswerp2p", "off"), ("remotecontrol", "up"), ("microphones", "up"),
    ("visualboard", "up"), ("globaldirectory", "off"), ("ipnetwork", "up"), ("gatekeeper", "unknown"),
    ("sipserver", ""), ("logthreshold", "off"), ("meetingpassword", "off"), ("rpms", "off"),
)


class UnterminatedQuote(ValueError):
    pass


def tokens_of(line: str) -> list[str]:
    """Tokens of a command line. A token that starts with `"` runs to the next `"` (the
    quotes are not part of it); any other token runs to the next blank. A quote inside a
    bare word is kept as a character (UNSURE: the notes only describe whole quoted values)."""
    tokens: list[str] = []
    index = 0
    while index < len(line):
        if line[index].isspace():
            index += 1
            continue
        if line[index] == '"':
            end = line.find('"', index + 1)
            if end < 0:
                raise UnterminatedQuote(line[index:])
            tokens.append(line[index + 1:end])
            index = end + 1
            continue
        end = index
        while end < len(line) and not line[end].isspace():
            end += 1
        tokens.append(line[index:end])
        index = end
    return tokens


def shown(value: str) -> str:
    """A value in a reply: quoted when it holds a blank or is empty (polycom.md §1.3)."""
    return f'"{value}"' if value == "" or any(c.isspace() for c in value) else value


@dataclass
class Reply:
    lines: list[str]
    after: str = AFTER_NOTHING
    # `resetsystem deletesystemsettings`: the unit comes back from the factory
    factory: bool = False


class LineApi:
    """The interpreter for one unit."""

    def __init__(self, device: PolycomState) -> None:
        self.device = device
        self.table = firmware.table()

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
            # The unit's own clock, offset included (the line API's only clock; the exact
            # layout of both lines is UNSURE, polycom.md §3.2).
            ("SNTP Time Service", "auto insync pool.ntp.org"),
            ("Local Time is", device.now().strftime("%a, %d %b %Y %H:%M:%S")),
            ("IP Video Number", "127.0.0.1"),
            ("MP Enabled", "False"),
            ("H323 Enabled", device.value("comm.callpreference.iph323enable") or "True"),
            ("HTTP Enabled", device.value("security.remoteaccess.web.enabled") or "True"),
            ("SNMP Enabled", "True"),
        ]
        return "".join(f"{key}\r\n" if value is None else f"{key}: {value}\r\n" for key, value in fields)

    def execute(self, text: str) -> Reply:
        """Reply lines for one command line, and what the unit does after answering."""
        self.device.commands_seen.append(text)
        try:
            tokens = tokens_of(text)
        except UnterminatedQuote:
            return Reply([firmware.error("_unterminatedquotedstring")])
        match = self.table.match(tokens)
        if isinstance(match, str):
            return Reply([match])
        spec, params = match.spec, match.params
        if len(params) < spec.min_params:
            return Reply([firmware.error("_notenoughparams")])
        if spec.max_params is not None and len(params) > spec.max_params:
            return Reply([firmware.error("_illegalparams")])
        refusal = self._wizard_refusal(spec)
        if refusal:
            return Reply([refusal])
        if spec.kind == "session" and spec.root == "exit":
            return Reply([], AFTER_CLOSE)
        return self._run(spec, params, text)

    def _wizard_refusal(self, spec: firmware.CommandSpec) -> str | None:
        if not self.device.oob or spec.root in OOB_COMMANDS or spec.words == ("systemsetting", "get", "model"):
            return None
        if spec.kind in ("setconfig", "apiforward") or spec.action.endswith("={0}"):
            return firmware.error("_permissiondenied")
        return WIZARD_REFUSAL if self.device.wizard_blocks_reads else None

    def _run(self, spec: firmware.CommandSpec, params: list[str], text: str) -> Reply:
        device = self.device
        if spec.kind == "getconfig" and spec.config_key:
            return Reply(self._render(spec, self._shown(spec, device.value(spec.config_key)), params, text))
        if spec.kind == "setconfig" and spec.config_key and "{1}" not in spec.action:
            return Reply(self._set(spec, params, text))
        if spec.root == "status" and spec.kind == "system":
            return Reply(self.status_lines())
        if spec.kind == "whoami":
            return Reply(self.banner().rstrip("\r\n").split("\r\n"))
        if spec.kind == "setpassword" and spec.words[:2] == ("setpassword", "admin"):
            return Reply(self._set_password(params))
        if spec.root == "oobcomplete":
            device.oob = False
            after = AFTER_REBOOT if device.family == "hdx" and device.restart_after_oobcomplete else AFTER_NOTHING
            return Reply(["oobcomplete"], after)  # UNSURE: the template is `$^ {0}`; {0} is empty here
        if spec.root == "reboot":
            # `reboot now` / `reboot y`: "no feedback" says the IRM, AVI-SPL waits for a line
            # starting `reboot now`: the template's words are printed, then the unit goes.
            return Reply([" ".join(spec.words)], AFTER_REBOOT)
        if spec.root == "resetsystem" and spec.kind == "resetsystem":
            return Reply(["resetsystem"], AFTER_REBOOT, factory="deletesystemsettings" in params)
        if spec.kind == "getstatus" and spec.template != "nop":
            return Reply(self._render(spec, "", params, text))
        if spec.kind == "session" and spec.template != "nop":
            return Reply(self._render(spec, shown(params[0]) if params else "", params, text))
        # The lab does not model this command's effect: say so as the firmware would.
        return Reply([firmware.error("_notsupportedcmd")])

    def _shown(self, spec: firmware.CommandSpec, value: str) -> str:
        if spec.translate_results:
            value = firmware.results().get(f"{spec.root}.{value}", value)
        return shown(value) if '"' not in value else value

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
