"""TEST DOUBLE of Grafana's HTTP API, for tests only; the playbooks never deploy it.

No Grafana build can be installed on the machines this project is built on, so the module's tests
and molecule talk to this stand-in. It follows Grafana's documented API for what the collection uses:

- GET  /api/health
- GET  /api/folders, POST /api/folders
- GET  /api/dashboards/uid/:uid, DELETE /api/dashboards/uid/:uid
- POST /api/dashboards/db: uid and version handling, overwrite, 412 version-mismatch and name-exists
- GET  /api/datasources, POST /api/datasources
- GET  /api/serviceaccounts/search?query=, POST /api/serviceaccounts, PATCH and DELETE /api/serviceaccounts/:id
- GET  and POST /api/serviceaccounts/:id/tokens, DELETE /api/serviceaccounts/:id/tokens/:tokenId;
  a token's key is shown once, and authenticates with its service account's role
- 401 without valid credentials, 403 for a viewer's token, and for service accounts without Admin

    python tests/grafana_double.py --port 3000 --token admin-token --viewer-token viewer-token \
        --admin-password not-the-default
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple


class GrafanaDouble:
    """The state behind the API: folders, dashboards and datasources, guarded by one lock."""

    def __init__(self, token: str = "admin-token", viewer_token: str = "viewer-token",
                 basic_auth: Tuple[str, str] = ("admin", "not-the-default")):
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
        if not header:
            return None
        kind, _sep, value = header.partition(" ")
        if kind == "Bearer":
            return self.tokens.get(value)
        if kind == "Basic":
            user, _sep, password = base64.b64decode(value).decode().partition(":")
            return "Admin" if (user, password) == self.basic_auth else None
        return None

    # folders -------------------------------------------------------------------------
    def create_folder(self, body):
        title = (body.get("title") or "").strip()
        if not title:
            return 400, {"message": "folder title cannot be empty"}
        if any(f["title"] == title for f in self.folders.values()):
            return 409, {"message": "a folder with the same name already exists"}
        uid = body.get("uid") or f"f{next(self.ids)}"
        folder = {"id": next(self.ids), "uid": uid, "title": title, "version": 1}
        self.folders[uid] = folder
        return 200, folder

    # dashboards ----------------------------------------------------------------------
    def get_dashboard(self, uid):
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        folder = self.folders.get(stored["folderUid"])
        meta = {"folderUid": stored["folderUid"] or "", "folderTitle": folder["title"] if folder else "General",
                "version": stored["dashboard"]["version"], "slug": stored["dashboard"]["title"].lower()}
        return 200, {"dashboard": json.loads(json.dumps(stored["dashboard"])), "meta": meta}

    def save_dashboard(self, body):
        model = body.get("dashboard")
        if not isinstance(model, dict):
            return 400, {"message": "bad request data"}
        title = (model.get("title") or "").strip()
        if not title:
            return 400, {"message": "Dashboard title cannot be empty", "status": "empty-name"}
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found", "status": "folder-not-found"}
        overwrite = bool(body.get("overwrite"))
        uid = model.get("uid") or f"d{next(self.ids)}"
        existing = self.dashboards.get(uid)
        same_title = [d for u, d in self.dashboards.items()
                      if u != uid and d["folderUid"] == folder_uid and d["dashboard"]["title"] == title]
        if existing is not None and not overwrite and model.get("version") != existing["dashboard"]["version"]:
            return 412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
        if same_title and not overwrite:
            return 412, {"message": "A dashboard with the same name in the folder already exists",
                         "status": "name-exists"}
        for other in same_title:
            del self.dashboards[other["dashboard"]["uid"]]
        previous = existing["dashboard"] if existing else (same_title[0]["dashboard"] if same_title else None)
        stored = dict(model, uid=uid, id=previous["id"] if previous else next(self.ids),
                      version=(previous["version"] + 1) if previous else 1)
        self.dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid, "message": body.get("message", "")}
        self.writes += 1
        return 200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}/{title.lower().replace(' ', '-')}",
                     "status": "success", "version": stored["version"], "slug": title.lower().replace(" ", "-")}

    def delete_dashboard(self, uid):
        stored = self.dashboards.pop(uid, None)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        return 200, {"title": stored["dashboard"]["title"], "message": f"Dashboard {stored['dashboard']['title']} deleted",
                     "id": stored["dashboard"]["id"]}

    # datasources ---------------------------------------------------------------------
    def create_datasource(self, body):
        name = body.get("name")
        if not name or not body.get("type"):
            return 400, {"message": "name and type are required"}
        if name in self.datasources:
            return 409, {"message": "data source with the same name already exists"}
        source = dict(body, id=next(self.ids), uid=body.get("uid") or f"ds{len(self.datasources) + 1}")
        source.pop("secureJsonData", None)
        self.datasources[name] = source
        return 200, {"datasource": source, "id": source["id"], "message": "Datasource added", "name": name}

    # service accounts ----------------------------------------------------------------
    def search_service_accounts(self, query: str):
        found = [dict(sa, tokens=sum(1 for t in self.sa_tokens.values() if t["serviceAccountId"] == sa["id"]))
                 for sa in self.service_accounts.values() if query.lower() in sa["name"].lower()]
        return 200, {"totalCount": len(found), "serviceAccounts": found, "page": 1, "perPage": 1000}

    def create_service_account(self, body):
        name = (body.get("name") or "").strip()
        if not name:
            return 400, {"message": "service account name is required"}
        if body.get("role", "Viewer") not in ("Viewer", "Editor", "Admin", "None"):
            return 400, {"message": "invalid role value"}
        if any(sa["name"] == name for sa in self.service_accounts.values()):
            return 409, {"message": "service account already exists", "messageId": "serviceaccounts.ErrAlreadyExists"}
        account_id = next(self.ids)
        login = "sa-1-" + name.lower().replace(" ", "-")
        self.service_accounts[account_id] = {"id": account_id, "orgId": 1, "name": name, "login": login,
                                             "role": body.get("role", "Viewer"), "isDisabled": bool(body.get("isDisabled"))}
        return 201, dict(self.service_accounts[account_id])

    def service_account(self, method: str, account_id: int, rest: str, body: Any) -> Tuple[int, Any]:
        account = self.service_accounts.get(account_id)
        if account is None:
            return 404, {"message": "service account not found"}
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
            return 200, [{k: t[k] for k in ("id", "name", "created", "hasExpired")}
                         for t in self.sa_tokens.values() if t["serviceAccountId"] == account_id]
        if rest == "/tokens" and method == "POST":
            name = (body.get("name") or "").strip()
            if any(t["name"] == name and t["serviceAccountId"] == account_id for t in self.sa_tokens.values()):
                return 409, {"message": "service account token with given name already exists"}
            token_id = next(self.ids)
            key = f"glsa_test_double_{token_id}"
            self.sa_tokens[token_id] = {"id": token_id, "name": name, "key": key, "serviceAccountId": account_id,
                                        "created": "2026-01-01T00:00:00Z", "hasExpired": False}
            self.tokens[key] = account["role"]
            return 200, {"id": token_id, "name": name, "key": key}
        if rest.startswith("/tokens/") and method == "DELETE":
            token = self.sa_tokens.pop(int(rest[len("/tokens/"):]), None)
            if token is None:
                return 404, {"message": "token not found"}
            self.tokens.pop(token["key"], None)
            return 200, {"message": "Service account token deleted"}
        return 404, {"message": "Not found"}

    # routing -------------------------------------------------------------------------
    def handle(self, method: str, path: str, role: Optional[str], body: Any,
               query: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        if path == "/api/health":
            return 200, {"commit": "test-double", "database": "ok", "version": "12.1.0-test-double"}
        if role is None:
            return 401, {"message": "Unauthorized"}
        writing = method in ("POST", "PUT", "PATCH", "DELETE")
        if writing and role == "Viewer":
            return 403, {"message": "Permissions needed: dashboards:write"}
        with self.lock:
            if path.startswith("/api/serviceaccounts"):
                if role != "Admin":
                    return 403, {"message": "You'll need additional permissions to perform this action. "
                                            "Permissions needed: serviceaccounts:read"}
                if path == "/api/serviceaccounts/search" and method == "GET":
                    return self.search_service_accounts((query or {}).get("query", ""))
                if path == "/api/serviceaccounts" and method == "POST":
                    return self.create_service_account(body)
                account_id, _sep, rest = path[len("/api/serviceaccounts/"):].partition("/")
                if account_id.isdigit():
                    return self.service_account(method, int(account_id), "/" + rest if rest else "", body)
                return 404, {"message": "Not found"}
            if path == "/api/folders":
                return (200, list(self.folders.values())) if method == "GET" else self.create_folder(body)
            if path == "/api/dashboards/db" and method == "POST":
                return self.save_dashboard(body)
            if path.startswith("/api/dashboards/uid/"):
                uid = path[len("/api/dashboards/uid/"):]
                return self.get_dashboard(uid) if method == "GET" else self.delete_dashboard(uid)
            if path == "/api/datasources":
                return (200, list(self.datasources.values())) if method == "GET" else self.create_datasource(body)
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
    args = parser.parse_args()
    double = GrafanaDouble(args.token, args.viewer_token, (args.admin_user, args.admin_password))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(double))
    server.serve_forever()


if __name__ == "__main__":
    main()
