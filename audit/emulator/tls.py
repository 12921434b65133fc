"""A private certificate authority and a loopback server certificate for the served emulator.

The ``pagerduty`` client refuses plain http, so the emulator serves TLS with a certificate for
``localhost``, ``127.0.0.1`` and ``::1`` signed by a CA generated into the state directory.
Clients trust that CA (``verify=ca_path``); nothing is added to the system trust store. The
files are reused while they exist and the server certificate has not expired, so a client that
pinned the CA keeps working across restarts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from audit.errors import UserError

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=825)
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class CertificatePaths:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def ensure_certificates(state_dir: str | Path) -> CertificatePaths:
    """The CA and server certificate in ``state_dir``, generated when missing or expired."""
    state = Path(state_dir)
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{state}: cannot create the emulator state directory: {exc}") from None
    paths = CertificatePaths(state / "emulator-ca.pem", state / "emulator-server.pem", state / "emulator-server-key.pem")
    if _still_valid(paths):
        return paths
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pd-audit emulator CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.DNSName(n) for n in LOOPBACK_NAMES] + [x509.IPAddress(ipaddress.ip_address(a)) for a in LOOPBACK_IPS]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    # The key is only for a loopback test server, but still: owner-readable only.
    fd = os.open(paths.server_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return paths


def _still_valid(paths: CertificatePaths) -> bool:
    if not all(p.is_file() for p in (paths.ca_cert, paths.server_cert, paths.server_key)):
        return False
    try:
        cert = x509.load_pem_x509_certificate(paths.server_cert.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
