"""node-exporter sees the host's / and /proc, and still reads no other service's keys, tokens or configs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


def inspect(container: str) -> dict:
    return json.loads(subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True)
                      .stdout)[0]


def config_folder(container: str, target: str) -> str:
    """The host folder mounted at ``target`` in ``container``."""
    return next(m["Source"] for m in inspect(container)["Mounts"] if m["Destination"] == target)


def read_from_node_exporter(stack, host: str, path: str) -> subprocess.CompletedProcess:
    """``path`` on the host, read by node-exporter: a /proc path from inside its container (it sees the host's
    under /host); a file as its uid, with the file's folder mounted as /host would show it on a real host (here the
    local stack's folders sit under the controller's home, which would deny it anyway)."""
    container = stack.container(host, "node-exporter")
    if path.startswith("/proc/"):
        command = ["docker", "exec", container, "cat", "/host" + path]
    else:
        config = inspect(container)["Config"]
        folder, name = path.rsplit("/", 1)
        command = ["docker", "run", "--rm", "--network", "none", "--user", config["User"], "--entrypoint", "cat",
                   "-v", f"{folder}:/host{folder}:ro", config["Image"], f"/host{folder}/{name}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def secrets_of(stack, host: str) -> dict:
    """name -> where the secret is on the host (this machine, for the local stack)."""
    if host == stack.monitor:
        prometheus = stack.container(host, "prometheus")
        prometheus_dir = config_folder(prometheus, "/etc/prometheus")
        alertmanager_dir = config_folder(stack.container(host, "alertmanager"), "/etc/alertmanager")
        pid = inspect(prometheus)["State"]["Pid"]
        return {
            "Prometheus's config (Consul token, password hash)": f"{prometheus_dir}/prometheus.yml",
            "Prometheus's client key": f"{prometheus_dir}/tls/prometheus-client.key",
            "Prometheus's config through its process": f"/proc/{pid}/root/etc/prometheus/prometheus.yml",
            "Alertmanager's key": f"{alertmanager_dir}/tls/host.key",
        }
    oracle = stack.record(host, "oracle-node")["container"]
    oracle_dir = config_folder(oracle, "/etc/masa/tls").rsplit("/", 1)[0]
    consul_dir = config_folder(stack.container(host, "consul"), "/consul/config/conf.d")
    pid = inspect(oracle)["State"]["Pid"]
    return {
        "the oracle's Consul token": f"{oracle_dir}/consul.token",
        "the node's Consul agent key": f"{oracle_dir}/tls/consul.key",
        "the Consul agent's token and gossip key": f"{consul_dir}/secrets.json",
        "the oracle's environment through its process": f"/proc/{pid}/environ",
    }


@pytest.mark.parametrize("where", ["monitor", "oracle node"])
def test_node_exporter_reads_no_other_service_secret(stack, where):
    host = stack.monitor if where == "monitor" else stack.oracle_nodes[0]
    secrets = secrets_of(stack, host)
    seen = read_from_node_exporter(stack, host, "/proc/1/cmdline")
    assert seen.returncode == 0, f"node-exporter should see the host's /proc: {seen.stderr}"
    public = read_from_node_exporter(stack, host, "/etc/hostname")
    assert public.returncode == 0, f"a world-readable file should be readable: {public.stderr}"
    readable = []
    for name, secret in secrets.items():
        assert Path(secret).exists(), f"{name}: {secret} is not where the test looks"
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


def test_node_exporter_sees_nothing_of_the_services_folders(stack):
    """Even its container's root finds the hidden host folders empty, while the host holds the services' files."""
    host = stack.oracle_nodes[0]
    container = stack.container(host, "node-exporter")
    config_root = config_folder(container, "/etc/node-exporter").rsplit("/", 1)[0]
    hidden = {m["Destination"] for m in inspect(container)["Mounts"] if m["Type"] == "tmpfs"}
    assert "/host" + config_root in hidden, f"the services' folder {config_root} is not hidden: {hidden}"
    assert any(Path(config_root).iterdir()), f"{config_root} should hold the services' files on the host"
    for target in sorted(hidden):
        listing = subprocess.run(["docker", "exec", "--user", "0", container, "ls", "-A", target],
                                 capture_output=True, text=True, timeout=30, check=True)
        assert listing.stdout == "", f"{target} shows {listing.stdout.split()}"
