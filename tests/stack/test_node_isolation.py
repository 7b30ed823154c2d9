"""A node speaks only for itself: with one node's certificate and token, another node's registration cannot be
rewritten, and a registration changed behind the SDK's back is repaired within one check period."""

from __future__ import annotations

import json
import subprocess
import time

from conftest import note_figure, wait_for

# Runs inside a node's SDK container, with that node's own Consul token and certificates: what an attacker who
# holds the node has. It prints the outcome as JSON.
AS_THE_NODE = """
import json, sys
from masa_analytics.consul import ConsulAgent, ConsulError, ConsulSettings
url, method, path, body = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
token = sys.argv[5] if len(sys.argv) > 5 else open("/etc/masa/consul.token").read().strip()
agent = ConsulAgent(ConsulSettings(url=url, token=token,
                                   ca="/etc/masa/tls/ca.crt", client_cert="/etc/masa/tls/consul.crt",
                                   client_key="/etc/masa/tls/consul.key", timeout=5))
try:
    print(json.dumps({"answer": agent.request(method, path, body)}))
except ConsulError as exc:
    print(json.dumps({"refused": type(exc).__name__, "message": str(exc)}))
"""


def as_the_node(stack, host: str, url: str, method: str, path: str, body=None, token: str = "") -> dict:
    """The request made from ``host`` with its oracle token, or another ``token`` the node holds."""
    sdk = stack.record(host, "oracle-node")["container"]
    result = subprocess.run(["docker", "exec", sdk, "python3", "-c", AS_THE_NODE, url, method, path, json.dumps(body)]
                            + ([token] if token else []), capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


def agent_token_of(stack, host: str) -> str:
    """The node's Consul agent token, which anyone holding the node can read from the agent's configuration."""
    secrets = subprocess.run(["docker", "exec", stack.container(host, "consul"), "cat", "/consul/config/conf.d/secrets.json"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(secrets)["acl"]["tokens"]["agent"]


def discovered(stack, service_id: str) -> tuple:
    """Prometheus's scrape targets, and the targets it discovered but dropped, for one Consul service instance."""
    targets = stack.prometheus("/api/v1/targets?state=any")["data"]

    def of_the_service(pool: str) -> list:
        return [target for target in targets[pool]
                if target["discoveredLabels"].get("__meta_consul_service_id") == service_id]
    return of_the_service("activeTargets"), of_the_service("droppedTargets")


def catalog_entry(stack, host: str) -> dict:
    service = stack.record(host, "oracle-node")["service_name"]
    return next(entry for entry in stack.consul(f"/v1/catalog/service/{service}") if entry["Node"] == host)


def pointed_elsewhere(entry: dict, address: str) -> dict:
    """The catalog entry's service, registered again at ``address`` with a TTL check that passes for an hour."""
    return {"ID": entry["ServiceID"], "Name": entry["ServiceName"], "Address": address,
            "Port": entry["ServicePort"], "Tags": entry["ServiceTags"], "Meta": entry["ServiceMeta"],
            "Check": {"CheckID": f"service:{entry['ServiceID']}", "TTL": "1h", "Status": "passing"}}


def test_one_node_cannot_rewrite_another_nodes_registration(stack):
    attacker, victim = stack.oracle_nodes[0], stack.oracle_nodes[1]
    hijack = pointed_elsewhere(catalog_entry(stack, victim), stack.address(attacker))

    # The victim's agent listens on its own loopback only.
    at_the_agent = as_the_node(stack, attacker, f"https://{stack.address(victim)}:8501", "PUT",
                               "/v1/agent/service/register", hijack)
    assert at_the_agent.get("refused") == "ConsulUnavailable", at_the_agent

    # A server's catalog wants node:write on the victim, which the attacker's token does not carry.
    server = stack.group("consul_servers")[0]
    at_the_catalog = as_the_node(stack, attacker, f"https://{stack.address(server)}:8501", "PUT", "/v1/catalog/register",
                                 {"Node": victim, "Address": stack.address(victim),
                                  "Service": {"ID": hijack["ID"], "Service": hijack["Name"], "Address": hijack["Address"],
                                              "Port": hijack["Port"]}})
    assert at_the_catalog.get("refused") == "ConsulPermissionDenied", at_the_catalog

    assert catalog_entry(stack, victim)["ServiceAddress"] == stack.address(victim)


def test_a_registration_changed_behind_the_sdks_back_is_repaired_within_one_check_period(stack):
    host, elsewhere = stack.oracle_nodes[1], stack.oracle_nodes[0]
    entry = catalog_entry(stack, host)
    rewritten = pointed_elsewhere(entry, stack.address(elsewhere))
    # With the node's own token, on its own agent: the one way left to change it.
    answer = as_the_node(stack, host, "https://127.0.0.1:8501", "PUT",
                         "/v1/agent/service/register?replace-existing-checks=true", rewritten)
    assert "refused" not in answer, answer
    changed, since = time.monotonic(), str(int(time.time()) - 1)
    sdk = stack.record(host, "oracle-node")["container"]

    def repaired_and_logged():
        logs = subprocess.run(["docker", "logs", "--since", since, sdk], capture_output=True, text=True,
                              check=True).stderr
        entry_now = catalog_entry(stack, host)
        return (f"registration of {entry['ServiceID']} changed" in logs
                and entry_now["ServiceAddress"] == stack.address(host))

    wait_for("the SDK to notice and register its own address again", repaired_and_logged, 10, interval=0.1)
    repaired = time.monotonic() - changed
    note_figure(f"registration rewritten behind the SDK's back: repaired in {repaired:.2f} s")
    checks = stack.consul(f"/v1/health/checks/{entry['ServiceName']}")
    ours = [check for check in checks if check["Node"] == host and check["ServiceID"] == entry["ServiceID"]]
    assert ours and all(check["Type"] == "http" for check in ours), ours
    # One check period (2 s) and the agent's sync to the servers.
    assert repaired < 4, f"repaired after {repaired:.1f} s"


def test_a_service_registered_for_another_host_is_never_scraped(stack):
    """A token that may write a service name works at any agent the node can reach, a server's included, and may
    name any address. Prometheus scrapes a service only at its own node's address, and the oracle only on the
    nodes the play made oracle nodes (node metadata only their own agents can write)."""
    attacker, victim = stack.oracle_nodes[0], stack.oracle_nodes[1]
    server = stack.group("consul_servers")[0]
    server_url = f"https://{stack.address(server)}:8501"
    oracle = catalog_entry(stack, attacker)
    node_exporter = next(entry for entry in stack.consul(f"/v1/catalog/service/{stack.record(attacker, 'node-exporter')['service_name']}")
                         if entry["Node"] == attacker)
    decoys = {
        "the oracle, on the server's agent, at the attacker's address":
            (pointed_elsewhere(oracle, stack.address(attacker)) | {"ID": "decoy-oracle"}, ""),
        "node-exporter, on the server's agent, at the victim's address, with the attacker's agent token":
            (pointed_elsewhere(node_exporter, stack.address(victim)) | {"ID": "decoy-node-exporter"},
             agent_token_of(stack, attacker)),
    }
    try:
        for name, (decoy, token) in decoys.items():
            answer = as_the_node(stack, attacker, server_url, "PUT", "/v1/agent/service/register", decoy, token=token)
            assert "refused" not in answer, f"{name}: {answer}"
        for name, (decoy, _token) in decoys.items():
            # Dropped, not missed: discovery saw it and the relabelling refused it.
            active, dropped = wait_for(f"Prometheus to discover {name}", lambda: discovered(stack, decoy["ID"]), 20,
                                       until=lambda found: found[0] or found[1])
            assert not active and dropped, f"{name} is scraped: {active}"
            assert dropped[0]["discoveredLabels"]["__meta_consul_node"] == server, dropped
    finally:
        for decoy, _token in decoys.values():
            stack.consul(f"/v1/agent/service/deregister/{decoy['ID']}", host=server, method="PUT")
