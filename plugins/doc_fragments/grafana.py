# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every grafana_* module; set them once with
    # module_defaults: group/masa.monitoring.grafana.
    DOCUMENTATION = r"""
options:
  url:
    description: Grafana's base URL, such as C(https://monitor:3000). Falls back to E(GRAFANA_URL).
    type: str
    required: true
  token:
    description: A service-account token. Falls back to E(GRAFANA_TOKEN). Exclusive with O(username).
    type: str
  username:
    description: A user for basic auth. Falls back to E(GRAFANA_USER).
    type: str
  password:
    description: The user's password. Falls back to E(GRAFANA_PASSWORD).
    type: str
  org_id:
    description: The organisation to act in, sent as C(X-Grafana-Org-Id).
    type: int
  ca_cert:
    description: The CA that signed Grafana's certificate.
    type: path
  client_cert:
    description: A client certificate, when Grafana sits behind mutual TLS.
    type: path
  client_key:
    description: The key of O(client_cert).
    type: path
  validate_certs:
    description: Verify Grafana's certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each API call.
    type: float
    default: 10
"""
