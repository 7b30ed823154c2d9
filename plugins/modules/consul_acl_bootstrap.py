#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_acl_bootstrap
short_description: Bootstrap Consul's ACL system once and return the management token
version_added: 0.1.0
description:
  - Calls Consul's ACL bootstrap API. The first call returns the initial management token; Consul
    refuses every later call, which the module reports as RV(already_bootstrapped) without failing.
  - Store the returned token safely (the collection's consul role writes it to a 0600 file on the
    controller) and run the task with C(no_log).
options: {}
attributes:
  check_mode:
    support: partial
    description: Can run in check mode.
    details: Consul offers no read-only way to know whether ACLs were bootstrapped; check mode reports a change.
  diff_mode:
    support: none
    description: Returns no diff.
  idempotent:
    support: full
    description: A second call changes nothing.
    details: It reports RV(already_bootstrapped=true) and no change.
extends_documentation_fragment:
  - masa.monitoring.consul
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Bootstrap ACLs
  masa.monitoring.consul_acl_bootstrap:
    host: "{{ docker_host_address }}"
    ca_cert: /etc/masa/consul/tls/ca.crt
    client_cert: /etc/masa/consul/tls/consul.crt
    client_key: /etc/masa/consul/tls/consul.key
  register: bootstrap
  no_log: true
"""

RETURN = r"""
token:
  description: The management token's secret. Only on the call that bootstrapped.
  returned: on the call that bootstrapped, not in check mode
  type: str
already_bootstrapped:
  description: Whether Consul had been bootstrapped before this call.
  returned: always
  type: bool
"""

from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulClient, ConsulError, consul_module
from ansible_collections.masa.monitoring.plugins.module_utils._module import finish


class Bootstrap:
    def __init__(self, module):
        self.module = module
        self.client = ConsulClient(module.params)

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        if self.module.check_mode:
            return dict(changed=True, already_bootstrapped=False)
        try:
            token = self.client.put("bootstrap ACLs", "/v1/acl/bootstrap")
        except ConsulError as exc:
            # Consul answers 403 once ACLs are bootstrapped ("ACL bootstrap no longer allowed").
            if exc.status == 403:
                return dict(changed=False, already_bootstrapped=True)
            raise
        if not token:
            raise ConsulError("Consul at %s returned no token; are ACLs enabled?" % self.client.address)
        return dict(changed=True, already_bootstrapped=False, token=token["SecretID"])


def main():
    Bootstrap(consul_module(has_state=False)).run()


if __name__ == "__main__":
    main()
