# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Grafana HTTP API client for the grafana_* modules.

Not part of the collection's public API.
"""

from __future__ import annotations

import base64
import json

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url
from ansible_collections.masa.monitoring.plugins.module_utils._module import ModuleFailure

# Connection options every grafana_* module shares; documented in the masa.monitoring.grafana fragment.
GRAFANA_COMMON_ARGS = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["GRAFANA_URL"])),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_TOKEN"])),
    username=dict(type="str", fallback=(env_fallback, ["GRAFANA_USER"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_PASSWORD"])),
    org_id=dict(type="int"),
    ca_cert=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="float", default=10),
)
GRAFANA_MUTUALLY_EXCLUSIVE = [("token", "username")]
GRAFANA_REQUIRED_TOGETHER = [("username", "password")]


def grafana_module(argument_spec, mutually_exclusive=(), **kwargs):
    """An AnsibleModule with the shared connection options, C(state) and check mode."""
    spec = dict(GRAFANA_COMMON_ARGS, state=dict(type="str", default="present", choices=["present", "absent"]))
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, supports_check_mode=True,
                         mutually_exclusive=GRAFANA_MUTUALLY_EXCLUSIVE + list(mutually_exclusive),
                         required_together=GRAFANA_REQUIRED_TOGETHER, **kwargs)


class GrafanaError(ModuleFailure):
    """A failure to do something with Grafana; ``status`` and ``body`` (its JSON answer) when it answered."""

    def __init__(self, message, status=None, body=None):
        super().__init__(message, status, body or {})


class GrafanaClient:
    def __init__(self, params):
        self.params = params
        self.base = params["url"].rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if params["token"]:
            self.headers["Authorization"] = "Bearer %s" % params["token"]
        elif params["username"]:
            pair = ("%s:%s" % (params["username"], params["password"])).encode()
            self.headers["Authorization"] = "Basic %s" % base64.b64encode(pair).decode()
        if params["org_id"]:
            self.headers["X-Grafana-Org-Id"] = str(params["org_id"])

    def request(self, method, path, payload=None, allow_404=False):
        url = self.base + path
        try:
            response = open_url(
                url, method=method, headers=self.headers,
                data=json.dumps(payload) if payload is not None else None,
                timeout=self.params["timeout"], validate_certs=self.params["validate_certs"],
                ca_path=self.params["ca_cert"], client_cert=self.params["client_cert"],
                client_key=self.params["client_key"],
            )
            raw = response.read()
            return json.loads(raw) if raw else {}
        except HTTPError as exc:
            body = _json_body(exc)
            if exc.code == 404 and allow_404:
                return None
            message = body.get("message") or exc.reason
            if exc.code == 401:
                raise GrafanaError("Grafana at %s refused the credentials (401 %s): check token, or username "
                                   "and password" % (self.base, message), exc.code, body)
            if exc.code == 403:
                raise GrafanaError("Grafana at %s forbids %s %s (403 %s): the token or user needs the Editor "
                                   "role on the folder, or Admin" % (self.base, method, path, message), exc.code, body)
            raise GrafanaError("Grafana at %s answered %s to %s %s: %s" % (self.base, exc.code, method, path, message),
                               exc.code, body)
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GrafanaError("Grafana at %s is unreachable: %s" % (self.base, reason))

    # folders ----------------------------------------------------------------------
    def folders_by_title(self, title):
        """Top-level folders with this title: Grafana 11.3 and later allow several."""
        return [folder for folder in self.request("GET", "/api/folders") or [] if folder.get("title") == title]

    def folder(self, uid):
        return self.request("GET", "/api/folders/%s" % quote(uid, safe=""), allow_404=True)

    def create_folder(self, title, uid=None):
        payload = {"title": title}
        if uid:
            payload["uid"] = uid
        return self.request("POST", "/api/folders", payload)

    # dashboards -------------------------------------------------------------------
    def dashboard(self, uid):
        return self.request("GET", "/api/dashboards/uid/%s" % quote(uid, safe=""), allow_404=True)

    def save_dashboard(self, dashboard, folder_uid, overwrite, message):
        payload = {"dashboard": dashboard, "overwrite": overwrite, "message": message}
        if folder_uid:
            payload["folderUid"] = folder_uid
        return self.request("POST", "/api/dashboards/db", payload)

    def delete_dashboard(self, uid):
        return self.request("DELETE", "/api/dashboards/uid/%s" % quote(uid, safe=""))

    # service accounts -------------------------------------------------------------
    def service_account_by_name(self, name):
        found = self.request("GET", "/api/serviceaccounts/search?perpage=1000&query=%s" % quote(name, safe=""))
        for account in found.get("serviceAccounts") or []:
            if account.get("name") == name:
                return account
        return None

    def create_service_account(self, name, role, disabled):
        return self.request("POST", "/api/serviceaccounts", {"name": name, "role": role, "isDisabled": disabled})

    def update_service_account(self, account_id, name, role, disabled):
        return self.request("PATCH", "/api/serviceaccounts/%d" % account_id,
                            {"name": name, "role": role, "isDisabled": disabled})

    def delete_service_account(self, account_id):
        return self.request("DELETE", "/api/serviceaccounts/%d" % account_id)

    def service_account_tokens(self, account_id):
        return self.request("GET", "/api/serviceaccounts/%d/tokens" % account_id) or []

    def create_service_account_token(self, account_id, name, seconds_to_live):
        payload = {"name": name}
        if seconds_to_live:
            payload["secondsToLive"] = seconds_to_live
        return self.request("POST", "/api/serviceaccounts/%d/tokens" % account_id, payload)

    def delete_service_account_token(self, account_id, token_id):
        return self.request("DELETE", "/api/serviceaccounts/%d/tokens/%d" % (account_id, token_id))


def _json_body(exc):
    try:
        return json.loads(exc.read() or b"{}")
    except (ValueError, AttributeError):
        return {}
