#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_service
short_description: Register a service with health checks on a Consul agent, or deregister it
version_added: 0.1.0
description:
  - Registers a service, with any number of health checks, on the agent at O(host), or removes it.
  - Compares with the agent's current registration and writes only on a real change.
  - Consul before 1.10 does not return check definitions, so the module keeps a fingerprint of the
    checks in the service meta key C(masa_checks); a change to any check field is still detected.
options:
  id:
    description: The service id, unique on the agent. Defaults to O(name).
    type: str
  name:
    description: The service name.
    type: str
    required: true
  service_address:
    description:
      - The address the service is reached on. Defaults to the node's address.
      - Named apart from O(host), the agent's address.
    type: str
  service_port:
    description:
      - The service's port. Named apart from O(port), the agent's API port.
    type: int
  tags:
    description: Tags. Prometheus selects services by tag.
    type: list
    elements: str
    default: []
  meta:
    description: Service meta, string values.
    type: dict
    default: {}
  checks:
    description:
      - Health checks. Give exactly one of O(checks[].http), O(checks[].tcp) or O(checks[].ttl) per check.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The check's name. Defaults to one made from the service and the check number.
        type: str
      http:
        description: An C(http://) or C(https://) URL; 2xx is passing, 429 warning, anything else critical.
        type: str
      tcp:
        description: A C(host:port) that must accept connections.
        type: str
      ttl:
        description: A TTL; the service must report in within it.
        type: str
      interval:
        description: How often an http or tcp check runs. Required for them.
        type: str
      timeout:
        description: How long one http or tcp check may take.
        type: str
      tls_skip_verify:
        description: Do not verify the certificate of an https check.
        type: bool
        default: false
  deregister_critical_service_after:
    description:
      - Remove the service when any of its checks has been critical this long. Consul's minimum is
        one minute, and its reaper runs every 30 seconds.
    type: str
extends_documentation_fragment:
  - masa.monitoring.consul
  - masa.monitoring.attributes
  - masa.monitoring.attributes.state
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Register an oracle with an https check that deregisters it when it stays critical
  masa.monitoring.consul_service:
    host: 172.30.0.11
    ca_cert: /etc/masa/consul/tls/ca.crt
    client_cert: /etc/masa/consul/tls/consul.crt
    client_key: /etc/masa/consul/tls/consul.key
    token: "{{ oracle_service_token }}"
    name: masa-oracle
    id: masa-oracle-node1
    service_port: 9200
    tags: [prometheus]
    meta: {version: 1.4.0}
    checks:
      - http: https://172.30.0.11:9200/health
        interval: 2s
        timeout: 1s
      - tcp: 172.30.0.11:9200
        interval: 10s
    deregister_critical_service_after: 1m

- name: Deregister it
  masa.monitoring.consul_service:
    name: masa-oracle
    id: masa-oracle-node1
    state: absent
"""

RETURN = r"""
service:
  description: The registration as the options describe it; absent after O(state=absent).
  returned: success
  type: dict
  sample: {id: masa-oracle-node1, name: masa-oracle, port: 9200, tags: [prometheus]}
"""

import hashlib
import json

from ansible_collections.masa.monitoring.plugins.module_utils._consul import (
    ConsulError,
    ConsulModule,
    consul_module,
    duration_seconds,
    go_duration,
)

FINGERPRINT_KEY = "masa_checks"
CHECK_SPEC = dict(
    name=dict(type="str"),
    http=dict(type="str"),
    tcp=dict(type="str"),
    ttl=dict(type="str"),
    interval=dict(type="str"),
    timeout=dict(type="str"),
    tls_skip_verify=dict(type="bool", default=False),
)


class ConsulService(ConsulModule):
    @property
    def service_id(self):
        return self.params["id"] or self.params["name"]

    def read(self):
        services = self.client.get("read services (needs service:read)", "/v1/agent/services")
        service = services.get(self.service_id)
        if service is None:
            return None
        checks = self.client.get("read checks (needs node:read)", "/v1/agent/checks")
        own = sorted((c for c in checks.values() if c.get("ServiceID") == self.service_id), key=lambda c: c["CheckID"])
        meta = dict(service.get("Meta") or {})
        return dict(
            id=service["ID"],
            name=service["Service"],
            address=service.get("Address") or None,
            port=service.get("Port") or None,
            tags=sorted(service.get("Tags") or []),
            meta={k: v for k, v in meta.items() if k != FINGERPRINT_KEY},
            checks=[dict(name=c["Name"], type=c["Type"]) for c in own],
            fingerprint=meta.get(FINGERPRINT_KEY),
        )

    def check_definitions(self):
        definitions = []
        deregister = go_duration(self.params["deregister_critical_service_after"])
        for number, check in enumerate(self.params["checks"], start=1):
            label = check["name"] or "%s check %d" % (self.params["name"], number)
            definition = dict(Name=label)
            if check["ttl"]:
                if check["interval"] or check["timeout"]:
                    raise ConsulError("check %r: a ttl check takes no interval or timeout" % label)
                definition["TTL"] = go_duration(check["ttl"])
            else:
                if not check["interval"]:
                    raise ConsulError("check %r: an http or tcp check needs an interval, such as 10s" % label)
                if check["http"]:
                    if not check["http"].startswith(("http://", "https://")):
                        raise ConsulError(
                            "check %r: http must be a URL starting with http:// or https://, got %r"
                            % (label, check["http"])
                        )
                    definition["HTTP"] = check["http"]
                    definition["TLSSkipVerify"] = check["tls_skip_verify"]
                else:
                    host, sep, port = check["tcp"].rpartition(":")
                    if not sep or not host or not port.isdigit():
                        raise ConsulError("check %r: tcp must be host:port, got %r" % (label, check["tcp"]))
                    definition["TCP"] = check["tcp"]
                definition["Interval"] = go_duration(check["interval"])
                if check["timeout"]:
                    if duration_seconds(check["timeout"]) > duration_seconds(check["interval"]):
                        raise ConsulError("check %r: the timeout is longer than the interval" % label)
                    definition["Timeout"] = go_duration(check["timeout"])
            if deregister:
                if duration_seconds(deregister) < 60:
                    raise ConsulError(
                        "deregister_critical_service_after must be at least 1m (Consul's minimum), got %s"
                        % self.params["deregister_critical_service_after"]
                    )
                definition["DeregisterCriticalServiceAfter"] = deregister
            definitions.append(definition)
        return definitions

    def wanted(self):
        definitions = self.check_definitions()
        canonical = json.dumps(definitions, sort_keys=True).encode()
        return dict(
            id=self.service_id,
            name=self.params["name"],
            address=self.params["service_address"] or None,
            port=self.params["service_port"],
            tags=sorted(set(self.params["tags"])),
            meta={k: str(v) for k, v in self.params["meta"].items()},
            checks=[dict(name=d["Name"], type=_check_type(d)) for d in definitions],
            fingerprint=hashlib.sha256(canonical).hexdigest()[:16] if definitions else None,
        )

    def write(self, wanted, current):
        meta = dict(wanted["meta"])
        if wanted["fingerprint"]:
            meta[FINGERPRINT_KEY] = wanted["fingerprint"]
        payload = dict(ID=wanted["id"], Name=wanted["name"], Tags=wanted["tags"], Meta=meta,
                       Checks=self.check_definitions())
        if wanted["address"]:
            payload["Address"] = wanted["address"]
        if wanted["port"] is not None:
            payload["Port"] = wanted["port"]
        self.client.put(
            "register service %r (needs service:write on it)" % wanted["name"],
            "/v1/agent/service/register", payload, params=[("replace-existing-checks", "true")],
        )

    def delete(self, current):
        self.client.put("deregister service %r (needs service:write on it)" % current["name"],
                        "/v1/agent/service/deregister/" + current["id"])

    def result_fields(self, after):
        return dict(service=after) if after else {}


def _check_type(definition):
    if "TTL" in definition:
        return "ttl"
    return "http" if "HTTP" in definition else "tcp"


def main():
    module = consul_module(dict(
        id=dict(type="str"),
        name=dict(type="str", required=True),
        service_address=dict(type="str"),
        service_port=dict(type="int"),
        tags=dict(type="list", elements="str", default=[]),
        meta=dict(type="dict", default={}),
        checks=dict(
            type="list", elements="dict", default=[], options=CHECK_SPEC,
            mutually_exclusive=[("http", "tcp", "ttl")], required_one_of=[("http", "tcp", "ttl")],
        ),
        deregister_critical_service_after=dict(type="str"),
    ))
    ConsulService(module).run()


if __name__ == "__main__":
    main()
