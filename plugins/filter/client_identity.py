# Copyright: masa.monitoring developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: client_identity
short_description: The URI SAN that names one client identity of the stack
version_added: 0.1.0
description:
  - The pki role writes this URI into the client certificate it issues, and every mTLS endpoint admits
    clients by it (C(client_allowed_sans) in a web config, the SDK's allowed identities).
  - The names are C(prometheus), C(operator), C(alertmanager-peer) (one Alertmanager to another, on the cluster
    port), and C(consul) with a host for that host's Consul agent.
options:
  _input:
    description: The identity's name.
    type: str
    required: true
  host:
    description: The inventory host, for identities that belong to one host.
    type: str
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
prometheus: "{{ 'prometheus' | masa.monitoring.client_identity }}"
# => spiffe://masa.monitoring/prometheus
agent: "{{ 'consul' | masa.monitoring.client_identity(inventory_hostname) }}"
# => spiffe://masa.monitoring/consul/node1
"""

RETURN = r"""
_value:
  description: The identity as a URI.
  type: str
"""

from ansible.errors import AnsibleFilterError

TRUST_DOMAIN = "masa.monitoring"
NAMES = ("prometheus", "operator", "consul", "alertmanager-peer")


def client_identity(name, host=None):
    if name not in NAMES:
        raise AnsibleFilterError("client_identity: unknown identity %r; use one of %s" % (name, ", ".join(NAMES)))
    if (name == "consul") != bool(host):
        raise AnsibleFilterError("client_identity: give a host for the consul identity, and only for it")
    return "spiffe://%s/%s%s" % (TRUST_DOMAIN, name, "/" + host if host else "")


class FilterModule:
    def filters(self):
        return {"client_identity": client_identity}
