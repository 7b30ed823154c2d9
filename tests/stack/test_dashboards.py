"""Every panel query of every shipped dashboard returns data from the stack's real Prometheus."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse

import pytest
from masa_stack import REPO

from conftest import wait_for

DASHBOARDS = sorted((REPO / "roles/grafana/files/dashboards").glob("*.json"))
# What Grafana puts in the template variables before it sends a query.
SUBSTITUTIONS = {"$datacenter": ".*", "$node": ".*", "$__rate_interval": "1m", "$__interval": "5s", "$__range": "5m"}


def panel_queries() -> list:
    return list(_panel_queries())


def _panel_queries():
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                yield pytest.param(target["expr"], id=f"{path.stem}: {panel['title']} {target['refId']}")


def grafana_expression(expr: str) -> str:
    for variable, value in SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    return expr


def test_there_are_dashboards_with_panels():
    assert len(DASHBOARDS) == 3
    assert len(list(panel_queries())) >= 30


@pytest.mark.parametrize("expr", panel_queries())
def test_panel_query_returns_data(stack, expr):
    def answer():
        try:
            return stack.prometheus("/api/v1/query?query=" + urllib.parse.quote(grafana_expression(expr)))
        except urllib.error.HTTPError as error:  # a PromQL error is a 400 with the reason in the body
            pytest.fail(f"PromQL error for {expr!r}: {error.read().decode()}")

    result = wait_for(f"data for {expr!r}", answer, 60, interval=2, until=lambda got: bool(got["data"]["result"]))
    assert result["status"] == "success"


def test_dashboards_were_pushed_into_their_folder():
    import os
    import urllib.request

    base, token = os.environ["MASA_GRAFANA_URL"], os.environ["MASA_GRAFANA_TOKEN"]
    for path in DASHBOARDS:
        uid = json.loads(path.read_text())["uid"]
        request = urllib.request.Request(f"{base}/api/dashboards/uid/{uid}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            pushed = json.loads(answer.read())
        assert pushed["meta"]["folderTitle"] == "Masa"
        assert pushed["dashboard"]["panels"] == json.loads(path.read_text())["panels"]
        # The converge and the idempotence run pushed the same content: one version only.
        assert pushed["dashboard"]["version"] == 1
