# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by masa.monitoring.tls_ca and masa.monitoring.tls_certificate.
    DOCUMENTATION = r"""
options:
  key_path:
    description:
      - Where the private key is kept. It is always written with mode C(0600), through a temporary
        file in the same folder that is then renamed into place.
      - An existing key of the requested O(key_type) is kept; one of another type is never replaced
        unless O(force=true).
    type: path
    required: true
  cert_path:
    description: Where the PEM certificate is written.
    type: path
    required: true
  key_type:
    description: The key algorithm. C(ec) uses the P-256 curve.
    type: str
    default: ec
    choices: [ec, rsa]
  key_size:
    description: RSA key size in bits. Ignored for C(ec).
    type: int
    default: 3072
  valid_days:
    description: How many days a newly issued certificate is valid.
    type: int
  force:
    description:
      - Reissue even when nothing is wrong, and allow replacing a key of another type or an unreadable
        certificate.
    type: bool
    default: false
  return_content:
    description: Return the PEM certificate in RV(certificate_pem). Key material is never returned.
    type: bool
    default: false
requirements:
  - cryptography >= 3.3
notes:
  - O(mode) applies to the certificate; the key always gets C(0600). O(owner) and O(group) apply to both.
"""
