"""The Consul inventory plugin at 10,000 nodes and 30,000 service instances, against a real Consul.

In the same run it measures a baseline client that reproduces the old consul_io.py access
pattern: one catalog listing, then per node its services and its health.
Goals: at most 3 requests per datacenter, at most 1.5 s uncached, at least 50x faster than the baseline.

Consul runs as a one-node server, not in dev mode: a dev agent pretty-prints every answer, which
no production agent does, and would more than double the listing.

    bench/inventory_scale.py [--nodes 10000] [--services-per-node 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
CONTAINER = "masa-bench-consul"
PORT = 18599
URL = f"http://127.0.0.1:{PORT}"
TXN_OPS = 64  # Consul's limit of operations per transaction
ROUNDS = 5


def consul_image() -> str:
    chosen = REPO / "inventory/local/group_vars/all/zz_images.yml"
    return yaml.safe_load(chosen.read_text())["consul_image"] if chosen.exists() else "hashicorp/consul:1.21"


def start_consul() -> None:
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    subprocess.run(["docker", "run", "-d", "--name", CONTAINER, "-p", f"127.0.0.1:{PORT}:8500",
                    "--entrypoint", "/bin/consul", consul_image(), "agent", "-server", "-bootstrap-expect=1",
                    "-data-dir=/tmp/consul", "-bind=127.0.0.1", "-client=0.0.0.0", "-log-level=warn"],
                   check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{URL}/v1/status/leader", timeout=1).json():
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("the benchmark's Consul did not elect a leader within 60 s")


def register(nodes: int, per_node: int) -> float:
    services = ["masa-oracle", "node-exporter", "consul-agent", "validator", "relay"][:per_node]
    operations = []
    for n in range(nodes):
        name = f"oracle-{n:05d}"
        address = f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}"
        node = {"Node": name, "Address": address, "Meta": {"role": "oracle", "zone": f"z{n % 3}"}}
        # Not serfHealth: the leader reaps catalog nodes with that check but no agent in the gossip pool.
        check = {"Node": name, "CheckID": "node-health", "Name": "Node health",
                 "Status": "critical" if n % 97 == 0 else "passing"}
        operations.append({"Node": {"Verb": "set", "Node": node}})
        operations.append({"Check": {"Verb": "set", "Check": check}})
        for i, service in enumerate(services):
            operations.append({"Service": {"Verb": "set", "Node": name, "Service": {
                "ID": f"{service}-{n}", "Service": service, "Port": 9200 + i, "Tags": ["prometheus", f"v{n % 4}"],
                "Meta": {"version": f"1.{n % 4}.0", "node_id": name}}}})
    started = time.monotonic()
    session = requests.Session()
    for start in range(0, len(operations), TXN_OPS):
        response = session.put(f"{URL}/v1/txn", data=json.dumps(operations[start:start + TXN_OPS]), timeout=30)
        response.raise_for_status()
    return time.monotonic() - started


class PluginRun(NamedTuple):
    seconds: float
    requests: int
    hosts: int
    groups: int
    inventory: Any


def run_plugin(config: Path, cache: bool) -> PluginRun:
    """One parse, as ansible-inventory runs it (including writing the cache afterwards)."""
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get("masa.monitoring.consul")
    inventory = InventoryData()
    # As InventoryManager sets it: each new host then records its inventory file and folder.
    inventory.current_source = str(config)
    started = time.monotonic()
    plugin.parse(inventory, DataLoader(), str(config), cache=cache)
    elapsed = time.monotonic() - started
    plugin.update_cache_if_changed()
    return PluginRun(elapsed, plugin.requests, len(inventory.hosts), len(inventory.groups), inventory)


def ansible_floor(config: Path, built) -> tuple:
    """ansible-core alone holding the same inventory: the plugin's hosts, variables and group memberships
    added again to an empty one, with no Consul, no decoding and no plugin code (and, as the plugin does,
    without the cycle collector)."""
    from ansible.inventory.data import InventoryData
    from ansible_collections.masa.monitoring.plugins.inventory.consul import garbage_collection_paused

    hosts = [(host.name, {name: host.vars[name] for name in ("ansible_host", "consul")},
              [group.name for group in host.groups if group.name != "all"]) for host in built.hosts.values()]
    inventory = InventoryData()
    inventory.current_source = str(config)
    groups = {name: inventory.groups[inventory.add_group(name)] for name in built.groups if name != "all"}
    with garbage_collection_paused():
        started = time.monotonic()
        for name, variables, memberships in hosts:
            host = inventory.hosts[inventory.add_host(name)]
            for variable, value in variables.items():
                host.set_variable(variable, value)
            for group in memberships:
                groups[group].add_host(host)
        elapsed = time.monotonic() - started
    return elapsed, sum(len(memberships) for _name, _vars, memberships in hosts)


def run_baseline() -> tuple:
    """The old consul_io.py pattern: the node list, then two calls per node."""
    session = requests.Session()
    started = time.monotonic()
    count = 1
    hosts = {}
    for node in session.get(f"{URL}/v1/catalog/nodes", timeout=30).json():
        name = node["Node"]
        services = session.get(f"{URL}/v1/catalog/node/{name}", timeout=30).json()
        checks = session.get(f"{URL}/v1/health/node/{name}", timeout=30).json()
        count += 2
        hosts[name] = (services, checks)
    return time.monotonic() - started, count, len(hosts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--services-per-node", type=int, default=3, choices=range(1, 6))
    args = parser.parse_args()
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(REPO / ".collections")])
    start_consul()
    try:
        took = register(args.nodes, args.services_per_node)
        print(f"registered {args.nodes:,} nodes and {args.nodes * args.services_per_node:,} service instances "
              f"in a real Consul ({consul_image()}) in {took:.1f} s")
        with tempfile.TemporaryDirectory() as directory:
            config = Path(directory) / "bench.consul.yml"
            config.write_text(yaml.safe_dump({
                "plugin": "masa.monitoring.consul", "url": URL, "datacenters": ["dc1"], "cache": True,
                "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(Path(directory) / "cache"),
                "cache_timeout": 3600, "timeout": 60,
            }))
            uncached = [run_plugin(config, cache=False) for _round in range(ROUNDS)]
            cached = [run_plugin(config, cache=True) for _round in range(ROUNDS)]
            floor_seconds, memberships = min(ansible_floor(config, uncached[0].inventory) for _round in range(ROUNDS))
        baseline_seconds, baseline_requests, baseline_hosts = run_baseline()
        best_uncached = min(run.seconds for run in uncached)
        print(f"masa.monitoring.consul (best of {ROUNDS}):")
        print(f"  uncached  {best_uncached:6.2f} s   {uncached[0].requests} request(s) for 1 datacenter   "
              f"{uncached[0].hosts:,} hosts, {uncached[0].groups:,} groups")
        print(f"  cached    {min(run.seconds for run in cached):6.2f} s   {cached[0].requests} request(s)")
        print(f"ansible-core alone, adding the same hosts, variables and {memberships:,} group memberships "
              f"(best of {ROUNDS}): {floor_seconds:.2f} s")
        print("baseline (consul_io.py pattern: node list, then services and health per node):")
        print(f"  uncached  {baseline_seconds:6.2f} s   {baseline_requests:,} requests   {baseline_hosts:,} hosts")
        print(f"speed-up: {baseline_seconds / best_uncached:.0f}x uncached")
    finally:
        subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)


if __name__ == "__main__":
    main()
