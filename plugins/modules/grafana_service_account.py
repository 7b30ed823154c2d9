#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_service_account
short_description: Manage a Grafana service account and a token for automation
version_added: 0.1.0
description:
  - Creates, updates or removes a Grafana service account through the HTTP API, comparing its role and
    disabled state with what Grafana has.
  - With O(token_name), makes sure the account has a token of that name. Grafana shows a token's key only
    once, when it is created, so the key is returned only then; keep it (the C(grafana) role writes it
    to a 0600 file on the controller) and set O(regenerate_token=true) when it was lost.
  - Managing service accounts needs an organisation Admin, such as the admin user with basic auth.
  - Checked against Grafana 12.1's source and HTTP API.
options:
  name:
    description: The service account's name.
    type: str
    required: true
  role:
    description: The account's organisation role.
    type: str
    default: Viewer
    choices: [Viewer, Editor, Admin, None]
  disabled:
    description: Whether the account is disabled.
    type: bool
    default: false
  token_name:
    description:
      - The name of a token the account should have.
      - Grafana requires token names to be unique in the organisation, across all service accounts.
    type: str
  token_seconds_to_live:
    description: The lifetime of a token created by this module; 0 means it does not expire.
    type: int
    default: 0
  regenerate_token:
    description: Delete the token named O(token_name) when it exists and create it again, to get a new key.
    type: bool
    default: false
  state:
    description: Whether the account should exist. Removing it removes its tokens.
    type: str
    default: present
    choices: [present, absent]
extends_documentation_fragment:
  - masa.monitoring.grafana
  - masa.monitoring.attributes
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: An Editor service account with a token for pushing dashboards
  masa.monitoring.grafana_service_account:
    url: https://monitor:3000
    username: admin
    password: "{{ vault_grafana_admin_password }}"
    ca_cert: /etc/masa/grafana/tls/ca.crt
    name: masa-automation
    role: Editor
    token_name: ansible
  register: automation
  no_log: true

- name: Keep the key, which Grafana never shows again
  ansible.builtin.copy:
    content: "{{ automation.token_key }}"
    dest: "{{ secrets_dir }}/grafana-automation.token"
    mode: "0600"
  when: automation.token_key is defined
  no_log: true
"""

RETURN = r"""
service_account:
  description: The account as Grafana describes it; empty when it is absent.
  returned: always
  type: dict
  sample: {id: 2, name: masa-automation, login: sa-1-masa-automation, role: Editor, isDisabled: false}
token_key:
  description: The key of the token created by this run. Grafana never shows it again.
  returned: when a token was created
  type: str
"""

from ansible_collections.masa.monitoring.plugins.module_utils._grafana import GrafanaClient, GrafanaError, grafana_module
from ansible_collections.masa.monitoring.plugins.module_utils._module import finish, with_diff


# Grafana's 400 answers for names it already holds (pkg/services/serviceaccounts/models.go).
CONFLICTS = {
    "serviceaccounts.ErrAlreadyExists":
        "Grafana already has a service account whose login matches %(name)r (logins ignore case and turn spaces into "
        "dashes). Use that account's exact name, or another name",
    "serviceaccounts.ErrTokenAlreadyExists":
        "another service account in this organisation already has a token named %(token_name)r, and Grafana requires "
        "token names to be unique in an organisation. Choose another token_name",
}


class ServiceAccount:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = GrafanaClient(self.params)

    def wanted(self):
        return dict(name=self.params["name"], role=self.params["role"], disabled=self.params["disabled"])

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        result = dict(changed=False, service_account={})
        try:
            current = self.client.service_account_by_name(self.params["name"])
            tokens = self.token_names(current)
            before = self.shown(current, tokens)
            if self.params["state"] == "absent":
                after = {}
                if current is not None and not self.module.check_mode:
                    self.client.delete_service_account(current["id"])
            else:
                current = self.ensure_account(current)
                tokens = self.ensure_token(current, tokens, result)
                after = self.shown(current, tokens)
                result["service_account"] = current or {}
        except GrafanaError as exc:
            conflict = CONFLICTS.get(exc.body.get("messageId"))
            if conflict:
                raise GrafanaError(conflict % self.params, exc.status, exc.body)
            raise
        result["changed"] = result["changed"] or before != after
        return with_diff(self.module, result, before, after)

    def token_names(self, account):
        if account is None or "id" not in account:
            return {}
        return {token["name"]: token["id"] for token in self.client.service_account_tokens(account["id"])}

    @staticmethod
    def shown(account, tokens):
        if account is None:
            return {}
        return dict(name=account["name"], role=account.get("role"), disabled=bool(account.get("isDisabled")),
                    tokens=sorted(tokens))

    def ensure_account(self, current):
        wanted = self.wanted()
        if current is not None and (current.get("role"), bool(current.get("isDisabled"))) == (wanted["role"], wanted["disabled"]):
            return current
        if self.module.check_mode:
            return dict(current or {}, name=wanted["name"], role=wanted["role"], isDisabled=wanted["disabled"])
        if current is None:
            return self.client.create_service_account(**wanted)
        updated = self.client.update_service_account(current["id"], **wanted)
        return updated.get("serviceaccount") or dict(current, role=wanted["role"], isDisabled=wanted["disabled"])

    def ensure_token(self, account, tokens, result):
        name = self.params["token_name"]
        if not name or (name in tokens and not self.params["regenerate_token"]):
            return tokens
        result["changed"] = True
        if self.module.check_mode:
            return dict(tokens, **{name: None})
        if name in tokens:
            self.client.delete_service_account_token(account["id"], tokens[name])
        created = self.client.create_service_account_token(account["id"], name, self.params["token_seconds_to_live"])
        result["token_key"] = created["key"]
        return dict(tokens, **{name: created["id"]})


def main():
    module = grafana_module(dict(
        name=dict(type="str", required=True),
        role=dict(type="str", default="Viewer", choices=["Viewer", "Editor", "Admin", "None"]),
        disabled=dict(type="bool", default=False),
        token_name=dict(type="str", no_log=False),
        token_seconds_to_live=dict(type="int", default=0, no_log=False),
        regenerate_token=dict(type="bool", default=False, no_log=False),
    ))
    ServiceAccount(module).run()


if __name__ == "__main__":
    main()
