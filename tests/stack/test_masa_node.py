"""masa-node watched by its analytics sidecar: both registered and passing, the sidecar's metrics
equal to what the node's own API says, and a node whose API stops pages while its sidecar stays up.

In molecule the node is the masa-node API test double (tests/masa_node_double.py): the Go module
proxy does not serve masa-oracle, so masa-node cannot be built here. The sidecar, Consul,
Prometheus and Alertmanager are the real ones.
"""

from __future__ import annotations

import json
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import docker, fetch_metrics, instance_state, masa_node_hosts, wait_for, webhook_alerts

API_PORT = 8080


def node_api(stack, host, path):
    with urllib.request.urlopen(f"http://{stack.address(host)}:{API_PORT}{path}", timeout=5) as answer:
        return json.loads(answer.read())


def sidecar_samples(stack, host):
    """The sidecar's masa_node_* samples by name (with the labels of info samples)."""
    samples = {}
    for family in text_string_to_metric_families(fetch_metrics(stack, stack.address(host)).decode()):
        for sample in family.samples:
            if sample.name.startswith("masa_node_"):
                samples[sample.name] = sample
    return samples


def node_reading(stack, host):
    """What the node's own API says: its peer id (found by its address), peers and node data."""
    tracked = node_api(stack, host, "/api/v1/peer/addresses")["data"]
    own = next(entry["peerId"] for entry in tracked if f"/ip4/{stack.address(host)}/" in entry["peerAddress"])
    data = node_api(stack, host, f"/api/v1/node/data/{own}")["data"]
    return own, len(tracked) - 1, data


def test_at_least_three_nodes_each_with_its_sidecar_registered_and_passing(stack):
    hosts = masa_node_hosts(stack)
    assert len(hosts) >= 3, f"masa-node runs on {hosts}"
    for host in hosts:
        for service in ("masa-node", "masa-oracle"):
            wait_for(f"{service} passing on {host}", lambda: instance_state(stack, host, service) == "passing", 60)


def test_sidecar_metrics_equal_what_the_node_api_says(stack):
    for host in masa_node_hosts(stack):
        def matched():
            peer_id, peers, data = node_reading(stack, host)
            samples = sidecar_samples(stack, host)
            info = samples["masa_node_info"].labels
            pairs = [(info["peer_id"], peer_id), (info["protocol_version"], data["version"]),
                     (samples["masa_node_peers"].value, peers), (samples["masa_node_up"].value, 1),
                     (samples["masa_node_staked"].value, int(data["isStaked"])),
                     (samples["masa_node_active"].value, int(data["isActive"]))]
            return all(got == want for got, want in pairs) and abs(
                samples["masa_node_uptime_seconds"].value - data["uptime"] / 1e9) < 3
        wait_for(f"{host}'s sidecar to agree with its node", matched, 15)


def test_node_api_down_pages_while_its_sidecar_stays_up(stack):
    host = masa_node_hosts(stack)[0]
    node = stack.container(host, "masa-node")

    def notified(alertname, status, since):
        return [alert for at, alert in webhook_alerts() if at >= since and alert["status"] == status
                and alert["labels"].get("alertname") == alertname and alert["labels"].get("node") == host]

    docker("stop", "-t", "5", node)
    stopped = time.time()
    try:
        alert = wait_for("MasaNodeApiDown at the webhook", lambda: notified("MasaNodeApiDown", "firing", stopped), 30,
                         interval=0.1)[0]
        assert alert["labels"]["severity"] == "critical"
        print(f"MasaNodeApiDown reached the webhook {time.time() - stopped:.2f} s after the node stopped")
        assert instance_state(stack, host) == "passing"
        assert instance_state(stack, host, "masa-node") == "critical"
        assert b"masa_node_up 0.0" in fetch_metrics(stack, stack.address(host))
        assert not notified("OracleNodeDown", "firing", stopped)
    finally:
        docker("start", node)
    wait_for("MasaNodeApiDown resolved at the webhook", lambda: notified("MasaNodeApiDown", "resolved", stopped), 60)
    wait_for(f"masa-node passing again on {host}", lambda: instance_state(stack, host, "masa-node") == "passing", 30)
