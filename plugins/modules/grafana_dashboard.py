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
  - Refuses, before sending anything, what Grafana would refuse with a 400, a uid longer than 40
    characters or outside C([A-Za-z0-9_-]), an empty title, a commit message over 500 characters,
    and says how to fix it.
  - Returns what Grafana saved (uid, url, version, folder), read from Grafana's answers.
  - Checked against Grafana 12.1's source and HTTP API, and against the behaviour of Grafana 11.2
    and earlier where it differs (titles unique within a folder, the 412 C(name-exists) answer).
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
    description:
      - The title of a top-level folder the dashboard goes in; it is created when missing. Without O(folder)
        or O(folder_uid), or with an empty title, the dashboard goes in the General folder.
      - Since Grafana 11.3 folder titles need not be unique; when several top-level folders have this title,
        the module fails and asks for O(folder_uid).
    type: str
  folder_uid:
    description:
      - The uid of an existing folder, at any depth of nested folders. Exclusive with O(folder).
    type: str
  overwrite:
    description:
      - Save even when the dashboard was changed in Grafana since it was read (412 C(version-mismatch)).
      - On Grafana 11.2 and earlier, also save over a dashboard of the same title in the folder (412
        C(name-exists)); Grafana then keeps that dashboard's uid, which RV(uid) reports. Since Grafana 11.3 titles
        need not be unique, and a dashboard with another uid and the same title is created beside it.
    type: bool
    default: false
  commit_message:
    description: The version message Grafana keeps in the dashboard's history.
    type: str
    default: Pushed by masa.monitoring.grafana_dashboard
extends_documentation_fragment:
  - masa.monitoring.grafana
  - masa.monitoring.attributes
  - masa.monitoring.attributes.state
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
  description: The dashboard's uid, as Grafana saved it (the requested one in check mode).
  returned: always
  type: str
url:
  description: The dashboard's path in Grafana.
  returned: when the dashboard exists in Grafana
  type: str
version:
  description: Grafana's version of the dashboard.
  returned: when the dashboard exists in Grafana
  type: int
folder_uid:
  description: The uid of the dashboard's folder in Grafana; empty for the General folder.
  returned: when the dashboard exists in Grafana
  type: str
"""

import json
import re

from ansible_collections.masa.monitoring.plugins.module_utils._grafana import GrafanaClient, GrafanaError, grafana_module
from ansible_collections.masa.monitoring.plugins.module_utils._module import finish, with_diff

# Fields Grafana manages itself; they never make a dashboard different.
SERVER_MANAGED = ("id", "version", "iteration")
# What Grafana accepts (pkg/util/shortid_generator.go, pkg/services/dashboards/errors.go).
VALID_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500


def normalise(dashboard):
    return {key: value for key, value in dashboard.items() if key not in SERVER_MANAGED}


def uid_from_title(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "dashboard"


def saved_fields(uid, answer):
    """uid, url, version and folder as Grafana reports them, from a save answer or a dashboard's meta."""
    return dict(uid=uid, url=answer.get("url"), version=answer.get("version"), folder_uid=answer.get("folderUid") or "")


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
        title = str(model.get("title") or "").strip()
        if not title:
            raise GrafanaError("the dashboard has no title; Grafana requires one. Nothing was pushed")
        if len(title) > MAX_TITLE_LENGTH:
            raise GrafanaError("the dashboard's title has %d characters; Grafana accepts at most %d. Nothing was pushed"
                               % (len(title), MAX_TITLE_LENGTH))
        # Grafana stores the title trimmed; comparing the trimmed title keeps a second run unchanged.
        model = dict(model, title=title)
        model["uid"] = self.params["uid"] or model.get("uid") or uid_from_title(title)
        return model

    def check_request(self, uid):
        if not VALID_UID.match(uid):
            raise GrafanaError("uid %r is not one Grafana accepts: at most 40 characters, each a letter, a digit, '-' "
                               "or '_'. Set uid to such a value. Nothing was pushed" % uid)
        if len(self.params["commit_message"]) > MAX_MESSAGE_LENGTH:
            raise GrafanaError("commit_message has %d characters; Grafana accepts at most %d. Nothing was pushed"
                               % (len(self.params["commit_message"]), MAX_MESSAGE_LENGTH))

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        result = dict(changed=False)
        model = self.load()
        uid = model["uid"] if model else self.params["uid"]
        if not uid:
            raise GrafanaError("give uid, dashboard or path to say which dashboard to remove")
        result["uid"] = uid
        if model:
            self.check_request(uid)
        current = self.client.dashboard(uid)
        if current is not None:
            result.update(saved_fields(current["dashboard"]["uid"], current["meta"]))
        if self.params["state"] == "absent":
            if current is not None:
                result["changed"] = True
                if not self.module.check_mode:
                    self.client.delete_dashboard(uid)
            return with_diff(self.module, result, self.shown(current), {})
        return self.present(model, current, result)

    def shown(self, current):
        if current is None:
            return {}
        return dict(folder_uid=current["meta"].get("folderUid") or "", dashboard=normalise(current["dashboard"]))

    def wanted_folder_uid(self):
        """The uid of the folder the dashboard belongs in; None when a titled folder does not exist yet."""
        if self.params["folder_uid"]:
            if self.client.folder(self.params["folder_uid"]) is None:
                raise GrafanaError("folder_uid %r: Grafana has no such folder. Create it first, or give its title "
                                   "as folder. Nothing was pushed" % self.params["folder_uid"])
            return self.params["folder_uid"]
        title = self.params["folder"]
        if not title:
            return ""
        found = self.client.folders_by_title(title)
        if len(found) > 1:
            raise GrafanaError("%d top-level folders are titled %r (uids %s); Grafana 11.3 and later allow that. "
                               "Set folder_uid to the one you mean. Nothing was pushed"
                               % (len(found), title, ", ".join(sorted(f["uid"] for f in found))))
        return found[0]["uid"] if found else None

    def present(self, model, current, result):
        folder_uid = self.wanted_folder_uid()
        before = self.shown(current)
        after = dict(folder_uid=folder_uid if folder_uid is not None else "(new folder %s)" % self.params["folder"],
                     dashboard=normalise(model))
        if before == after:
            return result
        result["changed"] = True
        with_diff(self.module, result, before, after)
        if self.module.check_mode:
            return result
        if folder_uid is None:
            folder_uid = self.client.create_folder(self.params["folder"])["uid"]
        payload = dict(model)
        payload.pop("id", None)
        if current is not None:
            payload["version"] = current["dashboard"].get("version")
        try:
            saved = self.client.save_dashboard(payload, folder_uid, self.params["overwrite"], self.params["commit_message"])
        except GrafanaError as exc:
            raise self.explain(exc, model)
        result.update(saved_fields(saved["uid"], saved))
        if saved["uid"] != model["uid"]:
            self.module.warn("Grafana saved the dashboard under uid %r, not %r: it overwrote a dashboard of the same "
                             "title (Grafana 11.2 and earlier). Set uid to %r to keep them in step"
                             % (saved["uid"], model["uid"], saved["uid"]))
        return result

    def explain(self, exc, model):
        if exc.status != 412:
            return exc
        status = exc.body.get("status")
        folder = self.params["folder_uid"] or self.params["folder"]
        where = "folder %r" % folder if folder else "the General folder"
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
            folder=dict(type="str"),
            folder_uid=dict(type="str"),
            overwrite=dict(type="bool", default=False),
            commit_message=dict(type="str", default="Pushed by masa.monitoring.grafana_dashboard"),
        ),
        mutually_exclusive=[("dashboard", "path"), ("folder", "folder_uid")],
        required_if=[("state", "present", ("dashboard", "path"), True)],
    )
    Dashboard(module).run()


if __name__ == "__main__":
    main()
