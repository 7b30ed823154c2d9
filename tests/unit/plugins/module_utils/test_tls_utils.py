"""Unit tests of the pure helpers in _tls: SAN parsing, descriptions, signature checks."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

from ansible_collections.masa.monitoring.plugins.module_utils import _tls


def make_ca(name="Test CA"):
    key = _tls.generate_private_key("ec", 0)
    subject = _tls.build_name({"common_name": name})
    cert = _tls.sign(
        _tls.certificate_builder(subject, subject, key.public_key(), 30).add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        ),
        key,
    )
    return key, cert


def make_leaf(ca_key, ca_cert, sans=("DNS:node1",), days=30):
    key = _tls.generate_private_key("ec", 0)
    builder = _tls.certificate_builder(_tls.build_name({"common_name": "node1"}), ca_cert.subject,
                                       key.public_key(), days)
    builder = builder.add_extension(x509.SubjectAlternativeName([_tls.parse_san(s) for s in sans]), critical=False)
    return key, _tls.sign(builder, ca_key)


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("node1", "DNS:node1"),
        ("DNS:Node1.Example", "DNS:node1.example"),
        ("10.0.0.1", "IP:10.0.0.1"),
        ("IP:::1", "IP:::1"),
        ("*.consul", "DNS:*.consul"),
        ("server.dc1.consul", "DNS:server.dc1.consul"),
        ("URI:spiffe://masa.monitoring/consul/node1", "URI:spiffe://masa.monitoring/consul/node1"),
    ],
)
def test_parse_san_accepts_names_and_addresses(entry, expected):
    assert _tls.san_strings([_tls.parse_san(entry)]) == [expected]


@pytest.mark.parametrize("entry", ["DNS:not a name", "IP:300.1.1.1", "", "-bad.example", "a" * 64 + ".com",
                                   "URI:masa.monitoring/operator", "URI:spiffe://", "URI:spiffe://a b"])
def test_parse_san_rejects_bad_entries_with_a_clear_message(entry):
    with pytest.raises(_tls.TLSError, match="invalid subject_alt_names entry"):
        _tls.parse_san(entry)


def test_build_name_rejects_unknown_fields():
    with pytest.raises(_tls.TLSError, match="unknown subject field 'cn'"):
        _tls.build_name({"cn": "x"})


def test_signed_by_tells_our_ca_from_a_foreign_one():
    ca_key, ca_cert = make_ca()
    other_key, other_cert = make_ca("Other CA")
    _key, leaf = make_leaf(ca_key, ca_cert)
    assert _tls.signed_by(leaf, ca_cert)
    assert not _tls.signed_by(leaf, other_cert)
    # Same subject, different key: the signature check, not the name, decides.
    impostor_key, impostor = make_ca("Test CA")
    assert not _tls.signed_by(leaf, impostor)


def test_describe_never_shows_key_material_and_reads_the_fields():
    ca_key, ca_cert = make_ca()
    key, leaf = make_leaf(ca_key, ca_cert, sans=("DNS:node1", "IP:10.0.0.1"))
    info = _tls.describe(leaf)
    assert info["subject"] == "CN=node1"
    assert info["issuer"] == "CN=Test CA"
    assert info["subject_alt_names"] == ["DNS:node1", "IP:10.0.0.1"]
    assert "PRIVATE" not in repr(info)
    expires = datetime.datetime.strptime(info["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    assert 29 <= (expires - datetime.datetime.utcnow()).days <= 30
    assert _tls.key_matches(key, leaf)
    assert not _tls.key_matches(ca_key, leaf)


def test_key_pem_round_trips_with_a_passphrase(tmp_path):
    key = _tls.generate_private_key("rsa", 2048)
    path = tmp_path / "k.pem"
    path.write_bytes(_tls.key_pem(key, "s3cret"))
    assert _tls.key_type_of(_tls.load_private_key(str(path), "s3cret")) == "rsa"
    with pytest.raises(_tls.TLSError, match="cannot be loaded"):
        _tls.load_private_key(str(path), "wrong")
    with pytest.raises(_tls.TLSError, match="passphrase"):
        _tls.load_private_key(str(path), None)


def test_read_errors_name_the_path(tmp_path):
    with pytest.raises(_tls.TLSError, match=r"cannot read the CA certificate at .*/nope"):
        _tls.load_certificate(str(tmp_path / "nope"), "CA certificate")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(_tls.TLSError, match="is not a PEM certificate"):
        _tls.load_certificate(str(garbage))
