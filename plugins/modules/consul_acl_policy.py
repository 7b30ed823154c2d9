#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_acl_policy
short_description: Manage a Consul ACL policy over TLS with client certificates
version_added: 0.1.0
description:
  - Creates, updates or removes an ACL policy, found by name.
  - Unlike community.general.consul_policy, it talks to agents that require client certificates.
options:
  name:
    description: The policy's name.
    type: str
    required: true
  description:
    description: What the policy is for.
    type: str
    default: ""
  rules:
    description: The policy's rules, in HCL. Leading and trailing white space on each line is ignored.
    type: str
    default: ""
extends_documentation_fragment:
  - masa.monitoring.consul
  - masa.monitoring.attributes
  - masa.monitoring.attributes.state
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Prometheus may read the catalog and agents, nothing more
  masa.monitoring.consul_acl_policy:
    name: prometheus
    description: consul_sd and Consul's own metrics
    rules: |
      node_prefix "" { policy = "read" }
      service_prefix "" { policy = "read" }
      agent_prefix "" { policy = "read" }
"""

RETURN = r"""
policy:
  description: The policy as the options describe it.
  returned: when O(state=present)
  type: dict
  sample: {name: prometheus, description: consul_sd, rules: 'node_prefix "" { policy = "read" }'}
"""

from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulModule, consul_module


def _normalise_rules(rules):
    return "\n".join(line.strip() for line in (rules or "").strip().splitlines() if line.strip())


class ConsulACLPolicy(ConsulModule):
    def read(self):
        listing = self.client.get("list ACL policies (needs acl:read)", "/v1/acl/policies")
        match = next((p for p in listing if p["Name"] == self.params["name"]), None)
        if match is None:
            return None
        policy = self.client.get("read ACL policy %r (needs acl:read)" % self.params["name"], "/v1/acl/policy/" + match["ID"])
        self.policy_id = policy["ID"]
        return dict(name=policy["Name"], description=policy.get("Description") or "",
                    rules=_normalise_rules(policy.get("Rules")))

    def wanted(self):
        return dict(name=self.params["name"], description=self.params["description"],
                    rules=_normalise_rules(self.params["rules"]))

    def write(self, wanted, current):
        what = "write ACL policy %r (needs acl:write)" % wanted["name"]
        payload = dict(Name=wanted["name"], Description=wanted["description"], Rules=self.params["rules"])
        if current is None:
            self.client.put(what, "/v1/acl/policy", payload)
        else:
            self.client.put(what, "/v1/acl/policy/" + self.policy_id, dict(payload, ID=self.policy_id))

    def delete(self, current):
        self.client.delete("delete ACL policy %r (needs acl:write)" % current["name"], "/v1/acl/policy/" + self.policy_id)

    def result_fields(self, after):
        return dict(policy=after) if after else {}


def main():
    module = consul_module(dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        rules=dict(type="str", default=""),
    ))
    ConsulACLPolicy(module).run()


if __name__ == "__main__":
    main()
