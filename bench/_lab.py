"""A throwaway Docker lab for the latency benchmarks: real Consul, Prometheus, Alertmanager and SDK nodes.

Each monitoring profile ("ours", "stock") gets a sandbox container whose network namespace its
Consul dev agent, Prometheus and Alertmanager share, as the local deployment does. Prometheus and
Alertmanager run the configuration rendered from the roles' own templates and defaults, so the
benchmarks measure what site.yml deploys; a profile only overrides timing variables.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import requests
import yaml

from _certs import make_pki

REPO = Path(__file__).resolve().parents[1]
NETWORK = "masa-bench"
SUBNET = "172.28.0.0/24"
GATEWAY = "172.28.0.1"
LAB_ADDRESSES = [f"172.28.0.{i}" for i in range(2, 120)]
CONTAINER_USER = "65534:65534"
PROMETHEUS_HOME = "/etc/prometheus"
ALERTMANAGER_HOME = "/etc/alertmanager"
ROLE_VARIABLE_FILES = {
    "prometheus": ["roles/docker_host/defaults/main.yml", "roles/prometheus/defaults/main.yml",
                   "roles/prometheus/vars/main.yml"],
    "alertmanager": ["roles/docker_host/defaults/main.yml", "roles/alertmanager/defaults/main.yml",
                     "roles/alertmanager/vars/main.yml"],
}


def image(variable: str, official: str) -> str:
    chosen = REPO / ".state/images.yml"
    return yaml.safe_load(chosen.read_text()).get(variable, official) if chosen.exists() else official


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and result.returncode:
        raise SystemExit(f"docker {' '.join(args[:3])} ... failed: {result.stderr.strip()}")
    return result.stdout.strip()


# The original request's Prometheus timings; every other setting stays ours.
STOCK_PROMETHEUS = {"prometheus_scrape_interval": "15s", "prometheus_scrape_timeout": "10s",
                    "prometheus_evaluation_interval": "15s", "prometheus_consul_refresh_interval": "30s"}


def seconds(duration: str) -> float:
    """A Prometheus or Consul duration ("1s", "5m") in seconds, read as the collection reads it."""
    load_collection()
    from ansible_collections.masa.monitoring.plugins.module_utils._consul import duration_seconds

    return duration_seconds(duration)


def percentile(values: List[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else float("nan")


def role_defaults(role: str) -> dict:
    return yaml.safe_load((REPO / f"roles/{role}/defaults/main.yml").read_text())


_loader_ready: List[bool] = []


def load_collection() -> None:
    """Make masa.monitoring (the checkout, through .collections) and its dependencies importable."""
    if not _loader_ready:
        from ansible.plugins.loader import init_plugin_loader

        init_plugin_loader([str(REPO / ".collections")])
        _loader_ready.append(True)


def common_include_vars(role: str, tasks_from: str) -> dict:
    """The variables ``role`` passes to masa.monitoring.common's ``tasks_from`` entry point."""
    tasks = yaml.safe_load((REPO / f"roles/{role}/tasks/main.yml").read_text())
    return next(task["vars"] for task in tasks
                if task.get("ansible.builtin.include_role", {}).get("tasks_from") == tasks_from)


def render(role: str, template: str, address: str, overrides: dict, common_entry: Optional[str] = None) -> str:
    """A role template rendered by Ansible (bench/render.yml) with the role's defaults and vars, as
    the role would render it for a monitoring host at ``address``. With ``common_entry``, the
    template is roles/common's, with what the role passes to that entry point."""
    var_files = [str(REPO / path) for path in ROLE_VARIABLE_FILES[role]]
    source = REPO / f"roles/{role}/templates/{template}"
    if common_entry:
        var_files.append(str(REPO / "roles/common/defaults/main.yml"))
        source = REPO / f"roles/common/templates/{template}"
        overrides = dict(common_include_vars(role, common_entry), **overrides)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        inventory = {"all": {"hosts": {"bench": {"ansible_connection": "local"}},
                             "children": {"monitoring": {"hosts": {"bench": None}},
                                          "consul_servers": {"hosts": {"bench": None}}}}}
        (folder / "inventory.yml").write_text(yaml.safe_dump(inventory))
        # Extra vars, because include_vars would outrank inventory variables as role defaults never do.
        settings = dict(overrides, docker_host_address=address, bench_var_files=var_files, bench_template=str(source),
                        bench_dest=str(folder / "rendered"), ansible_managed="masa.monitoring benchmark")
        (folder / "settings.json").write_text(json.dumps(settings))
        result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(folder / "inventory.yml"),
                                 "-e", f"@{folder / 'settings.json'}", str(REPO / "bench/render.yml")],
                                capture_output=True, text=True, check=False, cwd=REPO,
                                env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
        if result.returncode:
            raise SystemExit(f"rendering roles/{role}/templates/{template} failed:\n{result.stdout[-2000:]}")
        return (folder / "rendered").read_text()


class Lab:
    """Containers on a private network, removed on exit even when the benchmark fails."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="masa-bench-"))
        self.containers: List[str] = []
        self.pki = make_pki(self.workdir / "pki", LAB_ADDRESSES)
        for path in self.pki.values():
            os.chown(path, 65534, 65534)

    def __enter__(self) -> "Lab":
        self.close()
        docker("network", "create", "--subnet", SUBNET, "--gateway", GATEWAY, NETWORK)
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        names = docker("ps", "-aq", "--filter", f"label=io.masa.bench={NETWORK}", check=False).split()
        if names:
            docker("rm", "-f", *names, check=False)
        docker("network", "rm", NETWORK, check=False)
        self.containers.clear()

    def run(self, name: str, *args: str) -> str:
        docker("rm", "-f", name, check=False)
        docker("run", "-d", "--name", name, "--label", f"io.masa.bench={NETWORK}", *args)
        if name not in self.containers:
            self.containers.append(name)
        return name

    def remove(self, *names: str) -> None:
        docker("rm", "-f", *names, check=False)

    def tls_mounts(self, home: str, cert_name: str) -> List[str]:
        return ["-v", f"{self.pki['ca']}:{home}/tls/ca.crt:ro",
                "-v", f"{self.pki['cert']}:{home}/tls/{cert_name}.crt:ro",
                "-v", f"{self.pki['key']}:{home}/tls/{cert_name}.key:ro"]

    def sandbox(self, name: str, address: str, published: Dict[int, int]) -> str:
        ports = [arg for host, inside in published.items() for arg in ("-p", f"127.0.0.1:{host}:{inside}")]
        return self.run(name, "--network", NETWORK, "--ip", address, *ports, "--entrypoint", "sleep",
                        image("docker_host_sandbox_image", "debian:bookworm-slim"), "infinity")

    def consul(self, sandbox: str) -> str:
        """A dev agent with our TLS rules on its HTTPS port: our CA, client certificates required."""
        settings = [
            "ports { https = 8501 }", "ca_file = \"/consul/tls/ca.crt\"", "cert_file = \"/consul/tls/node.crt\"",
            "key_file = \"/consul/tls/node.key\"", "verify_incoming_https = true",
        ]
        return self.run(f"{sandbox}-consul", "--network", f"container:{sandbox}", "--user", CONTAINER_USER,
                        *self.tls_mounts("/consul", "node"), "--entrypoint", "/bin/consul",
                        image("consul_image", "hashicorp/consul:1.21"), "agent", "-dev", "-client=0.0.0.0",
                        "-log-level=warn", *[arg for hcl in settings for arg in ("-hcl", hcl)])

    def prometheus(self, sandbox: str, config: str, rules: Dict[str, str], flags: List[str]) -> str:
        home = self.workdir / sandbox / "prometheus"
        (home / "rules").mkdir(parents=True, exist_ok=True)
        (home / "prometheus.yml").write_text(config)
        for name, text in rules.items():
            (home / "rules" / name).write_text(text)
        return self.run(f"{sandbox}-prometheus", "--network", f"container:{sandbox}", "--user", CONTAINER_USER,
                        "-v", f"{home / 'prometheus.yml'}:{PROMETHEUS_HOME}/prometheus.yml:ro",
                        "-v", f"{home / 'rules'}:{PROMETHEUS_HOME}/rules:ro",
                        *self.tls_mounts(PROMETHEUS_HOME, "prometheus-client"),
                        "--tmpfs", "/prometheus:uid=65534", "--entrypoint", "/bin/prometheus",
                        image("prometheus_image", role_defaults("prometheus")["prometheus_image"]),
                        f"--config.file={PROMETHEUS_HOME}/prometheus.yml", "--storage.tsdb.path=/prometheus", *flags)

    def alertmanager(self, sandbox: str, config: str, web_config: str) -> str:
        home = self.workdir / sandbox / "alertmanager"
        home.mkdir(parents=True, exist_ok=True)
        (home / "alertmanager.yml").write_text(config)
        (home / "web.yml").write_text(web_config)
        return self.run(f"{sandbox}-alertmanager", "--network", f"container:{sandbox}", "--user", CONTAINER_USER,
                        "-v", f"{home / 'alertmanager.yml'}:{ALERTMANAGER_HOME}/alertmanager.yml:ro",
                        "-v", f"{home / 'web.yml'}:{ALERTMANAGER_HOME}/web.yml:ro",
                        *self.tls_mounts(ALERTMANAGER_HOME, "host"),
                        "--tmpfs", "/alertmanager:uid=65534", "--entrypoint", "/bin/alertmanager",
                        image("alertmanager_image", role_defaults("alertmanager")["alertmanager_image"]),
                        f"--config.file={ALERTMANAGER_HOME}/alertmanager.yml", "--storage.path=/alertmanager",
                        f"--web.config.file={ALERTMANAGER_HOME}/web.yml", "--cluster.listen-address=")

    def monitor(self, name: str, address: str, consul_port: int, prometheus_port: int, prometheus_vars: dict,
                rules: Dict[str, str], alertmanager_vars: Optional[dict] = None) -> "PrometheusAPI":
        """A monitoring host as the roles deploy it: Consul, Alertmanager when asked for, then Prometheus.
        ``prometheus_vars`` are role variables, and "flags" more Prometheus flags, space-separated."""
        sandbox = self.sandbox(name, address, {consul_port: 8500, prometheus_port: 9090})
        self.consul(sandbox)
        ConsulCatalog(consul_port).wait_for_leader()
        if alertmanager_vars is not None:
            self.alertmanager(sandbox, render("alertmanager", "alertmanager.yml.j2", address, alertmanager_vars),
                              render("alertmanager", "web.yml.j2", address, {}, common_entry="web_config"))
        self.prometheus(sandbox, render("prometheus", "prometheus.yml.j2", address, prometheus_vars), rules,
                        prometheus_vars.get("flags", "").split())
        prometheus = PrometheusAPI(prometheus_port)
        prometheus.wait_ready()
        return prometheus

    def sdk_process(self, name: str, node: str, address: str, metrics_port: int, network: List[str],
                    *command: str) -> str:
        """A process of the SDK's image serving ``node``'s endpoint; the benchmark registers it itself."""
        tls = "/etc/masa/tls"
        return self.run(name, *network, "--user", CONTAINER_USER, *self.tls_mounts("/etc/masa", "node"),
                        "-e", f"MASA_TLS_CA={tls}/ca.crt", "-e", f"MASA_TLS_CERT={tls}/node.crt",
                        "-e", f"MASA_TLS_KEY={tls}/node.key", "-e", f"MASA_METRICS_PORT={metrics_port}",
                        "-e", f"MASA_NODE_ID={node}", "-e", f"MASA_ADVERTISE_ADDRESS={address}",
                        "-e", "MASA_CONSUL_REGISTER=false", "--entrypoint", command[0],
                        image("oracle_node_image", "masa/oracle-node:latest"), *command[1:])

    def oracle_nodes(self, name: str, address: str, count: int, first_port: int) -> str:
        """``count`` simulated oracles in one SDK process."""
        return self.sdk_process(name, name, address, first_port, ["--network", NETWORK, "--ip", address],
                                "masa-oracle-node", "--fleet", str(count), "--log-level", "warning")

    def masa_node(self, name: str, address: str, metrics_port: int) -> tuple:
        """masa-node (its API test double: masa-node cannot be built here) and its analytics sidecar,
        sharing one network namespace as the oracle_node role runs them. Returns both containers."""
        sandbox = self.sandbox(name, address, {})
        node = self.run(f"{name}-node", "--network", f"container:{sandbox}", "--user", CONTAINER_USER,
                        "-v", f"{REPO / 'tests/masa_node_double.py'}:/opt/masa_node_double.py:ro",
                        "--entrypoint", "python3", image("oracle_node_image", "masa/oracle-node:latest"),
                        "/opt/masa_node_double.py", "--address", address)
        sidecar = self.sdk_process(f"{name}-sidecar", name, address, metrics_port, ["--network", f"container:{sandbox}"],
                                   "masa-analytics", "--log-level", "WARNING", "sidecar")
        return node, sidecar


class ConsulCatalog:
    """Registers simulated nodes through the catalog, as an oracle node's agent's anti-entropy sync would (node
    metadata masa_oracle=true, the service at the node's own address: Prometheus scrapes nothing else), with the
    collection's Consul client."""

    def __init__(self, port: int):
        load_collection()
        from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulHTTP

        self.client = ConsulHTTP(f"http://127.0.0.1:{port}", timeout=10)

    def wait_for_leader(self, timeout: float = 60) -> None:
        wait_until(lambda: self.client.json("read the leader", "/v1/status/leader"), timeout,
                   "the benchmark's Consul did not elect a leader")

    def register(self, node: str, address: str, port: int, service: str = "masa-oracle") -> None:
        service_id = f"{service}-{node}"
        self.client.json(f"register {node}", "/v1/catalog/register", method="PUT", payload={
            "Node": node, "Address": address, "NodeMeta": {"masa_oracle": "true"},
            "Service": {"ID": service_id, "Service": service, "Address": address, "Port": port, "Tags": ["prometheus"],
                        "Meta": {"version": "1.0.0"}},
            "Check": {"CheckID": f"service:{service_id}", "Name": "health", "Status": "passing",
                      "ServiceID": service_id},
        })


class PrometheusAPI:
    """Prometheus's HTTP API, which Thanos Query serves too."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.url = f"http://{host}:{port}"
        self.session = requests.Session()

    def query(self, expr: str) -> list:
        response = self.session.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list:
        response = self.session.get(f"{self.url}/api/v1/query_range", timeout=30,
                                    params={"query": expr, "start": start, "end": end, "step": step})
        response.raise_for_status()
        return response.json()["data"]["result"]

    def value(self, expr: str, default: float = 0.0) -> float:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else default

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(lambda: self.session.get(f"{self.url}/-/ready", timeout=1).ok, timeout, "Prometheus is not ready")

    def samples(self, expr_range: str) -> Dict[str, List[tuple]]:
        """Raw samples of a range selector, by instance: [(timestamp, value), ...]."""
        return {series["metric"]["instance"]: [(float(t), float(v)) for t, v in series["values"]]
                for series in self.query(expr_range)}


def wait_until(predicate, timeout: float, failure: Optional[str] = None, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # pylint: disable=broad-except  # the service may be between states
            pass
        time.sleep(interval)
    if failure:
        raise SystemExit(f"{failure} within {timeout:.0f} s")
    return False


def summary(values: Iterable[float]) -> str:
    values = list(values)
    if not values:
        return "no samples"
    return f"p50 {percentile(values, 0.5):6.2f} s   p95 {percentile(values, 0.95):6.2f} s   max {max(values):6.2f} s"
