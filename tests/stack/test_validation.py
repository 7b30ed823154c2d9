"""A bad rule never reaches the running Prometheus: the play fails with promtool's message."""

from __future__ import annotations

from conftest import run_play


def test_bad_rule_fails_the_play_and_prometheus_keeps_its_config(stack, tmp_path):
    before_config = stack.prometheus("/api/v1/status/config")["data"]["yaml"]
    before_rules = sorted(g["name"] for g in stack.prometheus("/api/v1/rules")["data"]["groups"])
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum(rate(up[1m])\n")

    result = run_play("--tags", "monitoring", "-e", f'{{"prometheus_extra_rule_files": ["{bad}"]}}')

    assert result.returncode != 0
    assert "failed to validate" in result.stdout
    assert "bad.yml" in result.stdout or "parse error" in result.stdout
    assert stack.prometheus("/api/v1/status/config")["data"]["yaml"] == before_config
    assert sorted(g["name"] for g in stack.prometheus("/api/v1/rules")["data"]["groups"]) == before_rules
    assert stack.query("prometheus_config_last_reload_successful")[0]["value"][1] == "1"
