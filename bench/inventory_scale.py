"""The Consul inventory plugin at 10,000 nodes and 30,000 service instances, against a real Consul.

The plugin runs uncached, in turns, listing every service (the default) and watching one service
(`services: [masa-oracle]`), then cached with the default. In the same run it measures two baseline clients:
- consul_io.py's own requests, in its order, with the consul_io.ini it shipped with (bulk_load
  off; suffixes, kv_groups, kv_metadata and availability on): the node list, then per node its
  catalog entry, its two KV keys, and health/service for each of its services. This is the goal's
  baseline.
- for scale, the same information in two calls per node (catalog/node and health/node), which
  no old client did and which is kinder than any of them.
Goals: a fixed number of requests per datacenter (nodes, checks, and one per service), at most 1.5 s
uncached, at least 50x faster than the baseline.

Consul runs as a one-node server, not in dev mode: a dev agent pretty-prints every answer, which
no production agent does, and would more than double the listing.

    bench/inventory_scale.py [--nodes 10000] [--services-per-node 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import requests
import yaml

from _lab import image

REPO = Path(__file__).resolve().parents[1]
CONTAINER = "masa-bench-consul"
PORT = 18599
URL = f"http://127.0.0.1:{PORT}"
TXN_OPS = 64  # Consul's limit of operations per transaction
ROUNDS = 5
CONSUL_IMAGE = image("consul_image", "hashicorp/consul:1.21")


def start_consul() -> None:
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    subprocess.run(["docker", "run", "-d", "--name", CONTAINER, "-p", f"127.0.0.1:{PORT}:8500",
                    "--entrypoint", "/bin/consul", CONSUL_IMAGE, "agent", "-server", "-bootstrap-expect=1",
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
    gc.collect()  # earlier runs' garbage is no part of this one, as in a fresh ansible-inventory
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


class BaselineRun(NamedTuple):
    seconds: float
    requests: int
    hosts: int


# The KV paths of consul_io.ini as shipped next to consul_io.py (kv_groups, kv_metadata): one read each per node.
CONSUL_INI_KV_PATHS = ("ansible/groups", "ansible/metadata")


def run_consul_io() -> BaselineRun:
    """consul_io.py's requests as python-consul sends them, one keep-alive session, every answer decoded.

    It reads a node's services from catalog/node, keyed by service ID, and asks health/service for
    each key. Our fleet's IDs are unique per node (as the collection registers them), so each of those
    answers is empty; where an ID equals its service's name, each would list every instance instead."""
    session = requests.Session()
    started = time.monotonic()
    count = 2
    hosts = 0
    for datacenter in session.get(f"{URL}/v1/catalog/datacenters", timeout=30).json():
        for node in session.get(f"{URL}/v1/catalog/nodes", params={"dc": datacenter}, timeout=30).json():
            name = node["Node"]
            services = session.get(f"{URL}/v1/catalog/node/{name}", params={"dc": datacenter}, timeout=30).json()["Services"]
            for kv_path in CONSUL_INI_KV_PATHS:
                answer = session.get(f"{URL}/v1/kv/{kv_path}/{datacenter}/{name}", timeout=30)
                if answer.status_code != 404:
                    answer.json()
            for service_id in services:
                session.get(f"{URL}/v1/health/service/{service_id}", timeout=30).json()
            count += 1 + len(CONSUL_INI_KV_PATHS) + len(services)
            hosts += 1
    return BaselineRun(time.monotonic() - started, count, hosts)


def run_two_calls_per_node() -> BaselineRun:
    """The same information as the plugin's in two calls per node: the node list, then per node its services
    and its health."""
    session = requests.Session()
    started = time.monotonic()
    count = 1
    hosts = 0
    for node in session.get(f"{URL}/v1/catalog/nodes", timeout=30).json():
        name = node["Node"]
        session.get(f"{URL}/v1/catalog/node/{name}", timeout=30).json()
        session.get(f"{URL}/v1/health/node/{name}", timeout=30).json()
        count += 2
        hosts += 1
    return BaselineRun(time.monotonic() - started, count, hosts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--services-per-node", type=int, default=3, choices=range(1, 6))
    args = parser.parse_args()
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(REPO / ".collections")])
    settings = {"the default: every service": {}, "services: [masa-oracle]": {"services": ["masa-oracle"]}}
    default = next(iter(settings))
    start_consul()
    try:
        took = register(args.nodes, args.services_per_node)
        print(f"registered {args.nodes:,} nodes and {args.nodes * args.services_per_node:,} service instances "
              f"in a real Consul ({CONSUL_IMAGE}) in {took:.1f} s")
        with tempfile.TemporaryDirectory() as directory:
            configs = {}
            for number, (label, extra) in enumerate(settings.items()):
                config = Path(directory) / f"setting{number}.consul.yml"
                config.write_text(yaml.safe_dump({
                    "plugin": "masa.monitoring.consul", "url": URL, "datacenters": ["dc1"], "cache": True,
                    "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(Path(directory) / "cache"),
                    "cache_timeout": 3600, "timeout": 60, **extra,
                }))
                configs[label] = config
            # Round-robin, so that each setting meets the machine's slow minutes as often as the others.
            uncached = {label: [] for label in configs}
            for _round in range(ROUNDS):
                for label, config in configs.items():
                    uncached[label].append(run_plugin(config, cache=False))
            cached = [run_plugin(configs[default], cache=True) for _round in range(ROUNDS)]
            floor_seconds, memberships = min(ansible_floor(configs[default], uncached[default][0].inventory)
                                             for _round in range(ROUNDS))
        consul_io = run_consul_io()
        two_calls = run_two_calls_per_node()
        best_uncached = min(run.seconds for run in uncached[default])
        print(f"masa.monitoring.consul (best of {ROUNDS}, then the median):")
        for label, runs in uncached.items():
            print(f"  uncached  {min(run.seconds for run in runs):6.2f} s  {statistics.median(run.seconds for run in runs):6.2f} s   "
                  f"{runs[0].requests} request(s) for 1 datacenter ({label})   {runs[0].hosts:,} hosts, {runs[0].groups:,} groups")
        print(f"  cached    {min(run.seconds for run in cached):6.2f} s  {statistics.median(run.seconds for run in cached):6.2f} s   "
              f"{cached[0].requests} request(s)")
        print(f"ansible-core alone, adding the same hosts, variables and {memberships:,} group memberships "
              f"(best of {ROUNDS}): {floor_seconds:.2f} s")
        for title, run in (
            ("baseline: consul_io.py with its shipped consul_io.ini (per node: catalog/node, 2 KV reads, "
             "health/service per service)", consul_io),
            ("for scale: the same information in 2 calls per node (catalog/node, health/node)", two_calls),
        ):
            print(title)
            print(f"  uncached  {run.seconds:6.2f} s   {run.requests:,} requests   {run.hosts:,} hosts   "
                  f"plugin {run.seconds / best_uncached:.0f}x faster")
    finally:
        subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)


if __name__ == "__main__":
    main()
