"""The masa.monitoring.consul inventory plugin against the stack's real Consul."""

from __future__ import annotations

import json

import pytest
import yaml
from masa_stack import plain

from conftest import run_ansible, wait_for


def write_config(stack, tmp_path, **extra):
    cert, key = stack.operator_cert
    token = tmp_path / "token"
    token.write_text(stack.consul_token("operator-read"))
    config = {"plugin": "masa.monitoring.consul", "url": f"https://{stack.address(stack.monitor)}:8501",
              "ca_cert": str(stack.ca), "client_cert": str(cert), "client_key": str(key),
              "token_file": str(token), **extra}
    path = tmp_path / "stack.consul.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def inventory(path):
    result = run_ansible("ansible-inventory", "-i", str(path), "--list")
    assert result.returncode == 0, result.stderr
    return plain(json.loads(result.stdout))


def members(listing, group):
    return set(listing.get(group, {}).get("hosts", []))


def test_every_node_in_the_right_groups_with_host_vars(stack, tmp_path):
    listing = inventory(write_config(stack, tmp_path))
    assert members(listing, "service_masa_oracle") == set(stack.oracle_nodes)
    assert members(listing, "service_node_exporter") == set(stack.all_hosts)
    assert members(listing, "service_consul") == {stack.monitor}
    assert members(listing, "dc_dc1") == set(stack.all_hosts)
    assert members(listing, "tag_prometheus") == set(stack.all_hosts)
    node = stack.oracle_nodes[0]
    hostvars = listing["_meta"]["hostvars"][node]
    assert hostvars["ansible_host"] == stack.address(node)
    oracle = hostvars["consul"]["services"]["masa-oracle"]
    assert oracle["tags"] == ["prometheus"]
    assert oracle["meta"]["node_id"] == node
    assert oracle["instances"][0]["port"] == 9200


def test_service_filter_keeps_only_those_nodes(stack, tmp_path):
    listing = inventory(write_config(stack, tmp_path, services=["masa-oracle"]))
    hosts = set(listing["_meta"]["hostvars"])
    assert hosts == set(stack.oracle_nodes)


def test_health_groups_follow_a_failing_check(stack, tmp_path):
    # A server's agent: the others listen on their own host's loopback only.
    node = stack.group("consul_servers")[0]
    definition = {"ID": "it-inventory-ttl", "Name": "it-inventory", "Check": {"TTL": "60s", "Status": "critical"}}
    stack.consul("/v1/agent/service/register", host=node, method="PUT", body=definition)
    try:
        path = write_config(stack, tmp_path)
        listing = wait_for("the node in health_critical", lambda: inventory(path), 20,
                           until=lambda got: node in members(got, "health_critical"))
        assert node not in members(listing, "health_passing")
        only_passing = inventory(write_config(stack, tmp_path, health=["passing"]))
        assert node not in only_passing["_meta"]["hostvars"]
    finally:
        stack.consul("/v1/agent/service/deregister/it-inventory-ttl", host=node, method="PUT")
    wait_for("the node back in health_passing",
             lambda: node in members(inventory(write_config(stack, tmp_path)), "health_passing"), 20)


def test_keyed_groups_from_node_meta(stack, tmp_path):
    # A node registered in the catalog alone, as external services are: no agent syncs its meta away.
    stack.consul("/v1/catalog/register", method="PUT",
                 body={"Node": "it-external", "Address": "192.0.2.10", "NodeMeta": {"role": "external"}})
    try:
        listing = inventory(write_config(stack, tmp_path, keyed_groups=[
            {"key": "consul.node_meta.role | default('none')", "prefix": "role"}]))
    finally:
        stack.consul("/v1/catalog/deregister", method="PUT", body={"Node": "it-external"})
    assert members(listing, "role_external") == {"it-external"}
    assert members(listing, "role_none") == set(stack.all_hosts)
    assert listing["_meta"]["hostvars"]["it-external"]["consul"]["node_meta"] == {"role": "external"}


@pytest.mark.parametrize("services", [[], ["masa-oracle", "node-exporter"]], ids=["every service", "two watched"])
def test_requests_per_datacenter_are_fixed_and_documented(stack, tmp_path, services):
    """Nodes, checks, and one request per service (plus the service list when none is named): no
    more for more nodes."""
    path = write_config(stack, tmp_path, datacenters=["dc1"], services=services)
    listing = tmp_path / "list.json"
    result = run_ansible("ansible-inventory", "-vvv", "-i", str(path), "--list", "--output", str(listing))
    assert result.returncode == 0, result.stderr
    in_catalog = stack.consul("/v1/catalog/services")
    expected = 2 + (len(services) if services else 1 + len(in_catalog))
    address = stack.address(stack.monitor)
    assert f"{expected} request(s) to https://{address}:8501 for 1 datacenter(s), {len(stack.all_hosts)} node(s)" \
        in result.stdout + result.stderr
    assert sorted(json.loads(listing.read_text())["_meta"]["hostvars"]) == stack.all_hosts


def test_graph_and_an_ad_hoc_ping_through_the_plugin(stack, tmp_path):
    # The stack's hosts are containers named after their Consul nodes, as in inventory/consul.yml.
    path = write_config(stack, tmp_path, compose={"ansible_connection": "'community.docker.docker'",
                                                  "ansible_host": "inventory_hostname",
                                                  "ansible_python_interpreter": "'/usr/bin/python3'"})
    graph = run_ansible("ansible-inventory", "-i", str(path), "--graph", "service_masa_oracle")
    assert graph.returncode == 0, graph.stderr
    assert sorted(line.strip(" |-") for line in graph.stdout.splitlines()[1:]) == stack.oracle_nodes
    ping = run_ansible("ansible", "-i", str(path), "service_masa_oracle", "-m", "ansible.builtin.ping", "-o",
                       timeout=120)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert sorted(line.split(" | ")[0] for line in ping.stdout.splitlines() if " | SUCCESS" in line) == stack.oracle_nodes


def test_a_token_without_read_names_the_permission(stack, tmp_path):
    path = write_config(stack, tmp_path, token="00000000-0000-0000-0000-000000000000")
    result = run_ansible("ansible-inventory", "-i", str(path), "--list")
    assert "node:read" in result.stderr or "ACL not found" in result.stderr, result.stderr
