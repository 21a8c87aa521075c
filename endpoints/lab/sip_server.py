"""A real SIP proxy for rehearsals: Debian's Kamailio answering OPTIONS over TLS on loopback.

`endpoints doctor` proves the path to the meeting service's outbound proxy (DNS, TCP, a
verified TLS handshake, a SIP `OPTIONS`). The simulated rooms have no SIP stack, so the
lab cannot prove that path by itself; a real SIP server can. `lab up --sip` and the tests
start one from `kamailio/kamailio.cfg` with a throwaway CA made here, so `doctor` meets
the same server software a real proxy might run, with nothing of ours on the other end.

Kamailio runs as the current user in the foreground (`-DD -E`), with its pid file, log
and runtime folder in the lab's own folder, no database and no control socket.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import string
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from endpoints.errors import InputError

LOOPBACK = "127.0.0.1"
SERVER_NAME = "endpoints-lab-proxy (kamailio)"
INSTALL_HINT = "install it with `apt-get install kamailio kamailio-tls-modules` (Debian/Ubuntu)"
_SEARCH = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def kamailio_binary() -> str | None:
    """The kamailio program, also where a non-root PATH lacks the sbin folders."""
    found = shutil.which("kamailio")
    if found:
        return found
    return next((str(Path(d, "kamailio")) for d in _SEARCH if os.access(Path(d, "kamailio"), os.X_OK)), None)


def tls_module_installed(binary: str) -> bool:
    """Debian ships the TLS module in its own package (`kamailio-tls-modules`)."""
    probe = subprocess.run([binary, "-I"], capture_output=True, text=True, timeout=30)
    folders = [folder.strip() for line in (probe.stdout + probe.stderr).splitlines()
               if "paths to modules" in line for folder in line.split(":", 1)[1].split(":")]
    return any(Path(folder, "tls.so").exists() for folder in folders if folder)


# --- a throwaway certificate authority -------------------------------------------------

@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM encoded."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.cert_pem)
        key_path.write_bytes(self.key_pem)
        os.chmod(key_path, 0o600)


class CertificateAuthority:
    """A CA made for one lab or one test: it signs proxy certificates and nothing else."""

    def __init__(self, common_name: str = "endpoints lab CA") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: tuple[str, ...] = (), addresses: tuple[str, ...] = (LOOPBACK,), *,
              not_before: datetime.datetime | None = None, days: float = 825) -> Issued:
        """A server certificate for these DNS names and IP addresses (the subject CN is the first)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        start = not_before or now - datetime.timedelta(hours=1)
        common_name = (names or addresses)[0]
        alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
        alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return Issued(certificate.public_bytes(serialization.Encoding.PEM),
                      key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))


# --- the Kamailio process ----------------------------------------------------------------

def _template() -> string.Template:
    text = resources.files("endpoints.lab").joinpath("kamailio/kamailio.cfg").read_text(encoding="utf-8")
    return string.Template(text)


def free_port(address: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


class SipServer:
    """One Kamailio listening for SIP over TLS on loopback addresses, one port."""

    def __init__(self, folder: Path, certificate: Issued, *, addresses: tuple[str, ...] = (LOOPBACK,),
                 port: int | None = None) -> None:
        self.folder = Path(folder).absolute()  # kamailio runs in its own working dir (-w)
        self.certificate = certificate
        self.addresses = addresses
        self.port = port or free_port(addresses[0])
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0  # seconds from launch to the first accepted connection

    @property
    def log_path(self) -> Path:
        return self.folder / "kamailio.log"

    @property
    def config_path(self) -> Path:
        return self.folder / "kamailio.cfg"

    def write_config(self) -> Path:
        """The config, the certificate and the key, in this server's private folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        cert, key = self.folder / "proxy.pem", self.folder / "proxy.key"
        self.certificate.write(cert, key)
        listen = "\n".join(f"listen=tls:{_bracketed(a)}:{self.port}" for a in self.addresses)
        text = _template().substitute(listen=listen, certificate=cert, private_key=key, server_name=SERVER_NAME)
        self.config_path.write_text(text, encoding="utf-8")
        return self.config_path

    def start(self, wait: float = 30.0) -> SipServer:
        """Launch Kamailio and return once it accepts connections; InputError with its log if not."""
        binary = kamailio_binary()
        if binary is None:
            raise InputError(f"kamailio is not installed: {INSTALL_HINT}")
        self.write_config()
        runtime = self.folder / "run"
        runtime.mkdir(exist_ok=True)
        command = [binary, "-f", str(self.config_path), "-DD", "-E", "-m", "32", "-M", "4",
                   "-P", str(self.folder / "kamailio.pid"), "-Y", str(runtime), "-w", str(self.folder)]
        launched = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_until_listening(launched + wait)
        self.started_in = time.monotonic() - launched
        return self

    def _wait_until_listening(self, deadline: float) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise InputError(f"kamailio exited ({self.process.returncode}): {self.log_tail()}",
                                 file=str(self.log_path))
            if all(_accepts(address, self.port) for address in self.addresses):
                return
            time.sleep(0.05)
        self.stop()
        raise InputError(f"kamailio did not listen on port {self.port} in time: {self.log_tail()}",
                         file=str(self.log_path))

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:])

    def stop(self, wait: float = 10.0) -> None:
        """SIGTERM to Kamailio's main process (it ends its children), then to its group if needed."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(wait)

    def __enter__(self) -> SipServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- the lab's proxy -----------------------------------------------------------------------

@dataclass
class LabProxy:
    """What `lab up --sip` started: the server, the proxy the rooms are given, the CA to trust."""

    server: SipServer
    ca_path: Path

    @property
    def proxy(self) -> str:
        return f"{LOOPBACK}:{self.server.port}"

    def stop(self) -> None:
        self.server.stop()


def start_lab_proxy(folder: Path) -> LabProxy:
    """A lab CA, a certificate for 127.0.0.1 signed by it, and Kamailio serving it.

    The CA lands in `<lab>/sip/ca.pem`: doctor trusts it only when told to
    (`SSL_CERT_FILE=<lab>/sip/ca.pem`), as an operator would trust a private CA.
    """
    binary = kamailio_binary()
    if binary is None:
        raise InputError(f"`lab up --sip` needs Kamailio, which is not installed: {INSTALL_HINT}")
    if not tls_module_installed(binary):
        raise InputError("`lab up --sip` needs Kamailio's TLS module: apt-get install kamailio-tls-modules")
    sip_folder = Path(folder) / "sip"
    sip_folder.mkdir(parents=True, exist_ok=True)
    authority = CertificateAuthority("endpoints lab CA")
    ca_path = sip_folder / "ca.pem"
    ca_path.write_bytes(authority.cert_pem)
    server = SipServer(sip_folder, authority.issue(addresses=(LOOPBACK,))).start()
    return LabProxy(server, ca_path)


def how_to_doctor(proxy: LabProxy, inventory: Path) -> str:
    """The lines `lab up --sip` prints: where the proxy is and how to point doctor at it."""
    return (f"sip: Kamailio {proxy.proxy} (TLS, lab CA {proxy.ca_path}), the rooms' sip.proxy; "
            f"started in {proxy.server.started_in:.2f} s\n"
            f"try: SSL_CERT_FILE={proxy.ca_path} endpoints doctor -i {inventory}")


def doctor_hint(lab_folder: Path) -> str:
    """The doctor line for a lab started in the background (`lab up --sip --detach`)."""
    return f"try: SSL_CERT_FILE={Path(lab_folder) / 'sip' / 'ca.pem'} endpoints doctor -i {Path(lab_folder) / 'inventory.yaml'}"
