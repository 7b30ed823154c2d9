"""Faults on real services: a crashed node pages and is deregistered; a stopped one leaves at once."""

from __future__ import annotations

import time

from conftest import docker, fetch_metrics, instance_state, wait_for, webhook_alerts


def test_sigterm_deregisters_within_two_seconds(stack):
    host = stack.oracle_nodes[1]
    container = stack.container(host, "oracle-node")
    assert instance_state(stack, host) == "passing"
    try:
        docker("kill", "--signal", "TERM", container)
        signalled = time.monotonic()
        wait_for(f"{host} to deregister", lambda: instance_state(stack, host) == "gone", 2.5, interval=0.05)
        assert time.monotonic() - signalled <= 2.0
    finally:
        restart(stack, host, container)


def restart(stack, host, container):
    """Start the node's service again once its process has exited (a stopped one drains first)."""
    wait_for(f"{container} to exit", lambda: docker("inspect", "-f", "{{.State.Running}}", container).strip() == "false",
             30)
    docker("start", container)
    wait_for(f"{host} to come back", lambda: instance_state(stack, host) == "passing", 60)


def test_kill_9_pages_goes_critical_and_is_deregistered(stack):
    host = stack.oracle_nodes[-1]
    container = stack.container(host, "oracle-node")
    assert instance_state(stack, host) == "passing"
    try:
        docker("kill", "--signal", "KILL", container)
        killed = time.time()
        # Within one check interval (2 s); a refused connection fails the check at once.
        wait_for(f"{host} to turn critical", lambda: instance_state(stack, host) == "critical", 3, interval=0.1)

        def node_down_notified():
            return [alert for at, alert in webhook_alerts()
                    if at >= killed and alert["labels"].get("alertname") == "OracleNodeDown"
                    and alert["labels"].get("node") == host and alert["status"] == "firing"]

        alerts = wait_for("OracleNodeDown at the webhook", node_down_notified, 60)
        assert alerts[0]["labels"]["severity"] == "critical"
        # DeregisterCriticalServiceAfter is 1m; Consul's reaper runs every 30 s.
        wait_for(f"Consul to remove {host}", lambda: instance_state(stack, host) == "gone", 110)
    finally:
        restart(stack, host, container)


def test_consul_down_at_start_then_back(stack):
    """The SDK serves metrics while its agent is down, and registers as soon as the agent returns."""
    host = stack.oracle_nodes[0]
    oracle, agent = stack.container(host, "oracle-node"), stack.container(host, "consul")
    docker("stop", "-t", "5", agent)
    try:
        docker("restart", "-t", "10", oracle)
        address = stack.address(host)
        wait_for(f"{host}'s SDK to serve metrics without Consul",
                 lambda: b"masa_tls_certificate_not_after_seconds" in fetch_metrics(stack, address), 30)
        assert docker("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", oracle).split() == ["true", "0"]
    finally:
        docker("start", agent)
    wait_for(f"{host} registered and passing once Consul is back",
             lambda: instance_state(stack, host) == "passing", 90)
    assert docker("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", oracle).split() == ["true", "0"]
