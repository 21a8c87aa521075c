"""What every transport shares: a total deadline per request, one byte-stream interface,
and one mapping of socket errors to ours (scrapli's `transport/base` is the model).

An idle-read timeout alone lets a device that drips one byte every few seconds hold a
room forever, so every exchange runs against a `Deadline`: its whole answer must arrive
within the budget, however it is cut into packets.
"""
from __future__ import annotations

import abc
import errno
import socket
import ssl
import time
from typing import Self

from endpoints.errors import DeviceError, TLSVerifyFailed, Transient, Unreachable


class Deadline:
    """A total time budget for one exchange (connect + request + the whole answer)."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, idle: float | None = None) -> float:
        """A socket timeout that never reaches past the deadline (at least 1 ms)."""
        left = self.remaining()
        return max(0.001, left if idle is None else min(idle, left))


class StreamTransport(abc.ABC):
    """Bytes to and from one device's line API: a telnet socket or an SSH shell channel."""

    where: str  # "room-a101 (telnet 10.0.0.5:24)", for messages

    @abc.abstractmethod
    def open(self, deadline: Deadline) -> None:
        """Connect (and, for SSH, check the host key and log in); errors as DeviceErrors."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def read(self, deadline: Deadline) -> bytes:
        """The next bytes; b"" when the device closed the stream; Transient past the deadline."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; never raises."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_os_error(exc: BaseException, where: str, *, connecting: bool, what: str = "") -> DeviceError:
    """The one mapping of socket-level failures: while connecting nothing was reached
    (Unreachable); once a session is up the conversation broke (Transient)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSVerifyFailed(f"{where}: certificate did not verify ({exc.verify_message})")
    if isinstance(exc, socket.gaierror):
        return Unreachable(f"{where}: cannot resolve the address")
    if isinstance(exc, ConnectionRefusedError):
        return Unreachable(f"{where}: connection refused (is {what or 'the API'} enabled on that port?)")
    if isinstance(exc, TimeoutError):
        return Unreachable(f"{where}: connection timed out") if connecting else \
            Transient(f"{where}: the device stopped answering")
    if isinstance(exc, ssl.SSLError):
        return Unreachable(f"{where}: TLS handshake failed ({reason(exc)}): is this an HTTPS port?")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, EOFError)) or (
            isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE)):
        return (Unreachable if connecting else Transient)(f"{where}: the device closed the connection")
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return Unreachable(f"{where}: no route to the device")
    return (Unreachable if connecting else Transient)(f"{where}: {reason(exc)}")


def reason(exc: BaseException) -> str:
    """A library exception in a few words, for messages (the OS's own words where there are some)."""
    text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip()
    return text or type(exc).__name__


def connect_tcp(address: str, port: int, deadline: Deadline, where: str, what: str) -> socket.socket:
    """A TCP connection within the deadline, errors mapped."""
    try:
        return socket.create_connection((address, port), timeout=deadline.timeout())
    except OSError as exc:
        raise map_os_error(exc, where, connecting=True, what=what) from None
