"""Fault drills on the running stack: restarts lose nothing, and a config change reloads only what it touches."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from conftest import docker, run_play, wait_for

RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", re.MULTILINE)
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def catalog(stack):
    return {node["Node"]: sorted(stack.consul(f"/v1/catalog/node/{node['Node']}")["Services"])
            for node in stack.consul("/v1/catalog/nodes")}


def acl_state(stack):
    policies = {p["ID"]: (p["Name"], p["Hash"]) for p in stack.consul("/v1/acl/policies")}
    tokens = {t["AccessorID"]: sorted(p["Name"] for p in t.get("Policies") or []) for t in stack.consul("/v1/acl/tokens")}
    return policies, tokens


def all_passing(stack):
    checks = stack.consul("/v1/health/state/any")
    return bool(checks) and all(check["Status"] == "passing" for check in checks)


def every_target_up(stack):
    targets = stack.prometheus("/api/v1/targets?state=active")["data"]["activeTargets"]
    return len(targets) >= len(stack.all_hosts) and all(t["health"] == "up" for t in targets)


def started_at(stack):
    names = docker("ps", "--format", "{{.Names}}").split()
    mine = [name for name in names if any(name.startswith(f"{host}-") for host in stack.all_hosts)]
    return {name: docker("inspect", "-f", "{{.State.StartedAt}}", name).strip() for name in mine}


def test_consul_server_restart_keeps_the_catalog_and_acls(stack):
    before_catalog, before_acls = catalog(stack), acl_state(stack)
    assert before_catalog and before_acls[1], "nothing to compare: the catalog or the token list is empty"

    docker("restart", stack.container(stack.monitor, "consul"))

    wait_for("a Consul leader after the restart", lambda: stack.consul("/v1/status/leader"), 60)
    wait_for("every check passing again", lambda: all_passing(stack), 90)
    assert catalog(stack) == before_catalog
    assert acl_state(stack) == before_acls
    # Default deny still holds, and the agents' tokens still work (they re-synced their services).
    assert stack.consul("/v1/catalog/nodes", token="") == []


def test_prometheus_restart_loses_no_series(stack):
    wait_for("every target up", lambda: every_target_up(stack), 60)
    # A moment back, so no scrape in flight can add a sample to the window after it is read.
    before_restart = time.time() - 5
    window = {"start": before_restart - 120, "end": before_restart}

    def series():
        query = urllib.parse.urlencode({"match[]": '{job=~".+"}', **window})
        return {json.dumps(s, sort_keys=True) for s in stack.prometheus(f"/api/v1/series?{query}")["data"]}

    def samples_per_target():
        query = urllib.parse.urlencode({"query": "count_over_time(up[2m])", "time": before_restart})
        return {r["metric"]["instance"]: r["value"][1] for r in stack.prometheus(f"/api/v1/query?{query}")["data"]["result"]}

    series_before, samples_before = series(), samples_per_target()
    assert len(series_before) > 100 and samples_before

    docker("restart", stack.container(stack.monitor, "prometheus"))

    wait_for("every target up after the restart", lambda: every_target_up(stack), 60)
    missing = series_before - series()
    assert not missing, f"{len(missing)} series lost, for example {sorted(missing)[:3]}"
    assert samples_per_target() == samples_before


def test_a_config_change_reloads_only_what_it_touches(stack):
    reloads = 'max by (job) ({__name__=~"(prometheus|alertmanager)_config_last_reload_success_timestamp_seconds"})'

    def reload_times():
        return {r["metric"]["job"]: float(r["value"][1]) for r in stack.query(reloads)}

    containers_before, reloads_before = started_at(stack), reload_times()
    assert set(reloads_before) == {"prometheus", "alertmanager"}
    try:
        result = run_play("--tags", "monitoring", "-e", '{"prometheus_external_labels": {"drill": "config-change"}}')
        assert result.returncode == 0, result.stdout[-3000:]
        changed = {host: int(count) for host, count in RECAP.findall(COLOUR.sub("", result.stdout))}
        assert stack.monitor in changed, result.stdout[-3000:]
        assert changed[stack.monitor] > 0
        assert {host: count for host, count in changed.items() if host != stack.monitor and count} == {}
        assert started_at(stack) == containers_before, "a container was restarted instead of reloaded"
        wait_for("the new external label in the running config",
                 lambda: "drill: config-change" in stack.prometheus("/api/v1/status/config")["data"]["yaml"], 30)
        reloads_after = wait_for("Prometheus's reload in its own metrics", reload_times, 30,
                                 until=lambda times: times.get("prometheus", 0) > reloads_before["prometheus"])
        assert reloads_after["alertmanager"] == reloads_before["alertmanager"]
    finally:
        restored = run_play("--tags", "monitoring")
        assert restored.returncode == 0, restored.stdout[-3000:]
    assert "drill" not in stack.prometheus("/api/v1/status/config")["data"]["yaml"]
