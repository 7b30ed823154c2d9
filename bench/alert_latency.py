"""A killed oracle node to the OracleNodeDown notification at a webhook, ours against the stock configuration.

Both profiles run side by side on the same victims: a real Consul, Prometheus and Alertmanager
(mTLS between them), configured from the roles' templates. Ours uses the shipped rules and the
role defaults. Stock uses the original request's timings: 15 s scrapes and evaluation, an
`up == 0` alert with `for: 5m`, and Alertmanager's default 30 s group wait and 5 m group interval.

Each victim is a real SDK node in its own container, killed with SIGKILL at a staggered time.
The kill time is taken before `docker kill`; the notification time is when the webhook receives
the first notification that names the victim's node as firing.

With --kind masa-node each victim is a masa-node (its API test double: masa-node cannot be built
here) beside a real analytics sidecar, and only ours runs: no stock rule can see a node whose
sidecar still answers. The node is killed first (MasaNodeApiDown), then its sidecar
(OracleNodeDown), so the sidecar's path is compared with the scrape path in the same run.

    bench/alert_latency.py [--victims 10] [--kind simulated|masa-node]
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List

from _lab import (GATEWAY, REPO, STOCK_PROMETHEUS, ConsulCatalog, Lab, PrometheusAPI, docker, percentile,
                  summary, wait_until)

WEBHOOK_PORT = 19099
VICTIM_PORT = 9200
STOCK_RULES = """groups:
  - name: stock
    rules:
      - alert: OracleNodeDown
        expr: up{job="masa-oracle"} == 0
        for: 5m
        labels:
          severity: critical
"""
PROFILES = {
    "ours": {
        "address": "172.28.0.10", "consul_port": 18500, "prometheus_port": 19090,
        "prometheus": {},
        "alertmanager": {},
        "rules": {path.name: path.read_text() for path in (REPO / "roles/prometheus/files/rules").glob("*.yml")},
    },
    "stock": {
        "address": "172.28.0.11", "consul_port": 18501, "prometheus_port": 19091,
        "prometheus": STOCK_PROMETHEUS,
        "alertmanager": {"alertmanager_route": {"receiver": "default", "group_by": ["alertname", "node"],
                                                "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}},
        "rules": {"stock.yml": STOCK_RULES},
    },
}


class Notifications:
    """The webhook: the first time each profile's Alertmanager reports an alert firing for a node,
    keyed by (profile, alertname, node)."""

    def __init__(self) -> None:
        self.first_firing: Dict[tuple, float] = {}
        lock = threading.Lock()
        received = self.first_firing

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                arrived = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                profile = self.path.strip("/")
                with lock:
                    for alert in body.get("alerts", []):
                        labels = alert.get("labels", {})
                        if alert.get("status") == "firing":
                            received.setdefault((profile, labels.get("alertname"), labels.get("node")), arrived)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("0.0.0.0", WEBHOOK_PORT), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def start_profile(lab: Lab, name: str) -> PrometheusAPI:
    profile = PROFILES[name]
    alertmanager_vars = {"alertmanager_webhook_urls": [f"http://{GATEWAY}:{WEBHOOK_PORT}/{name}"], **profile["alertmanager"]}
    return lab.monitor(f"bench-alert-{name}", profile["address"], profile["consul_port"], profile["prometheus_port"],
                       profile["prometheus"], profile["rules"], alertmanager_vars)


def kill_staggered(rng: random.Random, containers: Dict[str, str]) -> Dict[str, float]:
    """Kill each node's container a few seconds apart; when each was killed."""
    killed = {}
    for node, container in containers.items():
        time.sleep(rng.uniform(2, 6))
        killed[node] = time.time()
        docker("kill", container)
    return killed


def report(notifications: Notifications, profile: str, alertname: str, cause: str, killed: Dict[str, float],
           timeout: float) -> List[float]:
    wait_until(lambda: all((profile, alertname, node) in notifications.first_firing for node in killed), timeout,
               interval=1)
    latencies = [notifications.first_firing[profile, alertname, node] - at for node, at in killed.items()
                 if (profile, alertname, node) in notifications.first_firing]
    print(f"{profile:5s}  {cause} to {alertname} at the webhook: {summary(latencies)}   "
          f"notified {len(latencies)}/{len(killed)}", flush=True)
    return latencies


def simulated_victims(lab: Lab, args: argparse.Namespace, rng: random.Random, notifications: Notifications) -> None:
    apis = {name: start_profile(lab, name) for name in PROFILES}
    victims = {f"victim-{i:02d}": f"172.28.0.{30 + i}" for i in range(args.victims)}
    for node, address in victims.items():
        lab.oracle_nodes(node, address, 1, VICTIM_PORT)
        for name in PROFILES:
            ConsulCatalog(PROFILES[name]["consul_port"]).register(node, address, VICTIM_PORT)
    for name, api in apis.items():
        wait_until(lambda api=api: api.value('count(up{job="masa-oracle"} == 1)') >= args.victims, 120,
                   f"{name}: Prometheus did not scrape every victim", interval=1)
    print(f"{args.victims} victims scraped by both profiles; killing them a few seconds apart", flush=True)
    killed = kill_staggered(rng, {node: node for node in victims})
    ours, stock = (percentile(report(notifications, name, "OracleNodeDown", "kill", killed, timeout), 0.95)
                   for name, timeout in (("ours", 60), ("stock", 600)))
    print(f"p95: ours {ours:.1f} s, stock {stock:.1f} s, {stock / ours:.0f}x faster")


def masa_node_victims(lab: Lab, args: argparse.Namespace, rng: random.Random, notifications: Notifications) -> None:
    api = start_profile(lab, "ours")
    victims = {f"victim-{i:02d}": f"172.28.0.{30 + i}" for i in range(args.victims)}
    containers = {node: lab.masa_node(node, address, VICTIM_PORT) for node, address in victims.items()}
    for node, address in victims.items():
        ConsulCatalog(PROFILES["ours"]["consul_port"]).register(node, address, VICTIM_PORT)
    wait_until(lambda: api.value('count(masa_node_up{job="masa-oracle"} == 1)') >= args.victims, 120,
               "ours: Prometheus did not see every node's API up", interval=1)
    print(f"{args.victims} masa-nodes up behind their sidecars; killing the nodes a few seconds apart", flush=True)
    node_killed = kill_staggered(rng, {node: pair[0] for node, pair in containers.items()})
    report(notifications, "ours", "MasaNodeApiDown", "node killed", node_killed, 60)
    print("killing the sidecars a few seconds apart", flush=True)
    sidecar_killed = kill_staggered(rng, {node: pair[1] for node, pair in containers.items()})
    report(notifications, "ours", "OracleNodeDown", "sidecar killed", sidecar_killed, 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--victims", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--kind", choices=("simulated", "masa-node"), default="simulated")
    args = parser.parse_args()
    notifications = Notifications()
    try:
        with Lab() as lab:
            victims = masa_node_victims if args.kind == "masa-node" else simulated_victims
            victims(lab, args, random.Random(args.seed), notifications)
    finally:
        notifications.close()


if __name__ == "__main__":
    main()
