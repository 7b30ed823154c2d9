#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_acl_token
short_description: Manage a Consul ACL token with a secret chosen in advance
version_added: 0.1.0
description:
  - Creates, updates or removes an ACL token identified by O(accessor_id).
  - The secret is chosen by the caller (for example kept in vault), so configuration that carries the
    token can be written before the token exists. Consul cannot change a token's secret; a different
    O(secret_id) replaces the token.
options:
  accessor_id:
    description: The token's accessor id, a UUID.
    type: str
    required: true
  secret_id:
    description: The token's secret, a UUID. Required with O(state=present).
    type: str
  description:
    description: What the token is for.
    type: str
    default: ""
  policies:
    description: Names of the policies the token carries.
    type: list
    elements: str
    default: []
  service_identities:
    description:
      - Services the token may register and deregister, each as Consul's service identity (C(service:write) on
        the name and its sidecar proxy, read on the catalog). Tighter than a policy for one service's own token.
    type: list
    elements: str
    default: []
  node_identities:
    description: Nodes whose catalog entry the token may write, each as Consul's node identity (Consul 1.8.1 or later).
    type: list
    elements: dict
    default: []
    suboptions:
      node_name:
        description: The node's name.
        type: str
        required: true
      datacenter:
        description: The node's datacenter.
        type: str
        required: true
  local:
    description: Whether the token is local to the datacenter.
    type: bool
    default: false
extends_documentation_fragment:
  - masa.monitoring.consul
  - masa.monitoring.attributes
  - masa.monitoring.attributes.state
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Prometheus's token
  masa.monitoring.consul_acl_token:
    accessor_id: "{{ 'prometheus' | to_uuid }}"
    secret_id: "{{ vault_consul_prometheus_token }}"
    description: Prometheus service discovery
    policies: [prometheus]

- name: One oracle node's own token, for its services only
  masa.monitoring.consul_acl_token:
    accessor_id: "{{ ('oracle-' ~ inventory_hostname) | to_uuid }}"
    secret_id: "{{ oracle_node_consul_token }}"
    description: "Oracle services of {{ inventory_hostname }}"
    service_identities: [masa-oracle, masa-node]
"""

RETURN = r"""
token:
  description: The token as the options describe it, without its secret.
  returned: when O(state=present)
  type: dict
  sample: {accessor_id: 0f9e..., description: Prometheus service discovery, policies: [prometheus],
           service_identities: [], node_identities: [], local: false}
"""

from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulError, ConsulModule, consul_module


def _node_key(identity):
    return identity["datacenter"], identity["node_name"]


class ConsulACLToken(ConsulModule):
    def read(self):
        if len(self.params["accessor_id"]) != 36 or (self.params["secret_id"] and len(self.params["secret_id"]) != 36):
            raise ConsulError("accessor_id and secret_id must be UUIDs, such as the output of the to_uuid filter")
        try:
            token = self.client.get("read ACL token (needs acl:read)", "/v1/acl/token/" + self.params["accessor_id"])
        except ConsulError as exc:
            if exc.is_acl_not_found():
                return None
            raise
        if not token:
            return None
        self.current_secret = token.get("SecretID")
        return dict(
            accessor_id=token["AccessorID"],
            description=token.get("Description") or "",
            policies=sorted(p["Name"] for p in token.get("Policies") or []),
            service_identities=sorted(s["ServiceName"] for s in token.get("ServiceIdentities") or []),
            node_identities=sorted(({"node_name": n["NodeName"], "datacenter": n["Datacenter"]}
                                    for n in token.get("NodeIdentities") or []), key=_node_key),
            local=bool(token.get("Local")),
        )

    def wanted(self):
        return dict(
            accessor_id=self.params["accessor_id"],
            description=self.params["description"],
            policies=sorted(set(self.params["policies"])),
            service_identities=sorted(set(self.params["service_identities"])),
            node_identities=sorted(({"node_name": n["node_name"], "datacenter": n["datacenter"]}
                                    for n in self.params["node_identities"]), key=_node_key),
            local=self.params["local"],
        )

    def differs(self, wanted, current):
        return wanted != current or self.current_secret != self.params["secret_id"]

    def write(self, wanted, current):
        what = "write ACL token %s (needs acl:write)" % wanted["accessor_id"]
        payload = dict(
            AccessorID=wanted["accessor_id"],
            SecretID=self.params["secret_id"],
            Description=wanted["description"],
            Policies=[dict(Name=name) for name in wanted["policies"]],
            ServiceIdentities=[dict(ServiceName=name) for name in wanted["service_identities"]],
            NodeIdentities=[dict(NodeName=n["node_name"], Datacenter=n["datacenter"]) for n in wanted["node_identities"]],
            Local=wanted["local"],
        )
        if current is not None and self.current_secret != self.params["secret_id"]:
            self.client.delete(what, "/v1/acl/token/" + wanted["accessor_id"])
            current = None
        if current is None:
            self.client.put(what, "/v1/acl/token", payload)
        else:
            payload.pop("SecretID")
            self.client.put(what, "/v1/acl/token/" + wanted["accessor_id"], payload)

    def delete(self, current):
        self.client.delete("delete ACL token (needs acl:write)", "/v1/acl/token/" + current["accessor_id"])

    def result_fields(self, after):
        return dict(token=after) if after else {}


def main():
    module = consul_module(dict(
        accessor_id=dict(type="str", required=True),
        secret_id=dict(type="str", no_log=True),
        description=dict(type="str", default=""),
        policies=dict(type="list", elements="str", default=[]),
        service_identities=dict(type="list", elements="str", default=[]),
        node_identities=dict(type="list", elements="dict", default=[], options=dict(
            node_name=dict(type="str", required=True),
            datacenter=dict(type="str", required=True),
        )),
        local=dict(type="bool", default=False),
    ), required_if=[("state", "present", ["secret_id"])])
    ConsulACLToken(module).run()


if __name__ == "__main__":
    main()
