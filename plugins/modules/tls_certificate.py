#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_certificate
short_description: Issue a key and a certificate signed by the masa.monitoring CA
version_added: 0.1.0
description:
  - Writes a private key and a certificate signed by the CA at O(ca_cert_path) and O(ca_key_path).
  - Reissues only when something is wrong, and says why in RV(reasons); the files are missing, the
    certificate was not signed by this CA, its common name, SANs or usage differ, it expires within
    O(renew_before_days), or the key does not match it. Otherwise it reports no change.
  - A reissue keeps the existing key when it is of the requested type.
options:
  ca_cert_path:
    description: The CA certificate.
    type: path
    required: true
  ca_key_path:
    description: The CA private key. It must match O(ca_cert_path), or the module fails and writes nothing.
    type: path
    required: true
  ca_key_passphrase:
    description: The passphrase of the CA key, if it is encrypted.
    type: str
  common_name:
    description: The subject's common name.
    type: str
    required: true
  subject_alt_names:
    description:
      - DNS names and IP addresses, written C(DNS:name), C(IP:address), or bare; a bare entry that parses
        as an IP address is one.
      - URIs, written C(URI:scheme://...); the collection names client identities this way, for example
        C(URI:spiffe://masa.monitoring/prometheus), and endpoints admit clients by them.
    type: list
    elements: str
    default: []
  usage:
    description: The extended key usage. C(both) serves TLS and authenticates as a client.
    type: str
    default: server
    choices: [server, client, both]
  valid_days:
    description: How many days a new certificate is valid. Defaults to 365.
  renew_before_days:
    description: Reissue when the certificate expires within this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.files
  - masa.monitoring.tls
  - masa.monitoring.attributes
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Issue the node's server certificate on the controller
  masa.monitoring.tls_certificate:
    ca_cert_path: "{{ pki_ca_dir }}/ca.crt"
    ca_key_path: "{{ pki_ca_dir }}/ca.key"
    ca_key_passphrase: "{{ vault_pki_ca_passphrase }}"
    key_path: "{{ pki_ca_dir }}/hosts/{{ inventory_hostname }}/host.key"
    cert_path: "{{ pki_ca_dir }}/hosts/{{ inventory_hostname }}/host.crt"
    common_name: "{{ inventory_hostname }}"
    subject_alt_names:
      - "DNS:{{ inventory_hostname }}"
      - "IP:{{ ansible_host }}"
    usage: both
  delegate_to: localhost

- name: Issue Prometheus's client certificate
  masa.monitoring.tls_certificate:
    ca_cert_path: /etc/masa/pki/ca.crt
    ca_key_path: /etc/masa/pki/ca.key
    key_path: /etc/masa/pki/prometheus-client.key
    cert_path: /etc/masa/pki/prometheus-client.crt
    common_name: prometheus
    usage: client
"""

RETURN = r"""
certificate:
  description: Subject, issuer, SANs, usage, not_after and serial of the certificate after the run.
  returned: always
  type: dict
  sample:
    subject: CN=node1
    subject_alt_names: ["DNS:node1", "IP:172.30.0.11"]
    usage: both
    not_after: "2027-11-24T06:00:00Z"
reasons:
  description: Why the certificate was (or in check mode would be) reissued; empty when it was kept.
  returned: always
  type: list
  elements: str
  sample: ["the SANs differ", "it expires within 30 days"]
certificate_pem:
  description: The PEM certificate.
  returned: when O(return_content=true)
  type: str
"""

from ansible_collections.masa.monitoring.plugins.module_utils._tls import (
    TLSError,
    TLSModule,
    build_name,
    certificate_builder,
    certificate_sans,
    certificate_usage,
    is_ca,
    key_matches,
    load_certificate,
    load_private_key,
    not_valid_after,
    parse_san,
    san_strings,
    sign,
    tls_module,
    signed_by,
    utcnow,
)

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError:  # reported by tls_module()
    pass

EXTENDED_USAGES = {
    "server": ["SERVER_AUTH"],
    "client": ["CLIENT_AUTH"],
    "both": ["SERVER_AUTH", "CLIENT_AUTH"],
}


class Certificate(TLSModule):

    def validate_inputs(self):
        super().validate_inputs()
        if self.params["renew_before_days"] >= self.valid_days:
            raise TLSError(
                "renew_before_days (%d) must be less than valid_days (%d), or every run would reissue"
                % (self.params["renew_before_days"], self.valid_days)
            )
        self.sans = [parse_san(entry) for entry in self.params["subject_alt_names"]]
        self.ca_cert = load_certificate(self.params["ca_cert_path"], "CA certificate")
        self.ca_key = load_private_key(self.params["ca_key_path"], self.params["ca_key_passphrase"], "CA key")
        if not is_ca(self.ca_cert):
            raise TLSError("%s is not a CA certificate; nothing was written" % self.params["ca_cert_path"])
        if not key_matches(self.ca_key, self.ca_cert):
            raise TLSError(
                "the CA key at %s does not match the CA certificate at %s; nothing was written"
                % (self.params["ca_key_path"], self.params["ca_cert_path"])
            )

    def reissue_reasons(self, cert, key):
        reasons = []
        if not key_matches(key, cert):
            reasons.append("the key does not match the certificate")
        if cert.issuer != self.ca_cert.subject or not signed_by(cert, self.ca_cert):
            reasons.append("it was not signed by this CA")
        names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if not names or names[0].value != self.params["common_name"]:
            reasons.append("the common name differs")
        if certificate_sans(cert) != san_strings(self.sans):
            reasons.append("the SANs differ")
        if certificate_usage(cert) != self.params["usage"]:
            reasons.append("the usage differs")
        if (not_valid_after(cert) - utcnow()).days < self.params["renew_before_days"]:
            reasons.append("it expires within %d days" % self.params["renew_before_days"])
        return reasons

    def planned(self):
        return self.planned_description(build_name({"common_name": self.params["common_name"]}), self.ca_cert.subject,
                                        san_strings(self.sans), self.params["usage"])

    def issue(self, key):
        usage = self.params["usage"]
        is_rsa = self.params["key_type"] == "rsa"
        builder = (
            certificate_builder(
                build_name({"common_name": self.params["common_name"]}),
                self.ca_cert.subject,
                key.public_key(),
                self.valid_days,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, name) for name in EXTENDED_USAGES[usage]]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_cert.public_key()), critical=False
            )
        )
        if self.sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(self.sans), critical=False)
        return sign(builder, self.ca_key)

    def paths(self):
        paths = super().paths()
        paths["ca_cert_path"] = self.params["ca_cert_path"]
        return paths


def main():
    module = tls_module(dict(
        ca_cert_path=dict(type="path", required=True),
        ca_key_path=dict(type="path", required=True),
        ca_key_passphrase=dict(type="str", no_log=True),
        common_name=dict(type="str", required=True),
        subject_alt_names=dict(type="list", elements="str", default=[]),
        usage=dict(type="str", default="server", choices=list(EXTENDED_USAGES)),
        renew_before_days=dict(type="int", default=30),
    ))
    Certificate(module).run()


if __name__ == "__main__":
    main()
