"""The Grafana HTTP API test double behaves as Grafana 12.1 does, and as 11.2 did where told to.

Each test names where Grafana's behaviour comes from, in grafana/grafana (source of the 12.0 to
12.2 line, whose save and validation logic is the same) or its HTTP API documentation.
"""

from __future__ import annotations

import base64

import pytest

from grafana_double import GrafanaDouble

ADMIN = "Admin"


def save(double, dashboard, **body):
    return double.handle("POST", "/api/dashboards/db", ADMIN, dict(body, dashboard=dashboard))


def folder(double, title, **body):
    return double.handle("POST", "/api/folders", ADMIN, dict(body, title=title))


@pytest.fixture
def grafana():
    return GrafanaDouble()


def test_health_needs_no_credentials_and_names_the_version(grafana):
    """pkg/api/http_server.go apiHealthHandler: no auth; database, version and commit."""
    status, body = grafana.handle("GET", "/api/health", None, None)
    assert status == 200 and body["database"] == "ok" and body["version"] == "12.1.0"


def test_no_credentials_and_a_wrong_token_are_two_different_401s(grafana):
    """pkg/middleware/auth.go notAuthorized: WriteErrOrFallback(401, "Unauthorized", LookupTokenErr);
    a token that matches no key answers the authn error, api-key.invalid."""
    assert grafana.handle("GET", "/api/folders", grafana.role(None), None) == (401, {"message": "Unauthorized"})
    status, body = grafana.handle("GET", "/api/folders", grafana.role("Bearer wrong"), None)
    assert status == 401 and body["messageId"] == "api-key.invalid"
    wrong_password = "Basic " + base64.b64encode(b"admin:guess").decode()
    assert grafana.handle("GET", "/api/folders", grafana.role(wrong_password), None)[0] == 401


def test_a_403_names_the_permission_the_route_needs(grafana):
    """pkg/services/accesscontrol/middleware.go deny(): title "Access denied", accessErrorId, and the
    evaluator in the message; pkg/api/api.go guards POST /api/dashboards/db with
    EvalAny(dashboards:create, dashboards:write)."""
    status, body = grafana.handle("POST", "/api/dashboards/db", "Viewer", {"dashboard": {"title": "x"}})
    assert status == 403 and body["title"] == "Access denied" and body["accessErrorId"]
    assert body["message"].endswith("Permissions needed: any of dashboards:create, dashboards:write")
    status, body = grafana.handle("POST", "/api/serviceaccounts", "Editor", {"name": "x"})
    assert status == 403 and body["message"].endswith("serviceaccounts:create")
    assert grafana.handle("GET", "/api/folders", "Viewer", None)[0] == 200


def test_a_save_answers_with_what_grafana_stored(grafana):
    """pkg/api/dashboard.go postDashboard: status, slug, version, id, uid, url and folderUid;
    the title and uid are trimmed first (dashboard_service.go ValidateBasicDashboardProperties)."""
    made = folder(grafana, "Masa")[1]
    status, body = save(grafana, {"uid": " fleet ", "title": "  Oracle fleet: nodes  "}, folderUid=made["uid"])
    assert status == 200
    assert body == {"id": body["id"], "uid": "fleet", "url": "/d/fleet/oracle-fleet-nodes", "status": "success",
                    "version": 1, "slug": "oracle-fleet-nodes", "folderUid": made["uid"]}
    stored = grafana.handle("GET", "/api/dashboards/uid/fleet", ADMIN, None)[1]
    assert stored["dashboard"]["title"] == "Oracle fleet: nodes"
    assert stored["meta"]["folderUid"] == made["uid"] and stored["meta"]["folderTitle"] == "Masa"
    assert stored["meta"]["url"] == "/d/fleet/oracle-fleet-nodes" and stored["meta"]["version"] == 1


def test_a_dashboard_in_no_folder_reports_the_general_folder(grafana):
    """pkg/api/dashboard.go GetDashboard: folderTitle "General" when the dashboard has no folder."""
    save(grafana, {"uid": "root", "title": "Root"})
    stored = grafana.handle("GET", "/api/dashboards/uid/root", ADMIN, None)[1]
    assert stored["meta"]["folderTitle"] == "General" and stored["meta"]["folderUid"] == ""


@pytest.mark.parametrize("uid, message", [
    ("has space", "uid contains illegal characters"),
    ("dot.ted", "uid contains illegal characters"),
    ("x" * 41, "uid too long, max 40 characters"),
])
def test_a_uid_grafana_would_not_accept_is_a_400(grafana, uid, message):
    """pkg/util/shortid_generator.go IsValidShortUID (^[a-zA-Z0-9\\-\\_]*$) and IsShortUIDTooLong (40);
    pkg/services/dashboards/errors.go ErrDashboardInvalidUid, ErrDashboardUidTooLong."""
    assert save(grafana, {"uid": uid, "title": "t"}) == (400, {"message": message})
    assert save(grafana, {"uid": "x" * 40, "title": "t"})[0] == 200
    assert grafana.writes == 1


def test_title_and_message_limits(grafana):
    """pkg/services/dashboards/errors.go: ErrDashboardTitleEmpty (empty-name), ErrDashboardTitleTooLong
    (title-too-long, 5000), ErrDashboardMessageTooLong (500)."""
    assert save(grafana, {"title": "   "}) == (400, {"message": "Dashboard title cannot be empty", "status": "empty-name"})
    assert save(grafana, {"title": "t" * 5001})[1]["status"] == "title-too-long"
    assert save(grafana, {"title": "t"}, message="m" * 501) == (400, {"message": "message too long, max 500 characters"})


def test_a_missing_folder_is_a_400_without_a_status(grafana):
    """pkg/api/apierrors/dashboard.go ToDashboardErrorResponse: ErrFolderNotFound -> 400 "folder not found"."""
    assert save(grafana, {"title": "t"}, folderUid="nowhere") == (400, {"message": "folder not found"})


def test_version_mismatch_unless_overwrite(grafana):
    """dashboard_service.go ValidateDashboardBeforeSave: another version (a missing one counts as 0)
    is 412 version-mismatch unless overwrite; docs/sources/developers/http_api/dashboard.md."""
    save(grafana, {"uid": "d1", "title": "t"})
    assert save(grafana, {"uid": "d1", "title": "t"})[1]["status"] == "version-mismatch"
    assert save(grafana, {"uid": "d1", "title": "t", "version": 7})[0] == 412
    assert save(grafana, {"uid": "d1", "title": "t", "version": 1})[1]["version"] == 2
    assert save(grafana, {"uid": "d1", "title": "t"}, overwrite=True)[1]["version"] == 3


def test_since_11_3_two_dashboards_may_share_a_title_in_a_folder(grafana):
    """grafana/grafana PR #90687 (11.3): dashboard and folder titles need not be unique; 12.x errors.go
    has no name-exists error. A clash creates a second dashboard, with or without overwrite."""
    assert save(grafana, {"uid": "a", "title": "Same"})[0] == 200
    status, body = save(grafana, {"uid": "b", "title": "Same"})
    assert status == 200 and body["uid"] == "b" and body["version"] == 1
    assert save(grafana, {"uid": "c", "title": "Same"}, overwrite=True)[1]["uid"] == "c"
    assert set(grafana.dashboards) == {"a", "b", "c"}


def test_before_11_3_a_title_clash_was_412_name_exists_and_overwrite_saved_into_the_other():
    """Grafana 11.2 dashboard_service.go getExistingDashboardByTitleAndFolder: the same slug in the
    folder is 412 name-exists; with overwrite the save takes the existing dashboard's id and uid."""
    grafana = GrafanaDouble(version="11.2.0")
    save(grafana, {"uid": "a", "title": "Same"})
    assert save(grafana, {"uid": "b", "title": "same"})[1]["status"] == "name-exists"
    status, body = save(grafana, {"uid": "b", "title": "Same"}, overwrite=True)
    assert status == 200 and body["uid"] == "a" and body["version"] == 2
    assert set(grafana.dashboards) == {"a"}


def test_delete_answers_with_the_uid(grafana):
    """pkg/api/dashboard.go deleteDashboard: title, message and uid (id until 10.x); 404 when missing."""
    save(grafana, {"uid": "gone", "title": "Gone"})
    assert grafana.handle("DELETE", "/api/dashboards/uid/gone", ADMIN, None) == (
        200, {"title": "Gone", "message": "Dashboard Gone deleted", "uid": "gone"})
    assert grafana.handle("DELETE", "/api/dashboards/uid/gone", ADMIN, None)[0] == 404


def test_folders_nest_and_titles_repeat(grafana):
    """PR #90687 (titles not unique); pkg/api/folder.go GetFolders lists the children of parentUid,
    the root by default; CreateFolder takes parentUid; GetFolderByUID 404s with not-found."""
    first = folder(grafana, "Masa")[1]
    status, second = folder(grafana, "Masa")
    assert status == 200 and second["uid"] != first["uid"]
    child = folder(grafana, "Nodes", parentUid=first["uid"])[1]
    assert child["parentUid"] == first["uid"]
    root = grafana.handle("GET", "/api/folders", ADMIN, None, {})[1]
    assert sorted(f["uid"] for f in root) == sorted([first["uid"], second["uid"]])
    nested = grafana.handle("GET", "/api/folders", ADMIN, None, {"parentUid": first["uid"]})[1]
    assert [f["uid"] for f in nested] == [child["uid"]]
    assert grafana.handle("GET", f"/api/folders/{child['uid']}", ADMIN, None)[1]["title"] == "Nodes"
    assert grafana.handle("GET", "/api/folders/nowhere", ADMIN, None) == (
        404, {"status": "not-found", "message": "folder not found"})
    assert folder(grafana, "x", uid=first["uid"])[0] == 409
    assert folder(grafana, "x", uid="bad uid") == (400, {"message": "uid contains illegal characters"})


def test_before_11_3_folder_titles_were_unique():
    """Grafana 11.2 pkg/api/apierrors/folder.go ToFolderErrorResponse: ErrFolderSameNameExists -> 409."""
    grafana = GrafanaDouble(version="11.2.0")
    folder(grafana, "Masa")
    assert folder(grafana, "Masa")[0] == 409


def test_a_service_account_name_clash_is_a_400_by_login(grafana):
    """pkg/services/serviceaccounts/models.go ErrServiceAccountAlreadyExists: errutil.BadRequest
    "serviceaccounts.ErrAlreadyExists"; the login is sa-<org>-<name lowered, spaces as dashes>."""
    status, made = grafana.handle("POST", "/api/serviceaccounts", ADMIN, {"name": "Masa Automation", "role": "Admin"})
    assert status == 201 and made["login"] == "sa-1-masa-automation" and made["tokens"] == 0
    status, body = grafana.handle("POST", "/api/serviceaccounts", ADMIN, {"name": "masa automation"})
    assert status == 400 and body["messageId"] == "serviceaccounts.ErrAlreadyExists" and body["statusCode"] == 400
    assert grafana.handle("POST", "/api/serviceaccounts", ADMIN, {"name": "x", "role": "Owner"})[0] == 400


def test_token_names_are_unique_in_the_organisation(grafana):
    """pkg/services/serviceaccounts/database/token_store.go: ErrDuplicateToken ->
    serviceaccounts.ErrTokenAlreadyExists, 400, across every account of the org; api/token.go
    CreateToken shows the key once; DeleteToken 404s with ErrTokenNotFound."""
    first = grafana.handle("POST", "/api/serviceaccounts", ADMIN, {"name": "one", "role": "Admin"})[1]["id"]
    second = grafana.handle("POST", "/api/serviceaccounts", ADMIN, {"name": "two"})[1]["id"]
    status, token = grafana.handle("POST", f"/api/serviceaccounts/{first}/tokens", ADMIN, {"name": "ansible"})
    assert status == 200 and set(token) == {"id", "name", "key"}
    status, body = grafana.handle("POST", f"/api/serviceaccounts/{second}/tokens", ADMIN, {"name": "ansible"})
    assert status == 400 and body["messageId"] == "serviceaccounts.ErrTokenAlreadyExists"
    assert grafana.handle("POST", f"/api/serviceaccounts/{second}/tokens", ADMIN, {"name": ""})[0] == 400
    listed = grafana.handle("GET", f"/api/serviceaccounts/{first}/tokens", ADMIN, None)[1]
    assert "key" not in listed[0] and {"hasExpired", "isRevoked", "lastUsedAt"} <= set(listed[0])
    assert grafana.role(f"Bearer {token['key']}") == "Admin"
    status, body = grafana.handle("DELETE", f"/api/serviceaccounts/{second}/tokens/{token['id']}", ADMIN, None)
    assert status == 404 and body["messageId"] == "serviceaccounts.ErrTokenNotFound"


def test_a_datasource_needs_a_name_and_a_type_and_a_free_name(grafana):
    """pkg/api/datasources.go AddDataSource: 400 "bad request data" on a bad body, 409 on a name clash."""
    assert grafana.handle("POST", "/api/datasources", ADMIN, {"name": "p"}) == (400, {"message": "bad request data"})
    assert grafana.handle("POST", "/api/datasources", ADMIN, {"name": "p", "type": "prometheus"})[0] == 200
    assert grafana.handle("POST", "/api/datasources", ADMIN, {"name": "p", "type": "prometheus"})[0] == 409
