"""The shipped Grafana dashboards, as code. Writes roles/grafana/files/dashboards/*.json.

    python scripts/dashboards.py          # write the JSON files
    python scripts/dashboards.py --check  # fail when a committed file differs from this code
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

OUT = Path(__file__).resolve().parents[1] / "roles/grafana/files/dashboards"
DATASOURCE = {"type": "prometheus", "uid": "masa-prometheus"}
ORACLE = 'job="masa-oracle", datacenter=~"$datacenter", node=~"$node"'


def variables(job: str) -> List[Dict]:
    def query(name: str, expression: str) -> Dict:
        return {"name": name, "label": name.capitalize(), "type": "query", "datasource": DATASOURCE,
                "query": {"query": expression, "refId": name}, "definition": expression, "refresh": 2,
                "includeAll": True, "multi": True, "current": {"text": "All", "value": "$__all"}, "allValue": ".*",
                "sort": 1}
    return [query("datacenter", f'label_values(up{{job="{job}"}}, datacenter)'),
            query("node", f'label_values(up{{job="{job}", datacenter=~"$datacenter"}}, node)')]


class Board:
    def __init__(self, uid: str, title: str, description: str, job: str):
        self.model = {"uid": uid, "title": title, "description": description, "tags": ["masa", "monitoring"],
                      "timezone": "utc", "editable": True, "graphTooltip": 1, "refresh": "5s",
                      "time": {"from": "now-15m", "to": "now"}, "schemaVersion": 39,
                      "templating": {"list": variables(job)}, "annotations": {"list": []}, "panels": []}
        self.x = self.y = 0

    def panel(self, title: str, kind: str, exprs: Dict[str, str], unit: str = "short", width: int = 6,
              height: int = 6, description: str = "", legend: Optional[str] = None) -> "Board":
        if self.x + width > 24:
            self.x, self.y = 0, self.y + height
        targets = [{"refId": chr(65 + i), "expr": expr, "legendFormat": legend_for or legend or "__auto",
                    "datasource": DATASOURCE} for i, (legend_for, expr) in enumerate(exprs.items())]
        self.model["panels"].append({
            "id": len(self.model["panels"]) + 1, "type": kind, "title": title, "description": description,
            "datasource": DATASOURCE, "gridPos": {"x": self.x, "y": self.y, "w": width, "h": height},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {}, "targets": targets,
        })
        self.x += width
        return self


def oracle_fleet() -> Dict:
    board = Board("masa-oracle-fleet", "Masa oracle fleet", "Every oracle node: reachability, masa-node's own state as its sidecar reads it, and the "
                  "work, errors and latency of SDK-instrumented services.",
                  "masa-oracle")
    (board
     .panel("Nodes up", "stat", {"": f"sum(up{{{ORACLE}}})"}, description="Oracle nodes scraped successfully.")
     .panel("Registered in Consul", "stat",
            {"": 'max(sum by (shard) (prometheus_sd_discovered_targets{config="masa-oracle", name="scrape"}))'},
            description="Instances Consul lists, passing or not.")
     .panel("Not passing in Consul", "stat",
            {"": 'max(sum by (shard) (prometheus_sd_discovered_targets{config="masa-oracle", name="scrape"})) '
                 '- (count(up{job="masa-oracle"}) or vector(0))'},
            description="Registered instances Prometheus does not scrape: critical in Consul.")
     .panel("Firing alerts", "stat", {"": 'count(count without (shard) (ALERTS{alertstate="firing"})) or vector(0)'})
     .panel("Discovery: Consul query latency", "timeseries",
            {"{{call}} p90": 'max by (call) (prometheus_sd_consul_rpc_duration_seconds{quantile="0.9"})'}, unit="s",
            width=8, description="How long Prometheus's calls to Consul take; targets follow within 5 s.")
     .panel("Scrape duration", "timeseries",
            {"{{node}} {{job}}": 'scrape_duration_seconds{job=~"masa-oracle|node-exporter", '
                                 'datacenter=~"$datacenter", node=~"$node"}'}, unit="s", width=8)
     .panel("Active alerts", "table",
            {"": 'count by (alertname, node, severity) (count without (shard) (ALERTS{alertstate="firing"})) or vector(0)'}, width=8)
     .panel("masa-node API up", "stat", {"": f"sum(masa_node_up{{{ORACLE}}})"},
            description="Nodes whose API answers their sidecar; the rest raise MasaNodeApiDown.")
     .panel("Protocol versions", "piechart",
            {"{{protocol_version}}": f"count by (protocol_version) (masa_node_info{{{ORACLE}}})"},
            description="More than one raises MasaNodeVersionsDiffer.")
     .panel("Staked and active", "stat", {"staked": f"sum(masa_node_staked{{{ORACLE}}})",
                                          "active": f"sum(masa_node_active{{{ORACLE}}})"},
            description="Nodes that report themselves staked, and active.")
     .panel("Known nodes", "stat", {"": f"max(masa_node_known_nodes{{{ORACLE}}})"},
            description="The largest node list any node holds, itself included.")
     .panel("masa-node identity", "table",
            {"": f"max by (node, peer_id, protocol_version, eth_address) (masa_node_info{{{ORACLE}}})"}, width=24,
            description="Each node's libp2p peer id, protocol version and Ethereum address.")
     .panel("masa-node peers", "timeseries", {"{{node}}": f"masa_node_peers{{{ORACLE}}}"}, width=8)
     .panel("masa-node uptime", "timeseries", {"{{node}}": f"masa_node_uptime_seconds{{{ORACLE}}}"}, unit="s",
            width=8)
     .panel("masa-node work", "timeseries", {
         f"{{{{node}}}} {name.replace('_', ' ')}": f"rate(masa_node_{name}_total{{{ORACLE}}}[$__rate_interval])"
         for name in ("returned_tweets", "tweet_timeouts", "not_found")}, unit="reqps", width=8)
     .panel("masa-node API latency p95", "timeseries", {
         "{{route}}": "histogram_quantile(0.95, sum by (le, route) "
                      f"(rate(masa_node_api_request_duration_seconds_bucket{{{ORACLE}}}[$__rate_interval])))"},
            unit="s", width=12)
     .panel("Sidecar poll errors", "timeseries",
            {"{{reason}}": f"sum by (reason) (rate(masa_node_poll_errors_total{{{ORACLE}}}[$__rate_interval]))"},
            unit="reqps", width=12, description="Failed reads of the node's API, by reason.")
     .panel("Work rate by node", "timeseries", {"{{node}}": 'node:masa_oracle_work:rate1m{node=~"$node"}'},
            unit="reqps", width=12)
     .panel("Work by outcome", "timeseries",
            {"{{outcome}}": f"sum by (outcome) (rate(masa_oracle_work_total{{{ORACLE}}}[$__rate_interval]))"},
            unit="reqps", width=12)
     .panel("Error ratio", "timeseries", {"{{node}}": 'node:masa_oracle_errors:ratio_rate1m{node=~"$node"}'},
            unit="percentunit", width=12)
     .panel("Latency quantiles", "timeseries", {
         f"p{q}": f"histogram_quantile(0.{q}, sum by (le) "
                  f"(rate(masa_oracle_request_duration_seconds_bucket{{{ORACLE}}}[$__rate_interval])))"
         for q in (50, 95, 99)}, unit="s", width=12)
     .panel("Uptime", "timeseries", {"{{node}}": f"masa_oracle_uptime_seconds{{{ORACLE}}}"}, unit="s", width=8)
     .panel("Peers", "timeseries", {"{{node}}": f"masa_oracle_peers{{{ORACLE}}}"}, width=8)
     .panel("Version spread", "piechart", {"{{version}}": f"count by (version) (masa_oracle_build_info{{{ORACLE}}})"},
            width=8)
     .panel("Certificate expiry", "table",
            {"{{node}}": f"masa_tls_certificate_not_after_seconds{{{ORACLE}}} - time()"}, unit="s", width=24))
    return board.model


def consul_health() -> Dict:
    board = Board("masa-consul-health", "Masa Consul health", "The Consul cluster that discovery depends on.",
                  "consul")
    (board
     .panel("Servers up", "stat", {"": 'sum(up{job="consul"})'})
     .panel("Autopilot healthy (leader's view)", "stat", {"": 'max(consul_autopilot_healthy{job="consul"})'})
     .panel("Critical instances", "stat", {
         "": 'sum(prometheus_sd_discovered_targets{config=~"masa-oracle|node-exporter", name="scrape"}) '
             '- (count(up{job=~"masa-oracle|node-exporter"}) or vector(0))'})
     .panel("Discovery failures", "stat", {"": "sum(increase(prometheus_sd_consul_rpc_failures_total[5m]))"})
     .panel("Registered instances by service", "timeseries",
            {"{{config}}": 'sum by (config) (prometheus_sd_discovered_targets{name="scrape", '
                           'config=~"masa-oracle|node-exporter"})'}, width=12)
     .panel("Raft commit time p90", "timeseries", {"": 'max(consul_raft_commitTime{quantile="0.9"})'}, unit="ms",
            width=12)
     .panel("RPC requests", "timeseries", {"": "sum(rate(consul_rpc_request[$__rate_interval]))"}, unit="reqps",
            width=12)
     .panel("Goroutines and memory", "timeseries", {"goroutines": "max(consul_runtime_num_goroutines)",
                                                    "alloc bytes": "max(consul_runtime_alloc_bytes)"}, width=12))
    return board.model


def monitoring_stack() -> Dict:
    board = Board("masa-monitoring-stack", "Masa monitoring stack", "Prometheus, Alertmanager and the hosts.",
                  "node-exporter")
    node = 'job="node-exporter", datacenter=~"$datacenter", node=~"$node"'
    (board
     .panel("Stack up", "stat", {"{{job}}": 'up{job=~"prometheus|alertmanager|consul"}'}, width=8)
     .panel("Config reloaded", "stat", {"": "min(prometheus_config_last_reload_successful)"}, width=8)
     .panel("Head series", "stat", {"": "sum(prometheus_tsdb_head_series)"}, width=8)
     .panel("Samples ingested", "timeseries",
            {"": "sum(rate(prometheus_tsdb_head_samples_appended_total[$__rate_interval]))"}, unit="short", width=12)
     .panel("Rule evaluation time", "timeseries",
            {"{{rule_group}}": "prometheus_rule_group_last_duration_seconds"}, unit="s", width=12)
     .panel("Notifications sent", "timeseries",
            {"": "sum(rate(prometheus_notifications_sent_total[$__rate_interval]))"}, unit="ops", width=12)
     .panel("Scrape duration p99 by job", "timeseries",
            {"{{job}}": "max by (job) (quantile_over_time(0.99, scrape_duration_seconds[5m]))"}, unit="s", width=12)
     .panel("Host CPU busy", "timeseries",
            {"{{node}}": f'1 - avg by (node) (rate(node_cpu_seconds_total{{mode="idle", {node}}}[$__rate_interval]))'},
            unit="percentunit", width=12)
     .panel("Host memory available", "timeseries", {"{{node}}": f"node_memory_MemAvailable_bytes{{{node}}}"},
            unit="bytes", width=12))
    return board.model


BOARDS = {"oracle-fleet.json": oracle_fleet, "consul-health.json": consul_health,
          "monitoring-stack.json": monitoring_stack}


def render(builder) -> str:
    return json.dumps(builder(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for name, builder in BOARDS.items():
        path = OUT / name
        text = render(builder)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date, run python scripts/dashboards.py: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
