"""Certificates for the SDK tests, made with the cryptography package: a CA, a node, and a stranger."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Pair:
    cert: Path
    key: Path


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(directory: Path, stem: str, cert, key) -> Pair:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return Pair(cert_path, key_path)


def _issue(cn, issuer_name, issuer_key, key, ca=False, uris=(), usages=("SERVER_AUTH", "CLIENT_AUTH")):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                                        + [x509.UniformResourceIdentifier(uri) for uri in uris]),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, usage) for usage in usages]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class PKI:
    ca: Path
    node: Pair
    foreign_ca: Path
    foreign: Pair
    # Client identities, as the pki role names them, and a certificate that may only serve.
    prometheus: Pair
    agent: Pair
    server_only: Pair


PROMETHEUS = "spiffe://masa.monitoring/prometheus"
AGENT = "spiffe://masa.monitoring/consul/t1"


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    ca_key, foreign_ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Test CA", _name("Test CA"), ca_key, ca_key, ca=True)
    foreign_ca = _issue("Foreign CA", _name("Foreign CA"), foreign_ca_key, foreign_ca_key, ca=True)
    node_key, foreign_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    node = _write(directory, "node", _issue("node", ca.subject, ca_key, node_key), node_key)
    foreign = _write(directory, "foreign", _issue("foreign", foreign_ca.subject, foreign_ca_key, foreign_key), foreign_key)
    ca_path = _write(directory, "ca", ca, ca_key).cert
    foreign_ca_path = _write(directory, "foreign-ca", foreign_ca, foreign_ca_key).cert
    identities = {}
    for stem, uris, usages in (("prometheus", [PROMETHEUS], ["CLIENT_AUTH"]), ("agent", [AGENT], ["SERVER_AUTH", "CLIENT_AUTH"]),
                               ("server_only", [PROMETHEUS], ["SERVER_AUTH"])):
        key = ec.generate_private_key(ec.SECP256R1())
        identities[stem] = _write(directory, stem, _issue(stem, ca.subject, ca_key, key, uris=uris, usages=usages), key)
    return PKI(ca=ca_path, node=node, foreign_ca=foreign_ca_path, foreign=foreign, **identities)
