"""What a simulated unit proves itself with: its TLS certificate and its SSH host key.

Codecs leave the factory with a self-signed certificate and a host key of their own
(protocols/cisco.md §1.3, polycom.md §3.1), and a factory reset makes new ones. Nothing
here serves anything: the servers in `net` take these objects.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    cert_pem: bytes
    key_pem: bytes

    @property
    def sha256(self) -> str:
        """Fingerprint of the DER certificate, lower-case hex without colons (the pin form)."""
        der = x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)
        return hashlib.sha256(der).hexdigest()

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain wants files; a private temp dir keeps the key off shared paths.
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context


def make_certificate(common_name: str) -> Certificate:
    """A self-signed certificate as codecs carry out of the box (CN = the unit's name).

    Self-signed on purpose: a client that verifies against the system's CAs must fail
    on it until the operator pins it (`endpoints trust --accept`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Certificate(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
    )


def make_host_key(kind: str = "ssh-rsa") -> asyncssh.SSHKey:
    """A fresh host key. Polycom Group Series only offers `ssh-rsa`; Cisco offers RSA too."""
    if kind == "ssh-rsa":
        return asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    return asyncssh.generate_private_key(kind)


def known_hosts_line(host_key: asyncssh.SSHKey, port: int, host: str = LOOPBACK) -> str:
    """The OpenSSH known_hosts line for a lab device (`[host]:port` form for non-22 ports)."""
    public = host_key.export_public_key("openssh").decode().split()
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {public[0]} {public[1]}\n"


def ssh_fingerprint(host_key: asyncssh.SSHKey) -> str:
    """`SHA256:…` as `ssh-keygen -l` prints it (base64 of the key blob's SHA-256, no padding)."""
    blob = base64.b64decode(host_key.export_public_key("openssh").split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
