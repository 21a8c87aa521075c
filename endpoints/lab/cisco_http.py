"""The simulated codec's xAPI over HTTP(S): `/getxml`, `/putxml`, whole documents, and
CE's XMLAPI sessions (protocols/cisco.md §1).

Every answer a real codec gives with HTTP 200 (refusals included) is 200 here too;
401 asks for Basic credentials; faults (drop, 503, slow) apply to every request.
"""
from __future__ import annotations

import asyncio
import base64
import binascii

from aiohttp import web
from lxml import etree

from endpoints.lab import cisco_roomos
from endpoints.lab.cisco_device import CiscoState, ConfigError
from endpoints.lab.cisco_tree import (
    Token,
    matches_document,
    parse_location,
    render_document,
    render_valuespace,
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# The realm is UNSURE (no recorded challenge).
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Cisco Codec"'}
_NGINX_503 = ("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
              "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
              "</body>\r\n</html>\r\n")


def make_app(device: CiscoState, *, secure: bool) -> web.Application:
    api = _Api(device, secure)
    app = web.Application(middlewares=[api.middleware], client_max_size=1024 * 1024)
    app.router.add_get("/status.xml", api.status_document)
    app.router.add_get("/configuration.xml", api.configuration_document)
    app.router.add_get("/valuespace.xml", api.valuespace_document)
    app.router.add_get("/getxml", api.getxml)
    app.router.add_post("/putxml", api.putxml)
    app.router.add_route("*", "/formputxml", api.formputxml)
    app.router.add_post("/xmlapi/session/begin", api.session_begin)
    app.router.add_post("/xmlapi/session/end", api.session_end)
    app.on_response_prepare.append(_server_header)
    return app


async def _server_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = "nginx"  # codecs answer from nginx (CE9.2 guide, cisco.md §1.3)


class _Api:
    def __init__(self, device: CiscoState, secure: bool) -> None:
        self.device, self.secure = device, secure

    # --- every request ---------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: object) -> web.StreamResponse:
        faults = self.device.faults
        if faults.slow:
            await asyncio.sleep(faults.slow)
        with self.device.lock:
            drop, busy = faults.drop > 0, faults.drop <= 0 and faults.http_503 > 0
            faults.drop -= drop
            faults.http_503 -= busy
        if drop:
            return _drop(request)
        if busy:
            return web.Response(status=503, text=_NGINX_503, content_type="text/html")
        served = self.device.serves(self.secure)
        if served is None:
            return self._to_https(request)
        if not served:
            return _drop(request)  # the web server is off for this scheme
        return await handler(request)  # type: ignore[operator, no-any-return]

    def _to_https(self, request: web.Request) -> web.Response:
        # HTTPS-only CE answers plain HTTP with a redirect; the code is UNSURE (cisco.md §1.3).
        port = self.device.ports.get("https", 443)
        location = f"https://{request.url.host}:{port}{request.path_qs}"
        return web.Response(status=301, headers={"Location": location})

    def _authorised(self, request: web.Request) -> bool:
        if not self.device.tc:
            session = request.cookies.get("SessionId")
            if session and session in self.device.sessions:
                return True
        credentials = _basic(request)
        return credentials is not None and self.device.check_password(*credentials)

    # --- documents -------------------------------------------------------------------------

    async def status_document(self, request: web.Request) -> web.Response:
        return self._document(request, "Status", [])

    async def configuration_document(self, request: web.Request) -> web.Response:
        return self._document(request, "Configuration", [])

    async def valuespace_document(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _unauthorised()
        if self.device.roomos:
            return _xml(cisco_roomos.valuespace_document())  # the recorded unit's own document
        used = {leaf.space.name: leaf.space for leaf in self.device.leaves if leaf.space}
        return _xml(render_valuespace(self.device.root_attributes, used.values()))

    async def getxml(self, request: web.Request) -> web.Response:
        parsed = parse_location(request.query.get("location", ""))
        if parsed is None or parsed[0].lower() not in ("status", "configuration"):
            return web.Response(status=400, text="Bad location")
        root = "Status" if parsed[0].lower() == "status" else "Configuration"
        return self._document(request, root, parsed[1])

    def _document(self, request: web.Request, root: str, tokens: list[Token]) -> web.Response:
        """A path that does not exist answers an empty document (cisco.md §1.4; the TC answer
        is UNSURE, the CE one is used for both)."""
        if not self._authorised(request):
            return _unauthorised()
        device = self.device
        leaves = device.status(tokens) if root == "Status" else device.configuration(tokens)
        return _xml(render_document(root, device.root_attributes, leaves, tc=device.tc,
                                    configuration=root == "Configuration"))

    # --- writes and commands ---------------------------------------------------------------

    async def putxml(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _unauthorised()
        return self._put(await request.read())

    async def formputxml(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _unauthorised()
        form = await request.post() if request.method == "POST" else request.query
        document = form.get("xmldoc")
        if not isinstance(document, str):
            return web.Response(status=400, text="xmldoc missing")
        return self._put(document.encode("utf-8"))

    def _put(self, body: bytes) -> web.Response:
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return web.Response(status=400, text="Bad XML")  # UNSURE: no recorded answer
        if root.tag == "Configuration":
            return self._configure(root)
        if root.tag == "Command":
            return self._command(root)
        return _xml(_wrap("Result", ['    <Reason>Unknown document</Reason>'], status="Error"))

    def _configure(self, root: etree._Element) -> web.Response:
        device = self.device
        items = [(_tokens(leaf, root), leaf.text or "") for leaf in root.iter()
                 if isinstance(leaf.tag, str) and leaf is not root and not len(leaf)]
        errors = device.configure(items, leaf_for=lambda tokens: next(
            (leaf for leaf in device.leaves if matches_document(leaf, tokens, tc=device.tc)), None))
        if not errors:
            return _xml(_wrap("Configuration", ["    <Success/>"]))
        return _xml(_configuration_errors(errors))

    def _command(self, root: etree._Element) -> web.Response:
        action = next((e for e in root.iter() if isinstance(e.tag, str)
                       and (e.get("command") or "").lower() == "true"), None)
        if action is None:
            return _xml(_wrap("Command", ["    <ActionError>", "        <Reason>No action detected in document</Reason>",
                                          "    </ActionError>"]))
        path = " ".join(str(e.tag) for e in [*list(action.iterancestors())[::-1][1:], action])
        params = {str(c.tag): c.text or "" for c in action if isinstance(c.tag, str)}
        result = self.device.command(path, params)
        if result is None:
            xpath = "/" + path.replace(" ", "/")
            return _xml(_wrap("Command", ['    <Result status="Error">', "        <Reason>Unknown command</Reason>",
                                          f"        <XPath>{xpath}</XPath>", "    </Result>"]))
        if not result.reason:
            return _xml(_wrap("Command", [f'    <{result.name} status="{result.status}"/>']))
        return _xml(_wrap("Command", [f'    <{result.name} status="{result.status}">',
                                      f"        <Reason>{result.reason}</Reason>", f"    </{result.name}>"]))

    # --- sessions (CE) ------------------------------------------------------------------------

    async def session_begin(self, request: web.Request) -> web.Response:
        if self.device.tc:
            return _no_sessions()
        credentials = _basic(request)
        if credentials is None or not self.device.check_password(*credentials):
            return _unauthorised()
        session = self.device.open_session()
        if session is None:
            # What a codec answers when its pool is used up is UNSURE (cisco.md §10.7).
            return web.Response(status=503, text="No free XMLAPI session")
        response = web.Response(status=204)
        response.headers["Set-Cookie"] = f"SessionId={session}; Path=/; HttpOnly"
        return response

    async def session_end(self, request: web.Request) -> web.Response:
        if self.device.tc:
            return _no_sessions()
        session = request.cookies.get("SessionId", "")
        # 200 without a known session: a client reads it as "session cookie did not exist".
        return web.Response(status=204 if self.device.close_session(session) else 200)


def _no_sessions() -> web.Response:
    # TC 7 has no XMLAPI sessions and redirects; which 3xx is UNSURE (cisco.md §1.2): 302.
    return web.Response(status=302, headers={"Location": "/web/signin"})


def _tokens(leaf: etree._Element, root: etree._Element) -> list[Token]:
    chain = [*reversed([a for a in leaf.iterancestors() if a is not root]), leaf]
    tokens: list[Token] = []
    for element in chain:
        item = element.get("item")
        tokens.append((str(element.tag), int(item) if item and item.isdigit() else None))
    return tokens


def _configuration_errors(errors: list[ConfigError]) -> str:
    """UNSURE shapes (cisco.md §1.5): a bad path fails the document with Reason/XPath; an
    illegal value comes back as the leaf marked error="True"."""
    if errors[0].reason.startswith("No match"):
        return _wrap("Configuration", [f"    <Reason>{errors[0].reason}</Reason>",
                                       f"    <XPath>{errors[0].xpath}</XPath>"], status="Error")
    root = etree.Element("Configuration")
    for error in errors:
        node = root
        for name, index in error.tokens:
            node = etree.SubElement(node, name)
            if index is not None:
                node.set("item", str(index))
        node.set("error", "True")
        node.text = error.reason
    etree.indent(root, space="    ")
    return '<?xml version="1.0"?>\n' + str(etree.tostring(root, encoding="unicode")) + "\n"


def _wrap(root: str, lines: list[str], status: str | None = None) -> str:
    attributes = f' status="{status}"' if status else ""
    return "\n".join(['<?xml version="1.0"?>', f"<{root}{attributes}>", *lines, f"</{root}>"]) + "\n"


def _xml(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/xml")


def _unauthorised() -> web.Response:
    return web.Response(status=401, text="Unauthorized", headers=_CHALLENGE)


def _basic(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username, password


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError  # nothing more to say on a dead connection

