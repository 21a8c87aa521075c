"""The simulated line API (telnet and SSH) of a Polycom unit: the session around the
interpreter (`polycom_api`).

Wire behaviour (protocols/polycom.md §1.1, §2.1, §3): telnet asks `Password: ` (no
newline) when a password is set; the `whoami` banner greets every session; `-> ` is the
prompt; the command is echoed after the prompt; lines end `\\r\\n`, which an SSH PTY turns
into `\\r\\r\\n`. Faults: the banner can replace a reply, a reply can lag behind the next
command, replies can be slow, connections can be dropped. `reboot now` and `resetsystem`
end every session and take the unit away for its `boot_seconds`.
"""
from __future__ import annotations

import asyncio

from endpoints.lab.net import Stream
from endpoints.lab.polycom_api import AFTER_CLOSE, AFTER_REBOOT, LineApi, Reply
from endpoints.lab.polycom_device import PolycomState

BANNER_REPLAY_EVERY = 4  # with the fault on, every 4th reply is replaced by the banner
PASSWORD_TRIES = 3


class LineSessionServer:
    """Runs line sessions for one device: login, banner, echo, commands, faults."""

    def __init__(self, device: PolycomState, api: LineApi) -> None:
        self.device = device
        self.api = api

    async def serve(self, stream: Stream) -> None:
        device = self.device
        if device.faults.drop > 0:
            device.faults.drop -= 1
            stream.close()
            return
        device.track(stream, True)
        try:
            if stream.kind == "telnet" and not await self._password(stream):
                return
            self._out(stream, "\r\n" + self.api.banner() + "-> ")
            await self._commands(stream)
        finally:
            device.track(stream, False)

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
                text, after = await self._answer(stream, line, count)
                if after:
                    self._out(stream, text)
                    stream.close()
                    return
                if self.device.faults.lag:
                    held = text
                else:
                    self._out(stream, text)
        finally:
            if reading is not None:
                reading.cancel()

    async def _answer(self, stream: Stream, line: str, count: int) -> tuple[str, str]:
        device = self.device
        # The echo: HDX's API echo ends <LF><CR> (IRM 3.0 example); UNSURE whether GS telnet
        # echoes at all: it does here, as GS does over SSH.
        echo_end = "\n\r" if device.family == "hdx" and stream.kind == "telnet" else "\r\n"
        stream.write(line + (echo_end if not stream.pty else "\r\r\n"))
        if not line.strip():
            return "-> ", ""
        device.counters.requests += 1
        reply = self.api.execute(line)
        if device.faults.slow:
            await asyncio.sleep(device.faults.slow)
        if device.faults.banner_replay and count % BANNER_REPLAY_EVERY == 0:
            return "\r\n" + self.api.banner() + "-> ", ""  # the banner in place of the reply
        carry_out(device, reply)
        text = "".join(f"{line}\r\n" for line in reply.lines)
        return text + ("" if reply.after else "-> "), reply.after


def carry_out(device: PolycomState, reply: Reply) -> None:
    """What the unit does after its answer: a reboot (a reset first) takes it away."""
    if reply.after == AFTER_REBOOT:
        if reply.factory:
            device.factory_state()
            device.registration.reset()
            device.renew_identity()
        device.reboot_soon()
    elif reply.after == AFTER_CLOSE:
        pass  # the session ends; the unit stays
