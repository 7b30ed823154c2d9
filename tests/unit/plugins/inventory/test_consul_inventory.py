"""Unit tests of the consul inventory plugin: shaping Consul's answer, and its error paths.

Its behaviour against a real Consul is tested in tests/stack/test_inventory.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

from ansible.plugins.loader import inventory_loader
from ansible.template import Templar

try:  # ansible-core 2.19 and later render only text marked as a template
    from ansible.template import trust_as_template as as_template
except ImportError:
    def as_template(text):
        return text

from ansible_collections.masa.monitoring.plugins.inventory.consul import (InventoryModule, cache_entry, cached_records,
                                                                          datacenter_records, node_record)


def loaded_plugin():
    """The plugin as Ansible loads it, with its documented options registered."""
    return inventory_loader.get("masa.monitoring.consul")


NODES = [
    {"Node": "node1", "Address": "10.0.0.11", "Meta": {"role": "oracle"},
     "Services": [{"ID": "oracle-1", "Service": "masa-oracle", "Tags": ["prometheus"], "Port": 9200,
                   "Meta": {"version": "1.2.0"}, "Address": ""}],
     "Checks": [{"CheckID": "serfHealth", "Status": "passing", "ServiceID": ""},
                {"CheckID": "service:oracle-1", "Status": "critical", "ServiceID": "oracle-1"}]},
    {"Node": "node2", "Address": "10.0.0.12", "Meta": {},
     "Services": [], "Checks": [{"CheckID": "serfHealth", "Status": "passing", "ServiceID": ""}]},
]


def health_of(*statuses, service_statuses=()):
    """The record of a node with these node-level and service-level check statuses."""
    checks = [{"CheckID": f"node-{i}", "Status": status, "ServiceID": ""} for i, status in enumerate(statuses)]
    checks += [{"CheckID": f"svc-{i}", "Status": status, "ServiceID": "svc"} for i, status in enumerate(service_statuses)]
    record = node_record("dc1", {"Node": "n", "Address": "10.0.0.1", "Checks": checks,
                                 "Services": [{"ID": "svc", "Service": "s", "Tags": ["b", "a"], "Port": 1}]})
    return record["health"], record["services"]["s"]["health"]


def test_the_worst_check_sets_the_health():
    assert health_of("passing", "warning") == ("warning", "warning")
    assert health_of("passing", "critical", "warning") == ("critical", "critical")
    assert health_of() == ("passing", "passing")
    assert health_of("passing", service_statuses=["warning"]) == ("warning", "warning")


def test_instances_of_one_service_share_an_entry():
    node = {"Node": "n", "Address": "10.0.0.1", "Checks": [{"Status": "critical", "ServiceID": "b"}],
            "Services": [{"ID": "a", "Service": "s", "Tags": ["x", "y"], "Port": 1, "Address": "10.0.0.9"},
                         {"ID": "b", "Service": "s", "Tags": ["y", "z"], "Port": 2}]}
    entry = node_record("dc1", node)["services"]["s"]
    assert entry["tags"] == ["x", "y", "z"]
    assert entry["health"] == "critical"
    assert [(i["id"], i["address"], i["port"], i["health"]) for i in entry["instances"]] == [
        ("a", "10.0.0.9", 1, "passing"), ("b", "10.0.0.1", 2, "critical")]


def answers(nodes):
    """What Consul's documented endpoints answer for these nodes: /v1/catalog/nodes,
    /v1/health/state/any and /v1/catalog/service/<name> for each service."""
    services = {}
    for node in nodes:
        for service in node["Services"]:
            services.setdefault(service["Service"], []).append({
                "Node": node["Node"], "Address": node["Address"], "ServiceID": service["ID"],
                "ServiceName": service["Service"], "ServiceTags": service["Tags"], "ServicePort": service["Port"],
                "ServiceMeta": service.get("Meta") or {}, "ServiceAddress": service.get("Address", "")})
    return {"nodes": json.dumps([{"Node": n["Node"], "Address": n["Address"], "Meta": n["Meta"]} for n in nodes]),
            "checks": json.dumps([dict(check, Node=n["Node"]) for n in nodes for check in n["Checks"]]),
            "services": dict((name, json.dumps(instances)) for name, instances in services.items())}


def test_the_documented_answers_join_into_one_record_per_node():
    texts = answers(NODES)
    joined = datacenter_records("dc1", json.loads(texts["nodes"]), json.loads(texts["checks"]),
                                [json.loads(text) for text in texts["services"].values()])
    assert joined == records(NODES)["dc1"]


def test_a_check_or_instance_of_a_node_that_left_meanwhile_is_dropped():
    texts = answers(NODES)
    joined = datacenter_records("dc1", json.loads(texts["nodes"])[1:], json.loads(texts["checks"]),
                                [json.loads(text) for text in texts["services"].values()])
    assert [record["name"] for record in joined] == ["node2"]


def test_the_cache_round_trips_and_ignores_other_formats():
    assert cached_records(cache_entry({"dc1": answers(NODES)})) == records(NODES)
    assert cached_records({"format": 2, "datacenters": records(NODES)}) is None
    assert cached_records(None) is None
    assert cached_records({"format": 4, "listings": {"dc1": [json.dumps(NODES)]}}) is None
    assert cached_records({"format": 5, "listings": {"dc1": {"nodes": "not base64!"}}}) is None
    entry = cache_entry({"dc1": answers(NODES)})
    entry["listings"]["dc1"]["checks"] = entry["listings"]["dc1"]["checks"][:-8]
    assert cached_records(entry) is None


def test_the_cache_is_compressed():
    texts = answers(NODES * 500)
    size = len(texts["nodes"]) + len(texts["checks"]) + sum(len(text) for text in texts["services"].values())
    assert len(json.dumps(cache_entry({"dc1": texts}))) < size / 10


def records(nodes):
    return {"dc1": [node_record("dc1", node) for node in nodes]}


def plugin_with(options):
    plugin = InventoryModule()
    plugin.inventory = InventoryData()
    defaults = {"health": ["passing", "warning", "critical"], "services": [], "ansible_host_meta_key": None,
                "group_prefixes": {"service": "service_", "tag": "tag_", "datacenter": "dc_", "health": "health_"},
                "strict": False, "compose": {}, "groups": {}, "keyed_groups": [], "leading_separator": True,
                "use_extra_vars": False}
    defaults.update(options)
    plugin.get_option = defaults.get
    return plugin


def test_groups_and_host_vars_from_one_listing():
    plugin = plugin_with({})
    plugin._populate(records(NODES))
    groups = plugin.inventory.groups
    assert {h.name for h in groups["service_masa_oracle"].get_hosts()} == {"node1"}
    assert {h.name for h in groups["health_critical"].get_hosts()} == {"node1"}
    assert {h.name for h in groups["health_passing"].get_hosts()} == {"node2"}
    assert {h.name for h in groups["dc_dc1"].get_hosts()} == {"node1", "node2"}
    assert "tag_prometheus" in groups
    node1 = plugin.inventory.get_host("node1").vars
    assert node1["ansible_host"] == "10.0.0.11"
    assert node1["consul"]["services"]["masa-oracle"]["instances"][0]["address"] == "10.0.0.11"
    assert node1["consul"]["services"]["masa-oracle"]["health"] == "critical"


def test_filters_by_health_and_service():
    plugin = plugin_with({"health": ["passing"]})
    plugin._populate(records(NODES))
    assert set(plugin.inventory.hosts) == {"node2"}
    plugin = plugin_with({"services": ["masa-oracle"]})
    plugin._populate(records(NODES))
    assert set(plugin.inventory.hosts) == {"node1"}


def test_ansible_host_from_a_meta_key():
    nodes = [dict(NODES[1], Meta={"public_ip": "203.0.113.7"})]
    plugin = plugin_with({"ansible_host_meta_key": "public_ip"})
    plugin._populate(records(nodes))
    assert plugin.inventory.get_host("node2").vars["ansible_host"] == "203.0.113.7"


def test_verify_file_accepts_only_its_suffix(tmp_path):
    mine, other = tmp_path / "fleet.consul.yml", tmp_path / "hosts.yml"
    mine.write_text("plugin: masa.monitoring.consul\n")
    other.write_text("all: {}\n")
    plugin = InventoryModule()
    assert plugin.verify_file(str(mine))
    assert not plugin.verify_file(str(other))


class Forbidden(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(403)
        self.end_headers()
        self.wfile.write(b"Permission denied")

    def log_message(self, *_args):
        pass


def parse(tmp_path, config, cache_dir=None):
    path = tmp_path / "t.consul.yml"
    settings = {"plugin": "masa.monitoring.consul", "datacenters": ["dc1"], "timeout": 2, **config}
    if cache_dir:
        settings.update(cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    path.write_text(json.dumps(settings))
    plugin = loaded_plugin()
    plugin.parse(InventoryData(), DataLoader(), str(path), cache=True)
    return plugin


def test_forbidden_names_the_missing_permission(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Forbidden)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(AnsibleParserError, match="needs node:read and service:read"):
            parse(tmp_path, {"url": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()


def test_unreachable_names_the_address(tmp_path):
    with pytest.raises(AnsibleParserError, match=r"Consul at http://127.0.0.1:1 is unreachable"):
        parse(tmp_path, {"url": "http://127.0.0.1:1"})


def test_malformed_config_is_named(tmp_path):
    with pytest.raises(AnsibleParserError, match="not a valid masa.monitoring.consul configuration"):
        parse(tmp_path, {"url": "http://127.0.0.1:1", "health": "sometimes"})


def served_from_cache(tmp_path, nodes, **config):
    """The inventory parsed with Consul unreachable, from a cache that holds Consul's listing of these nodes."""
    cache_dir = tmp_path / "cache"
    plugin = loaded_plugin()
    path = tmp_path / "t.consul.yml"
    path.write_text(json.dumps({"plugin": "masa.monitoring.consul", "datacenters": ["dc1"], "url": "http://127.0.0.1:1",
                                "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                "cache_connection": str(cache_dir), "timeout": 1}))
    plugin.loader = DataLoader()
    plugin._read_config_data(str(path))
    plugin._cache[plugin.get_cache_key(str(path))] = cache_entry({"dc1": answers(nodes)})
    plugin.set_cache_plugin()
    return parse(tmp_path, {"url": "http://127.0.0.1:1", **config}, cache_dir=cache_dir).inventory


def test_cache_serves_when_consul_is_unreachable(tmp_path):
    assert set(served_from_cache(tmp_path, NODES).hosts) == {"node1", "node2"}


def test_template_markers_from_consul_are_never_rendered(tmp_path):
    nodes = [dict(NODES[1], Meta={"note": "{{ 6 * 7 }}"})]
    inventory = served_from_cache(tmp_path, nodes, compose={"note": "consul.node_meta.note"})
    host_vars = inventory.get_host("node2").get_vars()
    templar = Templar(loader=DataLoader(), variables=host_vars)
    assert templar.template(as_template("{{ consul.node_meta.note }}")) == "{{ 6 * 7 }}"
    assert templar.template(as_template("{{ note }}")) == "{{ 6 * 7 }}"
    assert templar.template(as_template("{{ 6 * 7 }}")) == 42  # the same text, written by us, is rendered
