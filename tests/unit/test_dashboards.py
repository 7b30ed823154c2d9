"""The shipped dashboards: generated from scripts/dashboards.py, and consistent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "roles/grafana/files/dashboards").glob("*.json"))


def test_committed_json_matches_the_code():
    result = subprocess.run([sys.executable, str(REPO / "scripts/dashboards.py"), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_consistent(path):
    model = json.loads(path.read_text())
    assert model["uid"] and model["title"]
    assert [v["name"] for v in model["templating"]["list"]] == ["datacenter", "node"]
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "masa-prometheus"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
