#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_dashboard
short_description: Push a dashboard into a Grafana folder, idempotently, with check mode and diff
version_added: 0.1.0
description:
  - Pushes a dashboard, from a dict or a JSON file, into a folder through Grafana's HTTP API. The
    folder is created when it is missing.
  - Compares with the dashboard Grafana has, after leaving out what Grafana manages itself (C(id),
    C(version), C(iteration) and the C(meta) block), and writes only when the content or the folder
    differs.
  - Grafana's 412 answers are explained in plain words; O(overwrite=true) resolves them.
options:
  dashboard:
    description: The dashboard, as Grafana's JSON model. Exclusive with O(path).
    type: dict
  path:
    description: A file with the dashboard's JSON model. Exclusive with O(dashboard).
    type: path
  uid:
    description:
      - The dashboard's uid. Defaults to the model's C(uid), or else to one made from its title.
      - Required with O(state=absent) when neither O(dashboard) nor O(path) is given.
    type: str
  folder:
    description: The title of the folder the dashboard goes in. Empty means the General folder.
    type: str
    default: ""
  overwrite:
    description:
      - Replace a dashboard of the same title in the folder (412 name-exists), or one changed in Grafana since
        it was read (412 version-mismatch).
    type: bool
    default: false
  commit_message:
    description: The version message Grafana keeps in the dashboard's history.
    type: str
    default: Pushed by masa.monitoring.grafana_dashboard
  state:
    description: Whether the dashboard should exist.
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
- name: Push the oracle fleet dashboard
  masa.monitoring.grafana_dashboard:
    url: https://monitor:3000
    token: "{{ grafana_automation_token }}"
    ca_cert: /etc/masa/grafana/tls/ca.crt
    path: "{{ role_path }}/files/dashboards/oracle-fleet.json"
    folder: Masa

- name: Remove a dashboard
  masa.monitoring.grafana_dashboard:
    url: https://monitor:3000
    token: "{{ grafana_automation_token }}"
    uid: old-dashboard
    state: absent
"""

RETURN = r"""
uid:
  description: The dashboard's uid.
  returned: always
  type: str
url:
  description: The dashboard's path in Grafana.
  returned: when it was written
  type: str
version:
  description: Grafana's version of the dashboard after the write.
  returned: when it was written
  type: int
"""

import json
import re

from ansible_collections.masa.monitoring.plugins.module_utils._grafana import GrafanaClient, GrafanaError, grafana_module

# Fields Grafana manages itself; they never make a dashboard different.
SERVER_MANAGED = ("id", "version", "iteration")


def normalise(dashboard):
    return {key: value for key, value in dashboard.items() if key not in SERVER_MANAGED}


def uid_from_title(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "dashboard"


class Dashboard:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = GrafanaClient(self.params)

    def load(self):
        if self.params["path"]:
            try:
                with open(self.params["path"]) as handle:
                    model = json.load(handle)
            except OSError as exc:
                raise GrafanaError("cannot read %s: %s" % (self.params["path"], exc.strerror))
            except ValueError as exc:
                raise GrafanaError("%s is not valid JSON: %s; nothing was pushed" % (self.params["path"], exc))
        else:
            model = self.params["dashboard"]
        if model is None:
            return None
        if isinstance(model, dict) and isinstance(model.get("dashboard"), dict):
            # An export that wraps the model as {"dashboard": {...}, "meta": {...}}.
            model = model["dashboard"]
        if not isinstance(model, dict):
            raise GrafanaError("the dashboard must be a JSON object (Grafana's dashboard model)")
        if not str(model.get("title") or "").strip():
            raise GrafanaError("the dashboard has no title; Grafana requires one. Nothing was pushed")
        model = dict(model)
        model["uid"] = self.params["uid"] or model.get("uid") or uid_from_title(model["title"])
        return model

    def run(self):
        result = dict(changed=False)
        try:
            model = self.load()
            uid = model["uid"] if model else self.params["uid"]
            if not uid:
                raise GrafanaError("give uid, dashboard or path to say which dashboard to remove")
            result["uid"] = uid
            current = self.client.dashboard(uid)
            if self.params["state"] == "absent":
                if current is not None:
                    result["changed"] = True
                    if not self.module.check_mode:
                        self.client.delete_dashboard(uid)
                if self.module._diff:
                    result["diff"] = dict(before=self.shown(current), after={})
            else:
                self.present(model, current, result)
        except GrafanaError as exc:
            self.module.fail_json(msg=str(exc), status=exc.status)
        self.module.exit_json(**result)

    def shown(self, current):
        if current is None:
            return {}
        return dict(folder=current.get("meta", {}).get("folderTitle") or "", dashboard=normalise(current["dashboard"]))

    def present(self, model, current, result):
        folder_title = self.params["folder"]
        before = self.shown(current)
        after = dict(folder=folder_title, dashboard=normalise(model))
        if before.get("folder") == "General":
            before["folder"] = ""
        if before == after:
            return
        result["changed"] = True
        if self.module._diff:
            result["diff"] = dict(before=before, after=after)
        if self.module.check_mode:
            return
        folder_uid = None
        if folder_title:
            folder = self.client.folder_by_title(folder_title) or self.client.create_folder(folder_title)
            folder_uid = folder["uid"]
        payload = dict(model)
        payload.pop("id", None)
        if current is not None:
            payload["version"] = current["dashboard"].get("version")
        try:
            saved = self.client.save_dashboard(payload, folder_uid, self.params["overwrite"], self.params["commit_message"])
        except GrafanaError as exc:
            raise self.explain(exc, model, folder_title)
        result.update(url=saved.get("url"), version=saved.get("version"))

    def explain(self, exc, model, folder_title):
        if exc.status != 412:
            return exc
        status = exc.body.get("status")
        where = "folder %r" % folder_title if folder_title else "the General folder"
        if status == "name-exists":
            return GrafanaError(
                "another dashboard titled %r already exists in %s, with a different uid than %r. Nothing was "
                "changed. Rename yours, give it that dashboard's uid, or set overwrite=true to replace it"
                % (model["title"], where, model["uid"]), 412, exc.body)
        if status == "version-mismatch":
            return GrafanaError(
                "dashboard %r was changed in Grafana since it was read (version mismatch). Nothing was changed. "
                "Run again to compare with the new version, or set overwrite=true to replace it with yours"
                % model["uid"], 412, exc.body)
        return GrafanaError("Grafana refused dashboard %r (412 %s): %s" % (model["uid"], status, exc.body.get("message")),
                            412, exc.body)


def main():
    module = grafana_module(
        dict(
            dashboard=dict(type="dict"),
            path=dict(type="path"),
            uid=dict(type="str"),
            folder=dict(type="str", default=""),
            overwrite=dict(type="bool", default=False),
            commit_message=dict(type="str", default="Pushed by masa.monitoring.grafana_dashboard"),
        ),
        mutually_exclusive=[("dashboard", "path")],
        required_if=[("state", "present", ("dashboard", "path"), True)],
    )
    Dashboard(module).run()


if __name__ == "__main__":
    main()
