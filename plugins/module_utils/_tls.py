# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the tls_* modules: keys, certificates, atomic writes, diffs.

Not part of the collection's public API.
"""

from __future__ import annotations

import abc
import datetime
import ipaddress
import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.masa.monitoring.plugins.module_utils._module import (
    ModuleFailure,
    finish,
    with_diff,
    write_atomically,
)

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

KEY_TYPES = ("ec", "rsa")
USAGES = ("server", "client", "both")
SUBJECT_FIELDS = {
    "common_name": "COMMON_NAME",
    "organization": "ORGANIZATION_NAME",
    "organizational_unit": "ORGANIZATIONAL_UNIT_NAME",
    "country": "COUNTRY_NAME",
    "locality": "LOCALITY_NAME",
    "state": "STATE_OR_PROVINCE_NAME",
}
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")

# Options every tls_* module shares; merged by tls_module(), documented in the
# masa.monitoring.tls doc fragment.
TLS_COMMON_ARGS = dict(
    key_path=dict(type="path", required=True),
    cert_path=dict(type="path", required=True),
    key_type=dict(type="str", default="ec", choices=list(KEY_TYPES)),
    key_size=dict(type="int", default=3072),
    valid_days=dict(type="int"),
    force=dict(type="bool", default=False),
    return_content=dict(type="bool", default=False),
)


class TLSError(ModuleFailure):
    """A failure the module reports as it is, with no traceback."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def not_valid_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def read_file(path, what):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise TLSError("cannot read the %s at %s: %s" % (what, path, exc.strerror or exc))


def load_certificate(path, what="certificate"):
    data = read_file(path, what)
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise TLSError("the %s at %s is not a PEM certificate: %s" % (what, path, exc))


def load_private_key(path, passphrase=None, what="private key"):
    data = read_file(path, what)
    password = passphrase.encode() if passphrase else None
    try:
        return serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:
        raise TLSError(
            "the %s at %s: %s; set the passphrase option to match how the key is stored" % (what, path, exc)
        )
    except ValueError as exc:
        raise TLSError("the %s at %s cannot be loaded (wrong passphrase or not a PEM key): %s" % (what, path, exc))


def key_type_of(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ec"
    return type(key).__name__


def generate_private_key(key_type, key_size):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return ec.generate_private_key(ec.SECP256R1())


def public_bytes(key_or_cert):
    public_key = key_or_cert.public_key()
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(key, cert):
    return public_bytes(key) == public_bytes(cert)


def key_pem(key, passphrase=None):
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def build_name(subject):
    attributes = []
    for field, value in subject.items():
        if value in (None, ""):
            continue
        if field not in SUBJECT_FIELDS:
            raise TLSError(
                "unknown subject field %r; use one of: %s" % (field, ", ".join(sorted(SUBJECT_FIELDS)))
            )
        attributes.append(x509.NameAttribute(getattr(NameOID, SUBJECT_FIELDS[field]), str(value)))
    if not attributes:
        raise TLSError("the subject is empty; give at least common_name")
    return x509.Name(attributes)


def parse_san(entry):
    """Turn 'DNS:name', 'IP:addr', 'URI:scheme://...' or a bare name or address into a GeneralName."""
    text = str(entry).strip()
    kind, sep, value = text.partition(":")
    if sep and kind.upper() in ("DNS", "IP", "URI"):
        kind = kind.upper()
    else:
        kind, value = None, text
    if kind == "URI":
        scheme, sep, rest = value.partition("://")
        if not sep or not _URI_SCHEME.match(scheme) or not rest or any(c.isspace() for c in rest):
            raise TLSError("invalid subject_alt_names entry %r: write a URI with a scheme, e.g. "
                           "URI:spiffe://masa.monitoring/prometheus" % (entry,))
        return x509.UniformResourceIdentifier(value)
    if kind in (None, "IP"):
        try:
            return x509.IPAddress(ipaddress.ip_address(value))
        except ValueError:
            if kind == "IP":
                raise TLSError("invalid subject_alt_names entry %r: %r is not an IP address" % (entry, value))
    labels = value[2:].split(".") if value.startswith("*.") else value.split(".")
    if not value or len(value) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise TLSError(
            "invalid subject_alt_names entry %r: write a DNS name (DNS:host.example), "
            "an IP address (IP:10.0.0.1) or a URI (URI:spiffe://masa.monitoring/operator)" % (entry,)
        )
    return x509.DNSName(value.lower())


def san_strings(general_names):
    out = []
    for name in general_names:
        if isinstance(name, x509.IPAddress):
            out.append("IP:%s" % name.value)
        elif isinstance(name, x509.DNSName):
            out.append("DNS:%s" % name.value)
        elif isinstance(name, x509.UniformResourceIdentifier):
            out.append("URI:%s" % name.value)
    return sorted(set(out))


def certificate_sans(cert):
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san_strings(extension.value)


def certificate_usage(cert):
    try:
        oids = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None
    server = ExtendedKeyUsageOID.SERVER_AUTH in oids
    client = ExtendedKeyUsageOID.CLIENT_AUTH in oids
    if server and client:
        return "both"
    return "server" if server else ("client" if client else None)


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def signed_by(cert, ca_cert):
    if cert.issuer != ca_cert.subject:
        return False
    public_key = ca_cert.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
            )
        else:
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except InvalidSignature:
        return False
    return True


def describe(cert):
    """What a diff or a result may show of a certificate: never key material."""
    if cert is None:
        return {}
    return dict(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        subject_alt_names=certificate_sans(cert),
        usage=certificate_usage(cert),
        not_after=not_valid_after(cert).strftime("%Y-%m-%dT%H:%M:%SZ"),
        serial=format(cert.serial_number, "x"),
    )


def sign(builder, signing_key):
    algorithm = None if key_type_of(signing_key) not in KEY_TYPES else hashes.SHA256()
    return builder.sign(private_key=signing_key, algorithm=algorithm)


def certificate_builder(subject, issuer, public_key, valid_days):
    now = utcnow()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def tls_module(argument_spec):
    """An AnsibleModule with the shared key and certificate options and file attributes, check mode on."""
    spec = dict(TLS_COMMON_ARGS)
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, add_file_common_args=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    return module


class TLSModule(abc.ABC):
    """Shared flow for the tls_* modules: read what is on disk, decide, write atomically.

    A subclass says why the present certificate falls short (``reissue_reasons``), how to issue a
    new one (``issue``) and what a new one would show (``planned``); its module's main() declares
    the options.
    """

    default_valid_days = 365

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.valid_days = self.params["valid_days"] or self.default_valid_days
        self.changed = False

    @abc.abstractmethod
    def reissue_reasons(self, cert, key):
        """Why the certificate on disk falls short; an empty list keeps it."""

    @abc.abstractmethod
    def issue(self, key):
        """Build the new certificate for ``key``."""

    @abc.abstractmethod
    def planned(self):
        """What ``issue`` would build, as ``describe`` shows it, without a key: check mode makes none."""

    def key_passphrase(self):
        return None

    # flow -----------------------------------------------------------------
    def existing_key(self):
        path = self.params["key_path"]
        if not os.path.exists(path):
            return None
        key = load_private_key(path, self.key_passphrase(), "private key")
        found = key_type_of(key)
        if found != self.params["key_type"] and not self.params["force"]:
            raise TLSError(
                "the key at %s is of type %s, not the requested %s; it is left as it is. "
                "To replace it (and every certificate that uses it), set force=true"
                % (path, found, self.params["key_type"])
            )
        if found != self.params["key_type"]:
            return None
        return key

    def existing_certificate(self):
        path = self.params["cert_path"]
        if not os.path.exists(path):
            return None
        try:
            return load_certificate(path)
        except TLSError:
            if self.params["force"]:
                return None
            raise

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        self.validate_inputs()
        key = self.existing_key()
        cert = self.existing_certificate()
        reasons = []
        if key is None:
            reasons.append("the key is missing" if not os.path.exists(self.params["key_path"]) else "the key type changes")
        if cert is None:
            reasons.append("the certificate is missing")
        elif key is not None:
            reasons.extend(self.reissue_reasons(cert, key))
        if self.params["force"] and not reasons:
            reasons.append("force is set")

        before = describe(cert)
        after = before
        if reasons:
            self.changed = True
            if self.module.check_mode:
                after = self.planned()
                cert = None
            else:
                new_key = key or generate_private_key(self.params["key_type"], self.params["key_size"])
                cert = self.issue(new_key)
                after = describe(cert)
                if key is None:
                    write_atomically(self.module, self.params["key_path"], key_pem(new_key, self.key_passphrase()),
                                     0o600)
                write_atomically(self.module, self.params["cert_path"], cert_pem(cert), 0o644)
        self.apply_file_attributes()

        result = dict(changed=self.changed, reasons=reasons, certificate=after)
        result.update(self.paths())
        if self.params["return_content"] and cert is not None:
            result["certificate_pem"] = cert_pem(cert).decode()
        return with_diff(self.module, result, before, after)

    def planned_description(self, subject, issuer, sans, usage):
        """``describe`` of a certificate not yet issued: its serial is chosen at issue."""
        not_after = utcnow() + datetime.timedelta(days=self.valid_days)
        return dict(subject=subject.rfc4514_string(), issuer=issuer.rfc4514_string(), subject_alt_names=sans,
                    usage=usage, not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"), serial="(chosen at issue)")

    def validate_inputs(self):
        if self.valid_days < 1:
            raise TLSError("valid_days must be at least 1, got %d" % self.valid_days)
        if self.params["key_type"] == "rsa" and self.params["key_size"] < 2048:
            raise TLSError("key_size must be at least 2048 for RSA keys, got %d" % self.params["key_size"])

    def paths(self):
        return dict(cert_path=self.params["cert_path"], key_path=self.params["key_path"])

    def apply_file_attributes(self):
        for path, is_key in ((self.params["key_path"], True), (self.params["cert_path"], False)):
            if not os.path.exists(path) and self.module.check_mode:
                continue
            file_args = self.module.load_file_common_arguments(self.params, path=path)
            if is_key:
                file_args["mode"] = "0600"
            elif file_args.get("mode") is None:
                file_args["mode"] = "0644"
            self.changed = self.module.set_fs_attributes_if_different(file_args, self.changed)
