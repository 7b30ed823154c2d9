"""TEST DOUBLE of Grafana's HTTP API, for tests only; the playbooks never deploy it.

No Grafana build can be installed on the machines this project is built on, so the modules' tests
and molecule talk to this stand-in. It behaves as Grafana 12.1 does for what the collection uses,
as read from Grafana's source and HTTP API documentation; tests/unit/test_grafana_double.py cites
the source of each behaviour. ``version="11.2.0"`` imitates the last release before 11.3, where
dashboard titles within a folder, and folder titles, had to be unique.

- GET  /api/health, without credentials
- GET  /api/folders[?parentUid=], GET /api/folders/:uid, POST /api/folders (nested folders through parentUid)
- GET  /api/dashboards/uid/:uid, DELETE /api/dashboards/uid/:uid
- POST /api/dashboards/db: validation of title, uid and message, version and overwrite handling
- GET  /api/datasources, POST /api/datasources
- GET  /api/serviceaccounts/search?query=, POST /api/serviceaccounts, GET, PATCH and DELETE /api/serviceaccounts/:id
- GET  and POST /api/serviceaccounts/:id/tokens, DELETE /api/serviceaccounts/:id/tokens/:tokenId;
  a token's key is shown once, and authenticates with its service account's role
- 401 without valid credentials; 403 with the permission the route needs

    python tests/grafana_double.py --port 3000 --token admin-token --viewer-token viewer-token \
        --admin-password not-the-default [--grafana-version 12.1.0]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple

VALID_UID = re.compile(r"^[a-zA-Z0-9\-_]*$")
MAX_UID_LENGTH = 40
MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500
ROLE_RANK = {"None": 0, "Viewer": 1, "Editor": 2, "Admin": 3}
# The permission each write needs, as Grafana's 403 names it; reads need the Viewer role.
WRITE_PERMISSIONS = {"/api/folders": ("Editor", "folders:create"),
                     "/api/dashboards/db": ("Editor", "any of dashboards:create, dashboards:write"),
                     "/api/dashboards/uid/": ("Editor", "dashboards:delete"),
                     "/api/datasources": ("Admin", "datasources:create")}
SERVICE_ACCOUNT_PERMISSIONS = {"GET": "serviceaccounts:read", "POST": "serviceaccounts:create",
                               "PATCH": "serviceaccounts:write", "DELETE": "serviceaccounts:delete"}


def slugify(title: str) -> str:
    """Grafana's slug of a title: lower case, runs of other characters as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def release(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def access_denied(permission: str) -> Tuple[int, Any]:
    return 403, {"title": "Access denied", "accessErrorId": "ACE0000000001",
                 "message": "You'll need additional permissions to perform this action. "
                            f"Permissions needed: {permission}"}


def service_account_error(status: int, message_id: str, message: str) -> Tuple[int, Any]:
    return status, {"message": message, "messageId": message_id, "statusCode": status}


class GrafanaDouble:
    """The state behind the API: folders, dashboards, datasources and service accounts, guarded by one lock."""

    def __init__(self, token: str = "admin-token", viewer_token: str = "viewer-token",
                 basic_auth: Tuple[str, str] = ("admin", "not-the-default"), version: str = "12.1.0"):
        self.version = version
        self.unique_titles = release(version) < (11, 3)
        self.tokens = {token: "Admin", viewer_token: "Viewer"}
        self.basic_auth = basic_auth
        self.folders: Dict[str, Dict[str, Any]] = {}
        self.dashboards: Dict[str, Dict[str, Any]] = {}
        self.datasources: Dict[str, Dict[str, Any]] = {}
        self.service_accounts: Dict[int, Dict[str, Any]] = {}
        self.sa_tokens: Dict[int, Dict[str, Any]] = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.writes = 0

    # auth ----------------------------------------------------------------------------
    def role(self, header: Optional[str]) -> Optional[str]:
        """The caller's role; "" for credentials that are present but wrong, None for none at all."""
        if not header:
            return None
        kind, _sep, value = header.partition(" ")
        if kind == "Bearer":
            return self.tokens.get(value, "")
        if kind == "Basic":
            user, _sep, password = base64.b64decode(value).decode().partition(":")
            return "Admin" if (user, password) == self.basic_auth else ""
        return ""

    # shared validation ---------------------------------------------------------------
    @staticmethod
    def uid_error(uid: str) -> Optional[Tuple[int, Any]]:
        if not VALID_UID.match(uid):
            return 400, {"message": "uid contains illegal characters"}
        if len(uid) > MAX_UID_LENGTH:
            return 400, {"message": f"uid too long, max {MAX_UID_LENGTH} characters"}
        return None

    def new_uid(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):08d}"

    # folders -------------------------------------------------------------------------
    def list_folders(self, parent_uid: str):
        return 200, [{"id": f["id"], "uid": f["uid"], "title": f["title"], **({"parentUid": f["parentUid"]}
                      if f["parentUid"] else {})}
                     for f in self.folders.values() if f["parentUid"] == parent_uid]

    def get_folder(self, uid):
        folder = self.folders.get(uid)
        if folder is None:
            return 404, {"status": "not-found", "message": "folder not found"}
        return 200, self.folder_answer(folder)

    @staticmethod
    def folder_answer(folder):
        return {key: value for key, value in folder.items() if value != "" or key != "parentUid"}

    def create_folder(self, body):
        title = str(body.get("title") or "").strip()
        if not title:
            return 400, {"message": "folder title cannot be empty"}
        uid = str(body.get("uid") or "").strip() or self.new_uid("f")
        refused = self.uid_error(uid)
        if refused:
            return refused
        if uid in self.folders or uid in self.dashboards:
            return 409, {"message": "a folder/dashboard with the same uid already exists"}
        parent_uid = str(body.get("parentUid") or "")
        if parent_uid and parent_uid not in self.folders:
            return 400, {"message": "folder not found"}
        if self.unique_titles and any(f["title"] == title and f["parentUid"] == parent_uid
                                      for f in self.folders.values()):
            return 409, {"message": "a folder or dashboard in the general folder with the same name already exists"}
        folder = {"id": next(self.ids), "uid": uid, "orgId": 1, "title": title, "url": f"/dashboards/f/{uid}/{slugify(title)}",
                  "hasAcl": False, "canSave": True, "canEdit": True, "canAdmin": True, "canDelete": True,
                  "version": 1, "parentUid": parent_uid}
        self.folders[uid] = folder
        return 200, self.folder_answer(folder)

    # dashboards ----------------------------------------------------------------------
    def get_dashboard(self, uid):
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        model = json.loads(json.dumps(stored["dashboard"]))
        folder = self.folders.get(stored["folderUid"])
        meta = {"type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canDelete": True, "canStar": True,
                "slug": slugify(model["title"]), "url": f"/d/{uid}/{slugify(model['title'])}",
                "version": model["version"], "provisioned": False,
                "folderId": folder["id"] if folder else 0, "folderUid": stored["folderUid"],
                "folderTitle": folder["title"] if folder else "General", "folderUrl": folder["url"] if folder else ""}
        return 200, {"dashboard": model, "meta": meta}

    def save_dashboard(self, body):
        model = body.get("dashboard") if isinstance(body, dict) else None
        if not isinstance(model, dict):
            return 400, {"message": "bad request data"}
        title = str(model.get("title") or "").strip()
        if not title:
            return 400, {"message": "Dashboard title cannot be empty", "status": "empty-name"}
        if len(title) > MAX_TITLE_LENGTH:
            return 400, {"message": "Dashboard title cannot contain more than 5 000 characters",
                         "status": "title-too-long"}
        if len(str(body.get("message") or "")) > MAX_MESSAGE_LENGTH:
            return 400, {"message": f"message too long, max {MAX_MESSAGE_LENGTH} characters"}
        uid = str(model.get("uid") or "").strip()
        refused = self.uid_error(uid)
        if refused:
            return refused
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        overwrite = bool(body.get("overwrite"))
        existing = self.dashboards.get(uid) if uid else None
        if existing is not None and not overwrite and model.get("version", 0) != existing["dashboard"]["version"]:
            return 412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
        if self.unique_titles and existing is None:
            same_slug = [d for u, d in self.dashboards.items()
                         if d["folderUid"] == folder_uid and slugify(d["dashboard"]["title"]) == slugify(title)]
            if same_slug and not overwrite:
                return 412, {"message": "A dashboard with the same name in the folder already exists",
                             "status": "name-exists"}
            if same_slug:
                # Before 11.3, overwrite saved into the dashboard of that name, under its uid.
                existing = same_slug[0]
                uid = existing["dashboard"]["uid"]
        uid = uid or self.new_uid("d")
        stored = dict(model, uid=uid, title=title,
                      id=existing["dashboard"]["id"] if existing else next(self.ids),
                      version=existing["dashboard"]["version"] + 1 if existing else 1)
        self.dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid, "message": body.get("message", "")}
        self.writes += 1
        return 200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}/{slugify(title)}", "status": "success",
                     "version": stored["version"], "slug": slugify(title), "folderUid": folder_uid}

    def delete_dashboard(self, uid):
        stored = self.dashboards.pop(uid, None)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        title = stored["dashboard"]["title"]
        return 200, {"title": title, "message": f"Dashboard {title} deleted", "uid": uid}

    # datasources ---------------------------------------------------------------------
    def create_datasource(self, body):
        name = body.get("name") if isinstance(body, dict) else None
        if not name or not body.get("type"):
            return 400, {"message": "bad request data"}
        if name in self.datasources:
            return 409, {"message": "data source with the same name already exists"}
        source = dict(body, id=next(self.ids), uid=body.get("uid") or self.new_uid("ds"))
        source.pop("secureJsonData", None)
        self.datasources[name] = source
        return 200, {"datasource": source, "id": source["id"], "message": "Datasource added", "name": name}

    # service accounts ----------------------------------------------------------------
    def search_service_accounts(self, query: str):
        wanted = query.lower()
        found = [dict(sa, tokens=sum(1 for t in self.sa_tokens.values() if t["serviceAccountId"] == sa["id"]))
                 for sa in self.service_accounts.values() if wanted in sa["name"].lower() or wanted in sa["login"]]
        return 200, {"totalCount": len(found), "serviceAccounts": sorted(found, key=lambda sa: sa["login"]),
                     "page": 1, "perPage": 1000}

    def create_service_account(self, body, caller_role: str):
        name = str(body.get("name") or "").strip() if isinstance(body, dict) else ""
        if not name:
            return 400, {"message": "Bad request data"}
        role = body.get("role", "Viewer")
        if role not in ROLE_RANK:
            return 400, {"message": "invalid role specified"}
        if ROLE_RANK[role] > ROLE_RANK[caller_role]:
            return 403, {"message": "cannot assign a role higher than user's role"}
        login = "sa-1-" + name.lower().replace(" ", "-")
        if any(sa["login"] == login for sa in self.service_accounts.values()):
            return service_account_error(400, "serviceaccounts.ErrAlreadyExists", "service account already exists")
        account_id = next(self.ids)
        self.service_accounts[account_id] = {"id": account_id, "uid": self.new_uid("sa"), "orgId": 1, "name": name,
                                             "login": login, "role": role, "isDisabled": bool(body.get("isDisabled")),
                                             "avatarUrl": "/avatar/test-double"}
        return 201, dict(self.service_accounts[account_id], tokens=0)

    def service_account(self, method: str, account_id: int, rest: str, body: Any) -> Tuple[int, Any]:
        account = self.service_accounts.get(account_id)
        if account is None:
            return service_account_error(404, "serviceaccounts.ErrNotFound", "service account not found")
        if rest == "" and method == "GET":
            return 200, dict(account)
        if rest == "" and method == "PATCH":
            account.update({key: body[key] for key in ("name", "role", "isDisabled") if key in body})
            return 200, {"id": account_id, "name": account["name"], "serviceaccount": dict(account),
                         "message": "Service account updated"}
        if rest == "" and method == "DELETE":
            del self.service_accounts[account_id]
            for token_id in [i for i, t in self.sa_tokens.items() if t["serviceAccountId"] == account_id]:
                self.tokens.pop(self.sa_tokens.pop(token_id)["key"], None)
            return 200, {"message": "Service account deleted"}
        if rest == "/tokens" and method == "GET":
            return 200, [{k: t[k] for k in ("id", "name", "created", "expiration", "secondsUntilExpiration",
                                            "hasExpired", "isRevoked", "lastUsedAt")}
                         for t in self.sa_tokens.values() if t["serviceAccountId"] == account_id]
        if rest == "/tokens" and method == "POST":
            name = str(body.get("name") or "").strip() if isinstance(body, dict) else ""
            if not name:
                return 400, {"message": "Bad request data"}
            # Token names are unique in the organisation, not per service account.
            if any(t["name"] == name for t in self.sa_tokens.values()):
                return service_account_error(400, "serviceaccounts.ErrTokenAlreadyExists",
                                             "service account token with given name already exists in the organization")
            token_id = next(self.ids)
            key = f"glsa_test_double_{token_id}"
            self.sa_tokens[token_id] = {"id": token_id, "name": name, "key": key, "serviceAccountId": account_id,
                                        "created": "2026-01-01T00:00:00Z", "expiration": None,
                                        "secondsUntilExpiration": 0, "hasExpired": False, "isRevoked": False,
                                        "lastUsedAt": None}
            self.tokens[key] = account["role"]
            return 200, {"id": token_id, "name": name, "key": key}
        if rest.startswith("/tokens/") and method == "DELETE":
            token_id = rest[len("/tokens/"):]
            token = self.sa_tokens.get(int(token_id)) if token_id.isdigit() else None
            if token is None or token["serviceAccountId"] != account_id:
                return service_account_error(404, "serviceaccounts.ErrTokenNotFound", "service account token not found")
            del self.sa_tokens[token["id"]]
            self.tokens.pop(token["key"], None)
            return 200, {"message": "Service account token deleted"}
        return 404, {"message": "Not found"}

    # routing -------------------------------------------------------------------------
    def handle(self, method: str, path: str, role: Optional[str], body: Any,
               query: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        query = query or {}
        if path == "/api/health":
            return 200, {"commit": "test-double", "database": "ok", "version": self.version}
        if role is None:
            return 401, {"message": "Unauthorized"}
        if role == "":
            return 401, {"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401}
        with self.lock:
            if path.startswith("/api/serviceaccounts"):
                if role != "Admin":
                    return access_denied(SERVICE_ACCOUNT_PERMISSIONS.get(method, "serviceaccounts:read"))
                if path == "/api/serviceaccounts/search" and method == "GET":
                    return self.search_service_accounts(query.get("query", ""))
                if path == "/api/serviceaccounts" and method == "POST":
                    return self.create_service_account(body, role)
                account_id, _sep, rest = path[len("/api/serviceaccounts/"):].partition("/")
                if account_id.isdigit():
                    return self.service_account(method, int(account_id), "/" + rest if rest else "", body)
                return 404, {"message": "Not found"}
            if method != "GET":
                needed = next((need for prefix, need in WRITE_PERMISSIONS.items() if path.startswith(prefix)), None)
                if needed and ROLE_RANK[role] < ROLE_RANK[needed[0]]:
                    return access_denied(needed[1])
            if path == "/api/folders":
                if method == "GET":
                    return self.list_folders(query.get("parentUid", ""))
                return self.create_folder(body if isinstance(body, dict) else {})
            if path.startswith("/api/folders/") and method == "GET":
                return self.get_folder(path[len("/api/folders/"):])
            if path == "/api/dashboards/db" and method == "POST":
                return self.save_dashboard(body)
            if path.startswith("/api/dashboards/uid/"):
                uid = path[len("/api/dashboards/uid/"):]
                return self.get_dashboard(uid) if method == "GET" else self.delete_dashboard(uid)
            if path == "/api/datasources":
                if method == "GET":
                    return (200, list(self.datasources.values())) if role == "Admin" else access_denied("datasources:read")
                return self.create_datasource(body)
        return 404, {"message": "Not found"}


def make_handler(double: GrafanaDouble):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                status, answer = 400, {"message": "bad request data"}
            else:
                path, _sep, query = self.path.partition("?")
                status, answer = double.handle(method, path, double.role(self.headers.get("Authorization")), body,
                                               dict(urllib.parse.parse_qsl(query)))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - the http.server API
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def do_PATCH(self):  # noqa: N802
            self._serve("PATCH")

        def do_DELETE(self):  # noqa: N802
            self._serve("DELETE")

        def log_message(self, *_args):
            pass

    return Handler


def serve(double: GrafanaDouble, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start the double in a thread; the caller stops it with shutdown()."""
    server = ThreadingHTTPServer((host, port), make_handler(double))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--token", default="admin-token")
    parser.add_argument("--viewer-token", default="viewer-token")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default="not-the-default")
    parser.add_argument("--grafana-version", default="12.1.0", help="the Grafana release to imitate")
    args = parser.parse_args()
    double = GrafanaDouble(args.token, args.viewer_token, (args.admin_user, args.admin_password), args.grafana_version)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(double))
    server.serve_forever()


if __name__ == "__main__":
    main()
