"""The grafana_* modules against the Grafana HTTP API test double (no Grafana can be installed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, run_playbook
from grafana_double import GrafanaDouble, serve


@pytest.mark.parametrize("version, writes, folders", [
    # push, edit, the same-titled copy, the spaced title, the dashboard in the second Masa folder
    ("12.1.0", 5, ["Masa", "Masa"]),
    # push, edit, the overwrite that lands on the first dashboard, the spaced title
    ("11.2.0", 4, ["Masa"]),
])
def test_grafana_dashboard_module(tmp_path: Path, version: str, writes: int, folders: list) -> None:
    double = GrafanaDouble(version=version)
    server = serve(double)
    try:
        result = run_playbook(REPO / "tests/integration/targets/grafana_dashboard/playbook.yml",
                              GRAFANA_TEST_URL=f"http://127.0.0.1:{server.server_port}", GRAFANA_TEST_DIR=str(tmp_path),
                              GRAFANA_TEST_VERSION=version)
    finally:
        server.shutdown()
    assert result.returncode == 0, "the grafana_dashboard target failed; its output is above"
    # Check mode and refused input wrote nothing.
    assert double.writes == writes
    assert [f["title"] for f in double.folders.values()] == folders
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
