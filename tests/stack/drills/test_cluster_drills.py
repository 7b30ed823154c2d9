"""Drills on a three-server Consul cluster (molecule/aws): a follower stopped, the leader stopped, every server
restarted in turn, and a whole oracle host's engine stopped. They run in this order, each leaving the cluster whole.

The scenario's hosts are containers of this machine named after their inventory hosts; a drill reaches into one with
``docker exec``, as an operator with a shell on the instance would."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from conftest import note_figure, wait_for, webhook_alerts

# A stopped or restarting server is a real fault: these may page for it. Its agent is down with it, so its own
# node-exporter instance turns critical (ConsulServiceCritical, a warning) and its node's targets leave discovery.
EXPECTED_WHILE_A_SERVER_IS_DOWN = {"Watchdog", "ConsulServerDown", "ConsulServiceCritical", "ConsulNodeUnhealthy"}
DRILLS_STARTED = time.time()


def on_host(host: str, *argv: str) -> str:
    return subprocess.run(["docker", "exec", host, *argv], capture_output=True, text=True, timeout=120,
                          check=True).stdout


def servers(stack) -> list:
    return stack.group("consul_servers")


def leader(stack, asked: list) -> str:
    """The server that leads, as the first of ``asked`` that answers sees it; "" while there is none."""
    by_address = {f"{stack.address(host)}:8300": host for host in servers(stack)}
    for host in asked:
        try:
            return by_address.get(stack.consul("/v1/status/leader", host=host), "")
        except Exception:  # a stopped server does not answer; ask the next
            continue
    return ""


def whole(stack) -> bool:
    """Every server is a voter, and one leads."""
    configuration = stack.consul("/v1/operator/raft/configuration", host=servers(stack)[0])
    voters = {server["Node"] for server in configuration["Servers"] if server["Voter"]}
    return voters == set(servers(stack)) and bool(leader(stack, servers(stack)))


def wait_whole(stack) -> None:
    wait_for("every server to be a voter again, under a leader", lambda: whole(stack), 90)


def registering_works(stack, through: str, seen_at: str) -> None:
    """A service registered at one live server's agent shows in the catalog of another, then leaves it."""
    probe = f"drill-probe-{uuid.uuid4().hex[:8]}"
    stack.consul("/v1/agent/service/register", host=through, method="PUT", body={"ID": probe, "Name": probe})
    wait_for(f"{probe} in the catalog at {seen_at}", lambda: probe in stack.consul("/v1/catalog/services", host=seen_at), 20)
    stack.consul(f"/v1/agent/service/deregister/{probe}", host=through, method="PUT")
    wait_for(f"{probe} to leave the catalog at {seen_at}",
             lambda: probe not in stack.consul("/v1/catalog/services", host=seen_at), 20)


def alerts_since(started: float) -> list:
    return [alert for received, alert in webhook_alerts() if received >= started]


@pytest.fixture(scope="module", autouse=True)
def cluster_is_whole(stack):
    assert len(servers(stack)) == 3, f"the drills need three Consul servers, not {servers(stack)}"
    wait_whole(stack)


def test_a_stopped_follower_stops_nothing(stack):
    chief = leader(stack, servers(stack))
    follower = next(host for host in servers(stack) if host != chief)
    live = [host for host in servers(stack) if host != follower]
    on_host(follower, "docker", "stop", stack.container(follower, "consul"))
    try:
        registering_works(stack, through=live[0], seen_at=live[1])
        assert leader(stack, live) == chief, "a follower's loss must not change the leader"
    finally:
        on_host(follower, "docker", "start", stack.container(follower, "consul"))
    wait_whole(stack)


def test_a_stopped_leader_is_replaced_and_discovery_and_alerting_go_on(stack):
    chief = leader(stack, servers(stack))
    live = [host for host in servers(stack) if host != chief]
    stopped_at = time.time()
    on_host(chief, "docker", "stop", stack.container(chief, "consul"))
    started = time.monotonic()
    try:
        # The others report the old leader until they notice it is gone.
        successor = wait_for("a new leader", lambda: leader(stack, live), 30, interval=0.1,
                             until=lambda found: found not in ("", chief))
        elected = time.monotonic() - started
        note_figure(f"drill: leader {chief} stopped, {successor} elected in {elected:.2f} s")
        assert successor in live
        registering_works(stack, through=live[0], seen_at=live[1])
        # Alerting goes on: the stopped server's own alert reaches the webhook.
        paged = wait_for(f"ConsulServerDown for {chief} at the webhook", lambda: [
            alert for alert in alerts_since(stopped_at)
            if alert["labels"].get("alertname") == "ConsulServerDown" and alert["status"] == "firing"], 60)
        note_figure(f"drill: ConsulServerDown for the stopped leader reached the webhook ({len(paged)} notification(s))")
    finally:
        on_host(chief, "docker", "start", stack.container(chief, "consul"))
    wait_whole(stack)
    # Raft's election timeout at raft_multiplier 1 is 1 s; a few of them, and the time to notice, bound it.
    assert elected < 15, f"the new leader took {elected:.1f} s"


def test_a_rolling_restart_keeps_catalog_kv_and_tokens(stack):
    first = servers(stack)[0]
    key, value = "masa/drills/rolling-restart", uuid.uuid4().hex
    stack.consul(f"/v1/kv/{key}", host=first, method="PUT", body=value)

    def state() -> dict:
        return {
            "services": sorted(stack.consul("/v1/catalog/services", host=first)),
            "nodes": sorted(node["Node"] for node in stack.consul("/v1/catalog/nodes", host=first)),
            "tokens": sorted(token["AccessorID"] for token in stack.consul("/v1/acl/tokens", host=first)),
            "policies": sorted(policy["Name"] for policy in stack.consul("/v1/acl/policies", host=first)),
        }

    # A server just elected answers ACL reads with "legacy mode" (500) until it has seen every server's ACL support.
    before = wait_for("the catalog and the ACLs to answer", state, 30)
    for server in servers(stack):
        on_host(server, "docker", "restart", stack.container(server, "consul"))
        wait_whole(stack)
    after = wait_for("the catalog to hold every node and service again", state, 60, until=lambda now: now == before)
    assert after == before
    stored = stack.consul(f"/v1/kv/{key}?raw", host=first)
    assert stored == value, f"KV after the rolling restart: {stored!r}"
    note_figure(f"drill: rolling restart of {len(servers(stack))} servers kept {len(before['services'])} services, "
                f"{len(before['nodes'])} nodes, {len(before['tokens'])} tokens, {len(before['policies'])} policies and the KV key")


def test_the_server_drills_raised_no_false_alert(stack):
    # Long enough for an alert of the last drill to pass its `for` and Alertmanager's group wait.
    time.sleep(20)
    fired = [alert for alert in alerts_since(DRILLS_STARTED) if alert["status"] == "firing"]
    names = sorted({alert["labels"]["alertname"] for alert in fired})
    false = sorted({name for name in names if name not in EXPECTED_WHILE_A_SERVER_IS_DOWN})
    note_figure(f"drill: alerts fired during the server drills: {names or 'none'}; false: {false or 'none'}")
    assert not false, [alert for alert in fired if alert["labels"]["alertname"] in false]


def test_a_stopped_oracle_host_pages_and_resolves(stack):
    host = stack.oracle_nodes[0]
    stopped_at, started = time.time(), time.monotonic()

    def latest_about_the_host() -> dict:
        """alertname -> its latest status at the webhook, for the alerts about the host since it was stopped."""
        latest = {}
        for alert in alerts_since(stopped_at):
            if alert["labels"].get("node") == host and alert["labels"]["alertname"] != "Watchdog":
                latest[alert["labels"]["alertname"]] = alert["status"]
        return latest

    on_host(host, "systemctl", "stop", "docker.socket", "docker.service")
    try:
        paged = wait_for(f"an alert for {host} at the webhook", latest_about_the_host, 90, interval=0.2,
                         until=lambda latest: "firing" in latest.values())
        note_figure(f"drill: engine of {host} stopped: {sorted(paged)} at the webhook after "
                    f"{time.monotonic() - started:.1f} s")
        # A host whose agent leaves gracefully drops out of discovery at once: it may be missing before it is down.
        assert set(paged) <= {"OracleNodeDown", "OracleNodeMissing", "ConsulNodeUnhealthy"}, paged
    finally:
        on_host(host, "systemctl", "start", "docker.service")
    restarted = time.monotonic()

    # Every alert it raised resolves, the late ones included (an agent's failure is noticed after its scrapes
    # fail): none is pending or firing in Prometheus any more, and the webhook has the resolution of each.
    def settled() -> dict:
        active = [alert for alert in stack.prometheus("/api/v1/alerts")["data"]["alerts"]
                  if alert["labels"].get("node") == host]
        latest = latest_about_the_host()
        return latest if not active and latest and set(latest.values()) == {"resolved"} else {}
    resolved = wait_for(f"every alert about {host} to resolve", settled, 180, interval=0.5)
    note_figure(f"drill: engine of {host} started again: {sorted(resolved)} resolved at the webhook within "
                f"{time.monotonic() - restarted:.1f} s")
