"""The grafana_* modules against the Grafana HTTP API test double (no Grafana can be installed here)."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, run_playbook
from grafana_double import GrafanaDouble, serve


def test_grafana_dashboard_module(tmp_path: Path) -> None:
    double = GrafanaDouble()
    server = serve(double)
    try:
        result = run_playbook(REPO / "tests/integration/targets/grafana_dashboard/playbook.yml",
                              GRAFANA_TEST_URL=f"http://127.0.0.1:{server.server_port}", GRAFANA_TEST_DIR=str(tmp_path))
    finally:
        server.shutdown()
    assert result.returncode == 0, "the grafana_dashboard target failed; its output is above"
    # Check mode wrote nothing: one push, one edit, one overwrite.
    assert double.writes == 3
    assert [f["title"] for f in double.folders.values()] == ["Masa"]
    assert set(double.dashboards) == set()


def test_grafana_service_account_module() -> None:
    double = GrafanaDouble()
    server = serve(double)
    try:
        result = run_playbook(REPO / "tests/integration/targets/grafana_service_account/playbook.yml",
                              GRAFANA_TEST_URL=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert result.returncode == 0, "the grafana_service_account target failed; its output is above"
    assert double.service_accounts == {} and double.sa_tokens == {}
