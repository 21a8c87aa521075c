"""Trust for the service's HTTPS: `cloud.tls_verify` in the same forms as a room's `tls_verify`.

true: the system CA store (`SSL_CERT_FILE` honoured); a path: that CA bundle; `sha256:`:
a pin of the service certificate, checked inside the TLS handshake before a request byte
is sent; false: no check (warned). The rooms' transport (`endpoints/transports/http.py`)
is bound to a room's address and device errors, so only its fingerprint form is reused.
"""
from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

from endpoints.cloud.errors import CloudTLSError
from endpoints.errors import InputError
from endpoints.host import TlsPolicy
from endpoints.transports.http import fingerprint, normalise_pin

log = logging.getLogger(__name__)


def ssl_context(policy: TlsPolicy, *, origin: str = "") -> ssl.SSLContext:
    """The client context for one policy; InputError when the CA bundle cannot be read."""
    if policy.pin or not policy.verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if policy.pin:
            context.sslsocket_class = _pinned_socket(_pin_check(normalise_pin(policy.pin)))
        else:
            log.warning("cloud.tls_verify is false: the meeting service's certificate is not checked")
        return context
    try:
        return ssl.create_default_context(cafile=str(policy.ca_bundle) if policy.ca_bundle else None)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"cannot load the CA bundle {policy.ca_bundle}: {exc}", file=origin,
                         key="cloud.tls_verify") from None


def _pin_check(pin: str) -> Callable[[bytes], None]:
    def check(der: bytes) -> None:
        presented = fingerprint(der)
        if presented != pin:
            raise CloudTLSError(f"the meeting service's certificate sha256:{presented} does not match "
                                f"cloud.tls_verify sha256:{pin}")

    return check


def _pinned_socket(check: Callable[[bytes], None]) -> type[ssl.SSLSocket]:
    class PinnedSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            super().do_handshake(block)
            der = self.getpeercert(binary_form=True)
            if der is None:
                raise CloudTLSError("the meeting service presented no certificate")
            check(der)

    return PinnedSocket
