"""From what a device said to what the operator should do: one sentence per failure."""
from __future__ import annotations

import re

from endpoints import support
from endpoints.drivers.base import Registration
from endpoints.errors import (
    AuthenticationFailed,
    CertificateChanged,
    DeviceBusy,
    DeviceError,
    HostKeyChanged,
    HostKeyUnknown,
    ProtocolError,
    SettingRefused,
    TLSVerifyFailed,
    Transient,
    Unreachable,
    Unsupported,
)

LOCK_MINUTES = "15 to 30 minutes"

CREDENTIALS = ("The meeting service refused the SIP account (wrong number, password or server address): "
               "check sip.number, sip.password and the proxy in the admin's notice, then run apply once; "
               f"repeated tries lock the number for {LOCK_MINUTES}.")
NETWORK = ("The room cannot reach the SIP proxy: open outbound TLS on port 5061 from the room's network to the "
           "proxy in the admin's notice (a firewall or missing internet gives 404 send failed / 408 timeout).")
DNS = ("The room cannot resolve the proxy's name: fix the room's DNS, or give the proxy's IP in sip.proxy "
       "(the Hong Kong site's is 159.138.44.101:5061), or let --resolve-proxy resolve it on this host.")
LOCKED = ("The number was refused repeatedly and is probably locked by the service: fix sip.password if it is "
          f"wrong, wait {LOCK_MINUTES}, then run apply once; do not retry now.")
SILENT = ("The room did not register and its software gives no reason: check sip.number and sip.password, "
          "and that outbound TLS to the proxy on port 5061 is open.")

_CREDENTIALS = re.compile(r"\b(40[013])\b|forbidden|unauthori[sz]ed|bad request|authenticat", re.IGNORECASE)
_NETWORK = re.compile(r"\b(404|408|503|504)\b|send failed|time ?out|unable ?tls|unable ?tcp|couldn't connect|"
                      r"unreachable|refused", re.IGNORECASE)
_DNS = re.compile(r"dns", re.IGNORECASE)
_LOCKED = re.compile(r"lock|\b423\b|too many", re.IGNORECASE)


def for_registration(registration: Registration, *, recent_failures: int = 0) -> str:
    """Advice for a room that did not register, from the device's own reason."""
    reason = registration.reason
    if _LOCKED.search(reason) or (recent_failures >= 2 and _CREDENTIALS.search(reason)):
        return LOCKED
    if _DNS.search(reason):
        return DNS
    if _CREDENTIALS.search(reason):
        return CREDENTIALS
    if _NETWORK.search(reason):
        return NETWORK
    return SILENT


def counts_towards_lock(reason: str) -> bool:
    """Whether a failed registration reached the service (and so counts towards its lock):
    refusals and silent failures do; DNS and network failures never reached it."""
    return not (_DNS.search(reason) or (_NETWORK.search(reason) and not _CREDENTIALS.search(reason)))


STOPPED = ("The device stopped answering after the change (it may be restarting to apply it): check that it is "
           "up, then run `endpoints verify` for this room.")
WIZARD = ("The device is still in its first-boot setup wizard, which refuses settings: run `endpoints recover` "
          "for this room (it finishes the wizard), or finish the wizard on the device.")


def for_error(error: DeviceError, *, where: str) -> str:
    """Advice for a device fault; `where` is `address:port over transport`."""
    if isinstance(error, Transient):
        return (f"The device at {where} stopped answering mid-conversation (it may be restarting, overloaded, "
                "or dripping its answers): check it and the network, then rerun.")
    if isinstance(error, Unreachable):
        return (f"No conversation with the API at {where}: check the address, that this API is enabled on the "
                "device and answers on that port, and any firewall between this host and the room.")
    if isinstance(error, DeviceBusy):
        return ("The device is busy or has no free API session: wait a minute and rerun; a reboot frees "
                "sessions leaked by other tools.")
    if isinstance(error, AuthenticationFailed):
        return ("The device refused the login: check device_credentials for this host; if the room was "
                "factory reset, run `endpoints recover`.")
    if isinstance(error, HostKeyChanged):
        return ("The SSH host key changed: if this room was factory reset run `endpoints recover`; otherwise "
                "treat it as a possible impostor and investigate before trusting it.")
    if isinstance(error, HostKeyUnknown):
        return ("This device's SSH host key is not known yet: run `endpoints trust` for this room, compare the "
                "fingerprint with the one the device shows, then `endpoints trust --accept`.")
    if isinstance(error, CertificateChanged):
        return ("The HTTPS certificate is not the one recorded for this room: if it was factory reset run "
                "`endpoints recover`; otherwise investigate before trusting the new certificate.")
    if isinstance(error, TLSVerifyFailed):
        return ("The HTTPS certificate did not verify: codecs carry self-signed certificates, so run "
                "`endpoints trust` for this room, compare the fingerprint, then `endpoints trust --accept` "
                "(or give the CA bundle that signed it in tls_verify).")
    if isinstance(error, SettingRefused):
        if error.in_wizard:
            return WIZARD
        return (f"The device refused {error.path!r} ({error.reason}): check the value in the profile and that "
                "this firmware supports the setting.")
    if isinstance(error, Unsupported):
        return (f"This model or software is not one endpoints supports ({support.supported_summary()}): "
                "write a profile for it (--profiles), or set `profile:` for this room.")
    if isinstance(error, ProtocolError):
        return "The device answered something unexpected: check its software version and rerun with -v."
    return "Check the device and rerun."


def below_minimum(model: str | None, software: str, minimum: tuple[int, ...]) -> str:
    wanted = ".".join(str(p) for p in minimum)
    return (f"Software {software} is below the tested minimum {wanted} for {model}: content sharing and other "
            "features may fail; upgrade the codec.")
