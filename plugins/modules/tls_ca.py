#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_ca
short_description: Create or adopt the certificate authority that signs every masa.monitoring certificate
version_added: 0.1.0
description:
  - Creates a private key and a self-signed CA certificate, or adopts the pair already at the given paths.
  - An existing pair is kept as long as the key matches the certificate, the certificate is a CA, and it
    does not expire within O(renew_before_days). Near expiry it is renewed with the same key and subject,
    so certificates it already signed stay valid.
  - A key that does not match the certificate is an error, and nothing is written.
options:
  subject:
    description:
      - The CA's subject. Keys are C(common_name), C(organization), C(organizational_unit), C(country),
        C(locality) and C(state).
      - When set and an existing CA has another subject, the module fails rather than replace the CA,
        unless O(force=true).
      - When a CA is created and this is not set, the subject is C(CN=masa.monitoring CA).
    type: dict
  valid_days:
    description: How many days a new CA certificate is valid. Defaults to 3650.
  renew_before_days:
    description: Renew the CA certificate, with the same key and subject, when it expires within this many days.
    type: int
    default: 90
  key_passphrase:
    description:
      - Encrypts the CA key on disk. Keep it in Ansible Vault.
    type: str
extends_documentation_fragment:
  - ansible.builtin.files
  - masa.monitoring.tls
  - masa.monitoring.attributes
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Create the CA on the controller
  masa.monitoring.tls_ca:
    key_path: "{{ inventory_dir }}/pki/ca.key"
    cert_path: "{{ inventory_dir }}/pki/ca.crt"
    key_passphrase: "{{ vault_pki_ca_passphrase }}"
    subject:
      common_name: Masa monitoring CA
      organization: Masa
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
certificate:
  description: The CA certificate as it is after the run.
  returned: always
  type: dict
  sample: {subject: "CN=masa.monitoring CA", not_after: "2036-11-24T06:00:00Z", serial: "3f2a..."}
reasons:
  description: Why the CA was created or renewed; empty when it was kept.
  returned: always
  type: list
  elements: str
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
    is_ca,
    key_matches,
    not_valid_after,
    sign,
    tls_module,
    utcnow,
)

try:
    from cryptography import x509
except ImportError:  # reported by tls_module()
    pass


class CertificateAuthority(TLSModule):
    default_valid_days = 3650

    def key_passphrase(self):
        return self.params["key_passphrase"]

    def subject(self, current=None):
        if self.params["subject"]:
            return build_name(self.params["subject"])
        return current.subject if current is not None else build_name({"common_name": "masa.monitoring CA"})

    def reissue_reasons(self, cert, key):
        force_hint = "set force=true to replace the CA; every certificate it signed must then be reissued"
        if not key_matches(key, cert):
            if self.params["force"]:
                return ["the key does not match the certificate"]
            raise TLSError(
                "the CA key at %s does not match the CA certificate at %s; nothing was written. "
                "Restore the matching pair, or %s" % (self.params["key_path"], self.params["cert_path"], force_hint)
            )
        if not is_ca(cert):
            raise TLSError("the certificate at %s is not a CA certificate; %s" % (self.params["cert_path"], force_hint))
        if self.params["subject"] and self.subject() != cert.subject:
            raise TLSError(
                "the CA at %s has the subject %s, not %s; %s"
                % (self.params["cert_path"], cert.subject.rfc4514_string(), self.subject().rfc4514_string(), force_hint)
            )
        remaining = not_valid_after(cert) - utcnow()
        if remaining.days < self.params["renew_before_days"]:
            return ["the CA expires within %d days" % self.params["renew_before_days"]]
        return []

    def planned(self):
        current = self.existing_certificate() if not self.params["force"] else None
        name = self.subject(current)
        return self.planned_description(name, name, [], None)

    def issue(self, key):
        current = self.existing_certificate() if not self.params["force"] else None
        name = self.subject(current)
        builder = (
            certificate_builder(name, name, key.public_key(), self.valid_days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        return sign(builder, key)


def main():
    module = tls_module(dict(
        subject=dict(type="dict"),
        renew_before_days=dict(type="int", default=90),
        key_passphrase=dict(type="str", no_log=True),
    ))
    CertificateAuthority(module).run()


if __name__ == "__main__":
    main()
