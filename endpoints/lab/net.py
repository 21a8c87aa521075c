"""The lab's sockets: one asyncio loop serving HTTP(S), SSH and telnet on loopback.

Simulated devices plug in as an aiohttp application (HTTP/HTTPS) or as a session
coroutine over a `Stream` (SSH, telnet). Everything runs in one process and one event
loop, so a thousand rooms cost sockets, not threads.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import asyncssh
from aiohttp import web

# Re-exported: tests and tools have always found the identity helpers here.
from endpoints.lab.identity import (  # noqa: F401
    LOOPBACK,
    Certificate,
    known_hosts_line,
    make_certificate,
    make_host_key,
    ssh_fingerprint,
)

T = TypeVar("T")


class LabLoop:
    """An asyncio event loop running in a daemon thread; call coroutines into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="lab-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """End every session still running (as a power-off would), then the loop itself."""
        if self.loop.is_running():
            try:
                self.call(_cancel_other_tasks(), timeout=10)
            except Exception:  # stopping must go on whatever a session did
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


async def _cancel_other_tasks() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- Streams for line sessions ---------------------------------------------------------

class Stream:
    """A text stream to one client (SSH channel or telnet connection)."""

    def __init__(self, read: Callable[[], Awaitable[str]], write: Callable[[str], None],
                 close: Callable[[], None], *, pty: bool, kind: str, username: str = "") -> None:
        self._read, self._write, self._close = read, write, close
        self.pty, self.kind, self.username = pty, kind, username
        self._buffer = ""

    async def read_line(self) -> str | None:
        """One line without its end (CR, LF or CRLF), or None at end of stream."""
        while True:
            for i, char in enumerate(self._buffer):
                if char in "\r\n":
                    line, rest = self._buffer[:i], self._buffer[i + 1:]
                    if char == "\r" and rest.startswith("\n"):
                        rest = rest[1:]
                    elif char == "\r" and rest.startswith("\0"):
                        rest = rest[1:]  # telnet CR NUL
                    self._buffer = rest
                    return line
            data = await self._read()
            if not data:
                if self._buffer:
                    line, self._buffer = self._buffer, ""
                    return line
                return None
            self._buffer += data

    def write(self, text: str) -> None:
        self._write(text)

    def close(self) -> None:
        self._close()


Session = Callable[[Stream], Awaitable[None]]
PasswordCheck = Callable[[str, str], bool]


# --- SSH ---------------------------------------------------------------------------------

AUTH_METHODS = ("password", "keyboard-interactive")
LoginSeen = Callable[[str, str], None]  # (username, method) of a login that worked


class _SshServer(asyncssh.SSHServer):
    """Password and keyboard-interactive logins, as codecs offer them (cisco.md §2.1):
    jsxapi answers every keyboard-interactive prompt with the password and never tries
    plain `password` auth; paramiko and OpenSSH try `password` first."""

    def __init__(self, check: PasswordCheck, methods: tuple[str, ...], seen: LoginSeen | None) -> None:
        self._check, self._methods, self._seen = check, methods, seen

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return "password" in self._methods

    def validate_password(self, username: str, password: str) -> bool:
        return self._verdict(username, password, "password")

    def kbdint_auth_supported(self) -> bool:
        return "keyboard-interactive" in self._methods

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> tuple[str, str, str, tuple[tuple[str, bool], ...]]:
        # The prompt text of a real codec is UNSURE; PAM's usual one is used.
        return "", "", "", (("Password: ", False),)

    def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        return len(responses) == 1 and self._verdict(username, responses[0], "keyboard-interactive")

    def _verdict(self, username: str, password: str, method: str) -> bool:
        ok = self._check(username, password)
        if ok and self._seen is not None:
            self._seen(username, method)
        return ok


async def serve_ssh(port: int, host_key: asyncssh.SSHKey, check: PasswordCheck, session: Session,
                    *, host_key_algs: tuple[str, ...] = (), host: str = LOOPBACK,
                    auth_methods: tuple[str, ...] = AUTH_METHODS,
                    seen: LoginSeen | None = None) -> asyncssh.SSHAcceptor:
    """Serve SSH with password and keyboard-interactive login; each shell runs `session`."""

    async def process(proc: asyncssh.SSHServerProcess) -> None:
        username = proc.get_extra_info("username") or ""
        stream = Stream(lambda: proc.stdin.read(4096), proc.stdout.write, lambda: proc.exit(0),
                        pty=proc.get_terminal_type() is not None, kind="ssh", username=username)
        try:
            await session(stream)
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, ConnectionError):
            pass
        finally:
            try:
                proc.exit(0)
            except Exception:  # the connection or the loop may already be gone
                pass

    key: asyncssh.SSHKey | asyncssh.SSHKeyPair = host_key
    if host_key_algs:  # asyncssh servers have no option for this; a restricted key pair does it
        key = asyncssh.load_keypairs([host_key])[0]
        key.host_key_algorithms = [alg.encode() for alg in host_key_algs]
    return await asyncssh.create_server(
        lambda: _SshServer(check, auth_methods, seen), host, port, server_host_keys=[key],
        process_factory=process, line_editor=False, encoding="utf-8")


# --- telnet ------------------------------------------------------------------------------

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


class TelnetFilter:
    """Strips telnet commands from the client's bytes and refuses every option it asks for."""

    def __init__(self, reply: Callable[[bytes], None]) -> None:
        self._reply = reply
        self._state = "data"
        self._verb = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            out += self._step(byte)
        return bytes(out)

    def _step(self, byte: int) -> bytes:
        if self._state == "data":
            if byte == IAC:
                self._state = "iac"
                return b""
            return bytes([byte])
        if self._state == "iac":
            return self._after_iac(byte)
        if self._state == "option":
            self._state = "data"
            refusal = {DO: WONT, WILL: DONT}.get(self._verb)
            if refusal is not None:
                self._reply(bytes([IAC, refusal, byte]))
            return b""
        if self._state == "sb":
            self._state = "sb-iac" if byte == IAC else "sb"
            return b""
        self._state = "data" if byte == SE else "sb"  # sb-iac
        return b""

    def _after_iac(self, byte: int) -> bytes:
        if byte == IAC:
            self._state = "data"
            return b"\xff"
        if byte in (DO, DONT, WILL, WONT):
            self._state, self._verb = "option", byte
        elif byte == SB:
            self._state = "sb"
        else:
            self._state = "data"
        return b""


async def serve_telnet(port: int, session: Session, *, host: str = LOOPBACK) -> asyncio.Server:
    """Serve a raw telnet line session (no login of its own: the device prompts itself)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        telnet = TelnetFilter(writer.write)

        async def read() -> str:
            while True:
                data = await reader.read(4096)
                if not data:
                    return ""
                text = telnet.feed(data).decode("utf-8", "replace")
                if text:
                    return text

        def write(text: str) -> None:
            if not writer.is_closing():
                writer.write(text.encode("utf-8").replace(b"\xff", b"\xff\xff"))

        stream = Stream(read, write, writer.close, pty=False, kind="telnet")
        try:
            await session(stream)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


# --- HTTP --------------------------------------------------------------------------------

async def serve_http(app: web.Application, port: int, *, tls: Certificate | None = None,
                     host: str = LOOPBACK, counters: Any = None) -> web.AppRunner:
    """Serve an aiohttp application on one port, HTTPS when a certificate is given.

    With `counters` (a device's Counters), every answered request is counted.
    """
    if counters is not None:
        async def count(request: web.Request, response: web.StreamResponse) -> None:
            counters.requests += 1

        app.on_response_prepare.append(count)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    context = tls.server_context() if tls else None
    site = web.TCPSite(runner, host, port, ssl_context=context, reuse_address=True)
    await site.start()
    return runner


def free_port(host: str = LOOPBACK) -> int:
    """A port the OS says is free now (the lab binds it right after)."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
