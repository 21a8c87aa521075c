"""HDX 3.x over HTTP: the line API's commands through `a_apicommand.cgi`, registration
from `systemstatus.xml` (`SIP_REGISTER` state up/down/off).

The web server asks for HTTP authentication; whether 3.1 uses Basic or Digest is not
known (protocols/polycom.md §2.3), so the driver answers whichever challenge comes.
"""
from __future__ import annotations

import hashlib
import logging
import os
from base64 import b64encode
from collections.abc import Sequence
from urllib.request import parse_http_list, parse_keqv_list

from lxml import etree  # type: ignore[import-untyped]

from endpoints import support
from endpoints.drivers import polycom_lineproto as proto
from endpoints.drivers.base import Driver, Identity, Write
from endpoints.errors import AuthenticationFailed, DeviceBusy, ProtocolError, SettingRefused, Transient
from endpoints.host import Credentials, Host
from endpoints.secrets import MASK, Secret
from endpoints.transports.http import HttpTransport, Response

log = logging.getLogger(__name__)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class BasicOrDigest:
    """Answers a Basic or a Digest challenge, whichever the device sends, and once it knows
    which, answers unasked on the requests that follow (one round trip each, not two)."""

    def __init__(self, username: str, password: str) -> None:
        self._username, self._password = username, password
        self._scheme = ""  # "basic" or "digest", once the device said
        self._challenge: dict[str, str] = {}
        self._count = 0  # requests answered with this nonce (Digest `nc`)

    def __repr__(self) -> str:
        return "BasicOrDigest(********)"

    def logs_in(self, username: str, password: str) -> bool:
        return (self._username, self._password) == (username, password)

    def headers(self, method: str, target: str) -> dict[str, str]:
        if self._scheme == "basic":
            token = b64encode(f"{self._username}:{self._password}".encode()).decode("ascii")
            return {"Authorization": f"Basic {token}"}
        if self._scheme == "digest":
            return {"Authorization": self._digest(method, target)}
        return {}

    def challenge(self, response: Response) -> bool:
        """Whether this 401 taught something new (a scheme, a fresh nonce) worth one more try."""
        scheme, _, params = (response.headers.get("www-authenticate") or "").strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            known, self._scheme = self._scheme == "basic", "basic"
            return not known
        if scheme != "digest":
            return False
        fields = {k.lower(): v for k, v in parse_keqv_list(parse_http_list(params)).items()}
        if not fields.get("nonce"):
            return False
        fresh = self._scheme != "digest" or fields["nonce"] != self._challenge.get("nonce")
        self._scheme, self._challenge, self._count = "digest", fields, 0
        return fresh

    def _digest(self, method: str, target: str) -> str:
        """RFC 7616 (MD5 or SHA-256, optionally -sess; qop=auth or none)."""
        fields = self._challenge
        algorithm = fields.get("algorithm", "MD5")
        hash_name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"

        def digest(text: str) -> str:
            return hashlib.new(hash_name, text.encode("utf-8")).hexdigest()

        realm, nonce = fields.get("realm", ""), fields["nonce"]
        self._count += 1
        count, cnonce = f"{self._count:08x}", os.urandom(8).hex()
        secret = digest(f"{self._username}:{realm}:{self._password}")
        if algorithm.upper().endswith("-SESS"):
            secret = digest(f"{secret}:{nonce}:{cnonce}")
        request = digest(f"{method}:{target}")
        qops = [q.strip().lower() for q in fields.get("qop", "").split(",") if q.strip()]
        parts = [f'username="{self._username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{target}"',
                 f"algorithm={algorithm}"]
        if "auth" in qops:
            answer = digest(f"{secret}:{nonce}:{count}:{cnonce}:auth:{request}")
            parts += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
        else:
            answer = digest(f"{secret}:{nonce}:{request}")
        parts.append(f'response="{answer}"')
        if "opaque" in fields:
            parts.append(f'opaque="{fields["opaque"]}"')
        return "Digest " + ", ".join(parts)


class Reply:
    """One `<apicommand>` of an answer: the command, its status word and its reply lines."""

    def __init__(self, command: str, status: str, lines: list[str]) -> None:
        self.command, self.status, self.lines = command, status, lines

    @property
    def error(self) -> str | None:
        for line in self.lines:
            reason = proto.error_of(line)
            if reason is not None:
                return reason
        return None if self.status == "success" else f"command status {self.status or 'missing'}"

    @property
    def not_found(self) -> bool:
        reason = (self.error or "").casefold()
        return any(mark in reason for mark in proto.NOT_FOUND_MARKS)

    def value(self, words: tuple[str, ...]) -> str:
        for line in self.lines:
            tokens = [t.casefold() for t in proto.loose_tokens(line)]
            if tokens[:len(words)] == [w.casefold() for w in words]:
                return proto.value_of(line, len(words))
        raise ProtocolError(f"no '{' '.join(words)}' line in the reply to '{self.command}'")


class HdxHttpDriver(Driver):
    family = "hdx-http"
    transports = ("http",)

    def __init__(self, host: Host, transport: str = "http", *, credentials: Credentials | None = None,
                 timeout: float = 10.0, trust_changed_key: bool = False) -> None:
        super().__init__(host, transport, credentials=credentials, timeout=timeout,
                         trust_changed_key=trust_changed_key)
        self._http: HttpTransport | None = None
        self._login: BasicOrDigest | None = None  # one per session: it remembers the challenge

    # -- session --

    def open(self) -> None:
        self._http = HttpTransport(self.host, "http", self.host.port("http", support.default_port("http")),
                                   timeout=self.timeout)
        try:
            self._serial = self._one("serialnum").value(("serialnum",))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        http, self._http, self._login = self._http, None, None
        if http is not None:
            http.close()

    def _auth(self) -> BasicOrDigest:
        """The session's login; a new one once the credentials changed (recover sets the password)."""
        password = self.credentials.password.reveal() if self.credentials.password else ""
        if self._login is None or not self._login.logs_in(self.credentials.username, password):
            self._login = BasicOrDigest(self.credentials.username, password)
        return self._login

    def run(self, commands: Sequence[str], *, shown: str = "") -> list[Reply]:
        """Run commands through `a_apicommand.cgi` (one request, `;` between commands)."""
        if self._http is None:
            raise Transient(f"{self.host.name}: the HTTP session is not open")
        log.debug("%s: a_apicommand %s", self.host.name, shown or "; ".join(commands))
        response = self._http.request("POST", "/a_apicommand.cgi", auth=self._auth(),
                                      data={"apicommand": "".join(f"{c};" for c in commands)})
        self._check(response, "a_apicommand.cgi")
        replies = parse_apicommands(response.content)
        if not replies:
            # An empty <apicommands/> means the device did not take the arguments.
            raise ProtocolError(f"{self.host.name}: a_apicommand.cgi ran no command")
        return replies

    def _one(self, command: str, *, shown: str = "") -> Reply:
        return self.run([command], shown=shown)[0]

    def _check(self, response: Response, what: str) -> None:
        if response.status_code == 401:
            raise AuthenticationFailed(f"{self.host.name}: the device refused the web login of user "
                                       f"'{self.credentials.username}'")
        if response.status_code == 503:
            raise DeviceBusy(f"{self.host.name}: the device is busy (HTTP 503 on {what})")
        if response.status_code != 200:
            raise ProtocolError(f"{self.host.name}: HTTP {response.status_code} on {what}")

    # -- getters --

    def identity(self) -> Identity:
        model, version, serial = self.run(["systemsetting get model", "version", "serialnum"])
        product = model.value(("systemsetting", "model"))
        return Identity("polycom", product, proto.canonical_model(product),
                        proto.software_of(version.value(("version",))), serial.value(("serialnum",)))

    def read(self, paths: Sequence[str]) -> dict[str, str | None]:
        names = {path: proto.setting_name(path) for path in paths}
        readable = [name for name in dict.fromkeys(names.values()) if name not in proto.WRITE_ONLY]
        commands = [proto.get_setting(n).text for n in readable]
        replies = dict(zip(readable, self.run(commands))) if readable else {}
        values: dict[str, str | None] = {}
        for path, name in names.items():
            reply = replies.get(name)
            values[path] = None if reply is None or reply.not_found else self._value(reply, name)
        return values

    def _value(self, reply: Reply, name: str) -> str:
        if reply.error:
            raise ProtocolError(f"{self.host.name}: '{reply.command}': {reply.error}")
        return reply.value(proto.get_setting(name).replies[0])

    def status(self, paths: Sequence[str]) -> dict[str, str | None]:
        if self._http is None:
            raise Transient(f"{self.host.name}: the HTTP session is not open")
        response = self._http.request("GET", "/systemstatus.xml", auth=self._auth())
        self._check(response, "systemstatus.xml")
        root = _xml(response.content)
        values: dict[str, str | None] = {}
        for path in paths:
            element = root.find(path.strip().upper())
            state = element.find("STATE") if element is not None else None
            values[path] = (state.text or "").strip() if state is not None else None
        return values

    # -- setters --

    def write(self, writes: Sequence[Write]) -> None:
        for write in writes:
            self._write_one(write)

    def _write_one(self, write: Write) -> None:
        command = proto.set_command(write, forbidden=";",
                              why="a_apicommand.cgi separates commands with ';': the value cannot hold one")
        reply = self._one(command.text, shown=command.shown)
        if reply.error:
            secret = isinstance(write.value, Secret)
            raise SettingRefused(write.path, reply.error.replace(write.clear_value(), MASK) if secret else reply.error)
        proto.check_kept(write, reply.value(command.replies[0]))

    def set_admin_password(self, new: Secret) -> None:
        old = self.credentials.password.reveal() if self.credentials.password else ""
        try:
            command = proto.set_password(old, new.reveal())
        except ValueError as exc:
            raise SettingRefused("admin password", str(exc)) from None
        reply = self._one(command.text, shown=command.shown)
        if reply.error:
            raise SettingRefused("admin password", reply.error)
        self.credentials = Credentials(self.credentials.username, new)

    def first_boot(self) -> bool:
        reply = self._one("systemsetting get sipenable")
        return proto.WIZARD_MARK in (reply.error or "").casefold()

    def finish_first_boot(self) -> None:
        try:
            reply = self._one("oobcomplete")
        except Transient:
            log.info("%s: the connection ended after oobcomplete (device restart)", self.host.name)
            return
        if reply.error:
            raise ProtocolError(f"{self.host.name}: oobcomplete: {reply.error}")


def _xml(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"the device answered with malformed XML: {exc}") from None


def parse_apicommands(content: bytes) -> list[Reply]:
    """The `<apicommand>` elements of an a_apicommand.cgi answer, in order."""
    replies = []
    for item in _xml(content).iter("apicommand"):
        command = item.find("command")
        result = item.find("result")
        text = (result.text or "") if result is not None else ""
        lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
        replies.append(Reply((command.text or "").strip() if command is not None else "",
                             command.get("status", "") if command is not None else "", lines))
    return replies
