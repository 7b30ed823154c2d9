"""Every alert and recording rule, unit-tested with the promtool of the Prometheus image in use."""

from __future__ import annotations

import subprocess

import yaml

from conftest import REPO


def prometheus_image() -> str:
    chosen = yaml.safe_load((REPO / ".state/images.yml").read_text())
    return chosen["prometheus_image"]


def test_promtool_rule_tests_pass():
    tests = sorted(p.name for p in (REPO / "tests/rules").glob("*_test.yml"))
    assert len(tests) >= 3
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", f"{REPO}:/repo:ro", "-w", "/repo/tests/rules",
         "--entrypoint", "/bin/promtool", prometheus_image(), "test", "rules", *tests],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)


def test_every_alert_has_a_test():
    alerts = set()
    for path in (REPO / "roles/prometheus/files/rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts |= {rule["alert"] for rule in group["rules"] if "alert" in rule}
    tested = set()
    for path in (REPO / "tests/rules").glob("*_test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            tested |= {check["alertname"] for check in case.get("alert_rule_test", []) if check.get("exp_alerts")}
    assert alerts - tested == set(), f"alerts without a firing test: {sorted(alerts - tested)}"
