"""`endpoints trust`: first contact. Show each room's SSH host key and HTTPS certificate,
marked new, known or changed, without logging in; with `--accept`, record the new ones.

Nothing is sent but a key exchange (SSH) or a TLS handshake: no password ever goes to a
device whose identity is not yet known. New SSH keys go into the room's known_hosts file
(hashed when the file hashes its names, written atomically); new certificates become pins
that `tls_verify: true` rooms then accept with no inventory edit. A key or certificate
that *changed* is never replaced here: that room fails, as every other command would.
"""
from __future__ import annotations

from typing import Any

from endpoints import knownhosts, support
from endpoints.core.room import Room, Steps
from endpoints.errors import CertificateChanged, DeviceError, HostKeyChanged, Unreachable
from endpoints.transports.base import Deadline
from endpoints.transports.http import fingerprint as certificate_fingerprint
from endpoints.transports.http import normalise_pin, presented_certificate


def trust(room: Room) -> Steps:
    protocols = _protocols(room)
    if not protocols:
        room.result.status = "ok"
        room.result.warnings.append(f"{room.transport} carries no key or certificate to trust (unencrypted)")
        return
    keys = []
    for protocol in protocols:
        try:
            keys.append(_ssh_key(room) if protocol == "ssh" else _certificate(room))
        except Unreachable:
            if protocol == protocols[0]:
                raise  # the room's own API does not answer
            room.result.warnings.append(f"{protocol} does not answer: nothing to trust there")
    room.result.keys = keys
    room.emit("keys", keys=keys)
    changed = [k for k in keys if k["state"] == "changed"]
    if changed:
        error: DeviceError = (HostKeyChanged if changed[0]["kind"] == "ssh" else CertificateChanged)(
            f"{room.name}: the {' and '.join(k['kind'] for k in changed)} identity presented "
            f"({', '.join(k['fingerprint'] for k in changed)}) does not match the recorded one: not replaced")
        room.fail(error)
        return
    recorded = [k for k in keys if k["recorded"]]
    room.result.status = "changed" if recorded else "ok"
    if any(k["state"] == "new" and not k["recorded"] for k in keys):
        room.result.warnings.append("compare the fingerprints with the ones the device shows, then rerun with "
                                    "--accept to record them")
    yield from ()


def _protocols(room: Room) -> list[str]:
    """What carries an identity for this room: its transport's protocol, and SSH too for a
    Group Series driven over REST (it leaves the setup wizard over SSH when REST cannot)."""
    protocol = support.PROTOCOL_OF[room.transport]
    found = [protocol] if protocol in ("ssh", "https") else []
    if room.transport == "rest" and support.FAMILIES[room.family].api("ssh"):
        found.append("ssh")
    return found


def _ssh_key(room: Room) -> dict[str, Any]:
    from endpoints.transports.ssh import SshTransport  # paramiko: only when a room speaks SSH
    from endpoints.transports.ssh import fingerprint as key_fingerprint

    host = room.host
    port = host.port("ssh", support.default_port("ssh"))
    ssh = SshTransport(host, port, host.device_credentials, timeout=room.options.timeout,
                       host_key_algs=support.ssh_host_keys(room.family))
    key = ssh.key_exchange(Deadline(room.options.timeout))
    name = knownhosts.host_name(host.address, port)
    path = knownhosts.path_for(host)
    state = knownhosts.status_of(key, knownhosts.lookup(path, name))
    recorded = False
    if state == "new" and room.options.accept:
        knownhosts.add(path, f"{name} {key.get_name()} {key.get_base64()}")
        recorded = True
        room.emit("trust-recorded", kind="ssh", fingerprint=key_fingerprint(key), file=str(path))
    return {"kind": "ssh", "type": f"{key.get_name()} {key.get_bits()}", "fingerprint": key_fingerprint(key),
            "state": state, "recorded": recorded, "where": f"{name} in {path}"}


def _certificate(room: Room) -> dict[str, Any]:
    host = room.host
    port = host.port("https", support.default_port("https"))
    presented = certificate_fingerprint(presented_certificate(host.address, port, room.options.timeout))
    pin = host.tls.pin  # the inventory's own, or one this tool recorded (TrustStore.apply)
    recorded = False
    if not host.tls.verify and not pin:
        state = "known"  # the user opted out of checking for this room
        room.result.warnings.append("tls_verify: false: the certificate is not checked for this room")
    elif pin:
        state = "known" if normalise_pin(pin) == presented else "changed"
    elif host.tls.ca_bundle:
        state = "known"  # signed or not, the CA bundle decides at every connection
        room.result.warnings.append(f"tls_verify names a CA bundle ({host.tls.ca_bundle}): it decides, not a pin")
    else:
        state = "new"
        if room.options.accept:
            room.host = room.memory.trust.record(host, port, presented)
            recorded = True
            room.emit("trust-recorded", kind="tls", fingerprint=f"sha256:{presented}")
    return {"kind": "tls", "type": "x509 certificate", "fingerprint": f"sha256:{presented}", "state": state,
            "recorded": recorded, "where": f"{host.address}:{port}"}
