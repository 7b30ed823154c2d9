"""Registration -> discovery -> mTLS scrape: every node is registered, passing, and scraped as up."""

from __future__ import annotations

from conftest import masa_node_hosts, wait_for


def passing_instances(stack, service):
    entries = stack.consul(f"/v1/health/service/{service}?passing=true")
    return {entry["Node"]["Node"] for entry in entries}


def test_every_node_is_registered_and_passing(stack):
    for service, hosts in (("masa-oracle", stack.oracle_nodes), ("node-exporter", stack.all_hosts)):
        seen = wait_for(f"{service} passing on {hosts}", lambda: passing_instances(stack, service), 60,
                        until=lambda got: got >= set(hosts))
        assert set(hosts) <= seen


def test_registration_carries_version_node_and_metrics_meta(stack):
    entries = stack.consul("/v1/catalog/service/masa-oracle")
    assert entries, "no masa-oracle instance in the catalog"
    for entry in entries:
        meta = entry["ServiceMeta"]
        assert meta["metrics_scheme"] == "https"
        assert meta["metrics_path"] == "/metrics"
        assert meta["node_id"] == entry["Node"]
        assert meta["version"]
        assert "prometheus" in entry["ServiceTags"]


def test_every_target_is_up_over_mtls(stack):
    def all_up():
        targets = stack.prometheus("/api/v1/targets")["data"]["activeTargets"]
        by_job = {}
        for target in targets:
            by_job.setdefault(target["labels"]["job"], []).append(target)
        oracle = by_job.get("masa-oracle", [])
        exporters = by_job.get("node-exporter", [])
        if len(oracle) < len(stack.oracle_nodes) or len(exporters) < len(stack.all_hosts):
            return None
        if any(t["health"] != "up" for t in targets):
            return None
        return targets

    targets = wait_for("every target up", all_up, 90)
    for target in targets:
        if target["labels"]["job"] in ("masa-oracle", "node-exporter"):
            assert target["scrapeUrl"].startswith("https://")
            assert target["labels"]["node"] in stack.all_hosts
            assert target["labels"]["datacenter"] == "dc1"
    versions = {t["labels"].get("version") for t in targets if t["labels"]["job"] == "masa-oracle"}
    assert versions and None not in versions


def test_sdk_metrics_reach_prometheus(stack):
    """Beside masa-node, the sidecar's masa_node_* series; on the simulated oracle, its work counter."""
    def nodes_with(metric):
        return {r["metric"]["node"] for r in stack.query(f'count by (node) ({metric}{{job="masa-oracle"}})')}

    sidecars = set(masa_node_hosts(stack))
    simulated = set(stack.oracle_nodes) - sidecars
    assert sidecars and simulated, f"the scenario runs both kinds: masa-node on {sidecars}, simulated on {simulated}"
    wait_for("masa_node_info from every sidecar", lambda: nodes_with("masa_node_info"), 60,
             until=lambda got: got == sidecars)
    wait_for("oracle work counted on the simulated nodes", lambda: nodes_with("masa_oracle_work_total"), 60,
             until=lambda got: got == simulated)
    expiry = stack.query("min(masa_tls_certificate_not_after_seconds) - time()")
    assert float(expiry[0]["value"][1]) > 300 * 86400
