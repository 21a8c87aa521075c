"""The errors of endpoints, from bad input to device faults.

Device errors say what happened to one host; the engine turns them into a host status
(`failed` or `unreachable`) and advice. No message ever carries a secret value.
"""
from __future__ import annotations


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
    """Something went wrong with one device; fails that host only."""


class Unreachable(DeviceError):
    """The device could not be reached (refused, timed out, no route, DNS)."""


class Transient(DeviceError):
    """A fault worth retrying: reset connection, timeout mid-session, HTTP 503 rate limit."""


class AuthenticationFailed(DeviceError):
    """The device refused the login (wrong device credentials or a locked account)."""


class HostKeyChanged(DeviceError):
    """The SSH host key differs from the known one (factory reset, or an impostor)."""


class HostKeyUnknown(DeviceError):
    """No known host key for this device and accepting a new one was not allowed."""


class TLSVerifyFailed(DeviceError):
    """The HTTPS certificate did not verify (CA, hostname or pinned fingerprint)."""


class ProtocolError(DeviceError):
    """The device answered something the driver cannot understand."""


class SettingRefused(DeviceError):
    """The device refused to set one setting; names the path and the device's reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"device refused '{path}': {reason}")
        self.path, self.reason = path, reason


class Unsupported(DeviceError):
    """The device or its software is not one this tool can drive."""
