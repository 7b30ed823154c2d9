# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every consul_* module; set them once with
    # module_defaults: group/masa.monitoring.consul.
    DOCUMENTATION = r"""
options:
  host:
    description: The Consul agent's host name or address.
    type: str
    default: localhost
  port:
    description: The agent's HTTP(S) API port.
    type: int
    default: 8501
  scheme:
    description: C(https) for an agent with TLS (the collection's default), C(http) otherwise.
    type: str
    default: https
    choices: [http, https]
  token:
    description:
      - The ACL token. Falls back to the E(CONSUL_HTTP_TOKEN) environment variable.
    type: str
  ca_cert:
    description: The CA that signed the agent's certificate. Without it the system store is used.
    type: path
    aliases: [ca_path]
  client_cert:
    description: A client certificate, for agents with C(verify_incoming).
    type: path
  client_key:
    description: The key of O(client_cert).
    type: path
  validate_certs:
    description: Verify the agent's certificate. Turn off only for throwaway test agents.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each API call.
    type: float
    default: 10
"""
