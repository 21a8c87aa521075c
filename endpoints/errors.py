"""The errors of endpoints, by cause, from bad input to device faults (httpx's `_exceptions` is the model).

Device errors say what happened to one room. Each class carries what the engine needs
to decide, so no caller tests exception types one by one:

- `status`: the room's status when this error ends its visit (`unreachable` when no
  conversation with the device's API could be held, `failed` when the device said
  something that cannot be accepted);
- `retryable`: whether another visit may succeed (a connection that broke, a busy codec).

Which library exception becomes which error is decided in one place per library, in
`endpoints.transports.base.map_os_error` and the transports beside it. No message ever
carries a secret value.
"""
from __future__ import annotations

from typing import ClassVar, Literal

RoomStatus = Literal["ok", "changed", "failed", "unreachable", "skipped"]


class EndpointsError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(EndpointsError):
    """Bad inventory, profile or option: names the file, the line and the key."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None, key: str = "") -> None:
        where = file
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        parts = [p for p in (where, f"key '{key}'" if key else "") if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)
        self.file, self.line, self.key, self.reason = file, line, key, message


class DeviceError(EndpointsError):
    """Something went wrong with one device; fails that room only."""

    status: ClassVar[RoomStatus] = "failed"
    retryable: ClassVar[bool] = False


class Unreachable(DeviceError):
    """No conversation with the device's API: refused, timed out, no route, DNS, or the
    device accepted the connection and then said nothing or hung up before a session began."""

    status: ClassVar[RoomStatus] = "unreachable"
    retryable: ClassVar[bool] = True


class Transient(Unreachable):
    """The conversation broke off mid-session: reset, closed, or no complete answer in time."""


class DeviceBusy(DeviceError):
    """The device answers but will not serve now: HTTP 503, no free API session."""

    retryable: ClassVar[bool] = True


class AuthenticationFailed(DeviceError):
    """The device refused the login (wrong device credentials or a locked account)."""


class TrustError(DeviceError):
    """The device's identity (SSH host key, TLS certificate) could not be trusted."""


class HostKeyChanged(TrustError):
    """The SSH host key differs from the known one (factory reset, or an impostor)."""


class HostKeyUnknown(TrustError):
    """No known host key for this device and accepting a new one was not allowed."""


class TLSVerifyFailed(TrustError):
    """The HTTPS certificate did not verify (CA, hostname or pinned fingerprint)."""


class CertificateChanged(TLSVerifyFailed):
    """The HTTPS certificate is not the one recorded (pinned) for this device."""


class ProtocolError(DeviceError):
    """The device answered something the driver cannot understand."""


class SettingRefused(DeviceError):
    """The device refused to set one setting; names the path and the device's reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"device refused '{path}': {reason}")
        self.path, self.reason = path, reason

    @property
    def in_wizard(self) -> bool:
        """A Polycom still in its first-boot wizard refuses writes: `error: Permission Denied`
        on the line API, `PERMISSION_DENIED` over REST."""
        return "permission denied" in self.reason.casefold().replace("_", " ")


class Unsupported(DeviceError):
    """The device or its software is not one this tool can drive."""
