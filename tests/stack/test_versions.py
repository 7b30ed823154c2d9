"""The stack runs the releases the role defaults name, and each loaded what the play gave it.

The version comes from each running service itself (Prometheus's build info API, Alertmanager's
status API, node-exporter's build info metric), and is compared with the tag of the image the role
defaults name.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from masa_stack import REPO

ROLES = REPO / "roles"


def default_release(role: str, variable: str) -> str:
    """The version in the tag of the image a role's defaults name: prom/prometheus:v3.5.0 -> 3.5.0."""
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    return defaults[variable].rsplit(":", 1)[1].lstrip("v")


def test_prometheus_runs_the_default_release_with_the_configuration_loaded(stack):
    build = stack.prometheus("/api/v1/status/buildinfo")["data"]
    assert build["version"] == default_release("prometheus", "prometheus_image")
    assert [sample["value"][1] for sample in stack.query("prometheus_config_last_reload_successful")] == ["1"]
    groups = stack.prometheus("/api/v1/rules")["data"]["groups"]
    loaded = {Path(group["file"]).name for group in groups}
    shipped = {path.name for path in (ROLES / "prometheus" / "files" / "rules").glob("*.yml")}
    assert shipped <= loaded, f"rule files not loaded: {shipped - loaded}"


def test_alertmanager_runs_the_default_release(stack):
    status = stack.get(f"https://{stack.address(stack.monitor)}:9093/api/v2/status")
    assert status["versionInfo"]["version"] == default_release("alertmanager", "alertmanager_image")
    assert status["config"]["original"], "Alertmanager reports no loaded configuration"


def test_every_node_exporter_runs_the_default_release(stack):
    versions = {sample["metric"]["node"]: sample["metric"]["version"]
                for sample in stack.query("node_exporter_build_info")}
    assert set(versions) == set(stack.all_hosts)
    assert set(versions.values()) == {default_release("node_exporter", "node_exporter_image")}
