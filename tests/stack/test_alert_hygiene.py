"""Alert hygiene on the real stack: Watchdog fires but reaches only the dead man's switch, a brief Consul
server restart pages nobody, and a dead Consul agent pages for its node and clears once it is back."""

from __future__ import annotations

import subprocess
import time

import pytest

from conftest import docker, instance_state, note_figure, wait_for, webhook_alerts

# The default route's group_wait (1 s) plus its group_interval (5 s): any notification is out by then.
NOTIFICATION_DELAY = 6
# ConsulDiscoveryFailing's window (30 s) and for (40 s), and a notification.
RESTART_WATCH = 75


def alertmanager_alerts(stack):
    """The alerts Alertmanager holds (active, silenced or inhibited), asked with the operator's certificate."""
    port = stack.record(stack.monitor, "alertmanager")["port"]
    return stack.get(f"https://{stack.address(stack.monitor)}:{port}/api/v2/alerts")


def identity(alert):
    return tuple(sorted(alert["labels"].items()))


def notified(alertname, status, since, node):
    return [alert for at, alert in webhook_alerts() if at >= since and alert["status"] == status
            and alert["labels"].get("alertname") == alertname and alert["labels"].get("node") == node]


def critical_notified(since):
    return {identity(alert) for at, alert in webhook_alerts()
            if at >= since and alert["status"] == "firing" and alert["labels"].get("severity") == "critical"}


def container_log(container):
    return subprocess.run(["docker", "logs", container], capture_output=True, text=True, check=True, timeout=30).stderr


def consul_sd_failures(stack):
    return sum(float(result["value"][1]) for result in stack.query("prometheus_sd_consul_rpc_failures_total"))


def test_watchdog_fires_and_reaches_no_receiver_but_the_switch(stack):
    def active_watchdog():
        return [alert for alert in alertmanager_alerts(stack)
                if alert["labels"].get("alertname") == "Watchdog" and alert["status"]["state"] == "active"]

    watchdog = wait_for("Watchdog active in Alertmanager", active_watchdog, 30)[0]
    assert watchdog["labels"]["severity"] == "none"
    assert {receiver["name"] for receiver in watchdog["receivers"]} <= {"watchdog", "blackhole"}
    time.sleep(NOTIFICATION_DELAY)
    assert not [pair for pair in webhook_alerts() if pair[1]["labels"].get("alertname") == "Watchdog"]


def test_consul_server_restart_of_two_seconds_pages_nobody(stack):
    wait_for("no critical alert pending", lambda: not stack.query('ALERTS{alertstate="pending", severity="critical"}'),
             60)
    firing_before = {identity(alert) for alert in alertmanager_alerts(stack)
                     if alert["labels"].get("severity") == "critical"}
    failures_before = consul_sd_failures(stack)
    server = stack.container(stack.monitor, "consul")

    restarted = time.time()
    # Killed and started again at once: down for the time Consul takes to start.
    docker("restart", "-t", "0", server)
    try:
        wait_for("Prometheus to count failed Consul queries", lambda: consul_sd_failures(stack) > failures_before, 30)
        while time.time() < restarted + RESTART_WATCH:
            pages = critical_notified(restarted) - firing_before
            assert not pages, f"a Consul server restart paged: {sorted(pages)}"
            time.sleep(1)
    finally:
        docker("start", server)
    wait_for("a Consul leader after the restart", lambda: stack.consul("/v1/status/leader"), 60)
    wait_for("no critical check after the restart", lambda: stack.consul("/v1/health/state/critical") == [], 90)


@pytest.mark.parametrize("signal", ["KILL", "TERM"], ids=["killed", "terminated"])
def test_a_dead_consul_agent_pages_for_its_node_and_clears(stack, signal):
    """Killed, the agent fails and serfHealth turns its node's instances critical; terminated, it leaves and they
    are deregistered. Either way none of the node's targets is discovered any more."""
    host = stack.oracle_nodes[0]
    agent = stack.container(host, "consul")
    for service in ("masa-oracle", "node-exporter"):
        wait_for(f"{service} passing on {host}", lambda: instance_state(stack, host, service) == "passing", 60)
    wait_for(f"no ConsulNodeUnhealthy for {host} in Alertmanager",
             lambda: not [alert for alert in alertmanager_alerts(stack) if alert["labels"].get("node") == host
                          and alert["labels"].get("alertname") == "ConsulNodeUnhealthy"], 60)

    docker("kill", "--signal", signal, agent)
    dead = time.time()
    try:
        alert = wait_for("ConsulNodeUnhealthy at the webhook",
                         lambda: notified("ConsulNodeUnhealthy", "firing", dead, host), 90)[0]
        assert alert["labels"]["severity"] == "critical"
        note_figure(f"Consul agent SIG{signal}: ConsulNodeUnhealthy at the webhook after {time.time() - dead:.1f} s")
        # The local default receiver, the alert log, wrote it down too.
        alert_log = stack.record(stack.monitor, "alertmanager")["alert_log_container"]
        wait_for("ConsulNodeUnhealthy in the alert log",
                 lambda: f"FIRING critical ConsulNodeUnhealthy node={host}" in container_log(alert_log), 10)
    finally:
        wait_for(f"{agent} to exit", lambda: docker("inspect", "-f", "{{.State.Running}}", agent).strip() == "false",
                 30)
        docker("start", agent)
    wait_for("ConsulNodeUnhealthy resolved at the webhook",
             lambda: notified("ConsulNodeUnhealthy", "resolved", dead, host), 90)
    for service in ("masa-oracle", "node-exporter"):
        wait_for(f"{service} passing again on {host}", lambda: instance_state(stack, host, service) == "passing", 60)


def test_the_watchdog_stops_when_prometheus_dies_and_resumes_after(stack):
    """The dead man's switch (the sink's /watchdog) hears Watchdog every repeat interval (10 s in molecule) while
    Prometheus lives. Dead, Prometheus stops sending it; Alertmanager resolves it four resend delays (20 s) after
    the last send, and the pings stop: that silence is what the switch pages on."""
    def pings_since(moment):
        return [at for at, alert in webhook_alerts("MASA_WATCHDOG_SINK")
                if at >= moment and alert["labels"].get("alertname") == "Watchdog"]

    started = time.time()
    wait_for("two Watchdog pings at the switch", lambda: len(pings_since(started)) >= 2, 40)
    prometheus = stack.container(stack.monitor, "prometheus")
    docker("stop", "-t", "5", prometheus)
    stopped = time.time()
    try:
        time.sleep(30)
        silent_from = time.time()
        time.sleep(25)
        assert not pings_since(silent_from), "the switch still hears Watchdog with Prometheus dead"
        last = max(pings_since(stopped), default=stopped)
        note_figure(f"Prometheus stopped: last Watchdog ping {last - stopped:.1f} s later, then none for 25 s")
    finally:
        docker("start", prometheus)
    restarted = time.time()
    wait_for("Watchdog pings again once Prometheus is back", lambda: pings_since(restarted), 60)
