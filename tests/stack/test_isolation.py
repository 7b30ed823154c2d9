"""node-exporter sees the host's / and /proc, and still reads no other service's keys, tokens or configs."""

from __future__ import annotations

import json
import subprocess

import pytest


def inspect(container: str) -> dict:
    return json.loads(subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True)
                      .stdout)[0]


def config_folder(container: str, target: str) -> str:
    """The host folder mounted at ``target`` in ``container``."""
    return next(m["Source"] for m in inspect(container)["Mounts"] if m["Destination"] == target)


def read_from_node_exporter(stack, host: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", stack.container(host, "node-exporter"), "cat", path],
                          capture_output=True, text=True, timeout=30, check=False)


def secrets_of(stack, host: str) -> dict:
    """name -> (a public file beside it, the secret) as node-exporter sees the host, under /host."""
    if host == stack.monitor:
        prometheus = stack.container(host, "prometheus")
        prometheus_dir = config_folder(prometheus, "/etc/prometheus")
        alertmanager_dir = config_folder(stack.container(host, "alertmanager"), "/etc/alertmanager")
        pid = inspect(prometheus)["State"]["Pid"]
        return {
            "Prometheus's config (Consul token, password hash)": (
                f"/host{prometheus_dir}/tls/ca.crt", f"/host{prometheus_dir}/prometheus.yml"),
            "Prometheus's client key": (f"/host{prometheus_dir}/tls/prometheus-client.crt",
                                        f"/host{prometheus_dir}/tls/prometheus-client.key"),
            "Prometheus's config through its process": (f"/host/proc/{pid}/cmdline",
                                                        f"/host/proc/{pid}/root/etc/prometheus/prometheus.yml"),
            "Alertmanager's key": (f"/host{alertmanager_dir}/tls/host.crt", f"/host{alertmanager_dir}/tls/host.key"),
        }
    oracle = stack.record(host, "oracle-node")["container"]
    oracle_dir = config_folder(oracle, "/etc/masa/tls").rsplit("/", 1)[0]
    pid = inspect(oracle)["State"]["Pid"]
    return {
        "the oracle's Consul token": (f"/host{oracle_dir}/tls/ca.crt", f"/host{oracle_dir}/consul.token"),
        "the node's Consul agent key": (f"/host{oracle_dir}/tls/consul.crt", f"/host{oracle_dir}/tls/consul.key"),
        "the oracle's environment through its process": (f"/host/proc/{pid}/cmdline", f"/host/proc/{pid}/environ"),
    }


@pytest.mark.parametrize("where", ["monitor", "oracle node"])
def test_node_exporter_reads_no_other_service_secret(stack, where):
    host = stack.monitor if where == "monitor" else stack.oracle_nodes[0]
    readable = []
    for name, (public, secret) in secrets_of(stack, host).items():
        control = read_from_node_exporter(stack, host, public)
        assert control.returncode == 0, f"{public} should be readable, so the path is right: {control.stderr}"
        attempt = read_from_node_exporter(stack, host, secret)
        if attempt.returncode == 0:
            readable.append(f"{name} ({secret})")
        else:
            assert "Permission denied" in attempt.stderr, attempt.stderr
    assert not readable, f"node-exporter on {host} can read: {readable}"


def test_each_service_runs_as_a_user_of_its_own(stack):
    monitor, node = stack.monitor, stack.oracle_nodes[0]
    containers = {
        "consul": stack.container(monitor, "consul"),
        "prometheus": stack.container(monitor, "prometheus"),
        "alertmanager": stack.container(monitor, "alertmanager"),
        "node-exporter": stack.container(monitor, "node-exporter"),
        "oracle": stack.record(node, "oracle-node")["container"],
    }
    uids = {name: inspect(container)["Config"]["User"].split(":")[0] for name, container in containers.items()}
    assert "" not in uids.values() and "0" not in uids.values(), uids
    assert len(set(uids.values())) == len(uids), uids
