"""Bad input is refused: a bad rule never reaches the running Prometheus, and the preflight refuses bad settings
before anything changes, with a message that names the setting."""

from __future__ import annotations

import shutil

import pytest

from conftest import changed_counts, docker, run_play


def test_bad_rule_fails_the_play_and_prometheus_keeps_its_config(stack, tmp_path):
    before_config = stack.prometheus("/api/v1/status/config")["data"]["yaml"]
    before_rules = sorted(g["name"] for g in stack.prometheus("/api/v1/rules")["data"]["groups"])
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum(rate(up[1m])\n")

    result = run_play("--tags", "monitoring", "-e", f'{{"prometheus_extra_rule_files": ["{bad}"]}}')

    assert result.returncode != 0
    assert "failed to validate" in result.stdout
    assert "bad.yml" in result.stdout or "parse error" in result.stdout
    assert stack.prometheus("/api/v1/status/config")["data"]["yaml"] == before_config
    assert sorted(g["name"] for g in stack.prometheus("/api/v1/rules")["data"]["groups"]) == before_rules
    assert stack.query("prometheus_config_last_reload_successful")[0]["value"][1] == "1"


def test_a_token_that_is_not_a_uuid_is_refused_by_name_before_any_change(stack):
    result = run_play("--tags", "monitoring", "-e", "prometheus_consul_token=not-a-uuid")
    assert result.returncode != 0
    assert "prometheus_consul_token is not a UUID" in result.stdout
    assert "not-a-uuid" not in result.stdout
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts


def test_bootstrap_expect_beyond_the_servers_in_the_inventory_is_refused(stack):
    servers = stack.group("consul_servers")
    result = run_play("--tags", "consul", "-e", f"consul_bootstrap_expect={len(servers) + 2}")
    assert result.returncode != 0
    assert f"consul_bootstrap_expect is {len(servers) + 2}, but the inventory has {len(servers)} host(s)" in result.stdout
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts


def test_lost_consul_secrets_are_refused_before_the_server_config_changes(stack, tmp_path):
    secrets = stack.management_token_file.parent
    server = stack.group("consul_servers")[0]
    container = stack.container(server, "consul")

    def secrets_config():
        return docker("exec", container, "cat", "/consul/config/conf.d/secrets.json")

    before = secrets_config()
    backup = tmp_path / "consul-secrets"
    shutil.move(str(secrets), str(backup))
    try:
        result = run_play("--tags", "consul")
    finally:
        shutil.move(str(backup), str(secrets))
    assert result.returncode != 0
    assert "already holds a Consul cluster's data" in result.stdout and "bootstrap.token" in result.stdout
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts
    assert secrets_config() == before


@pytest.mark.parametrize("extra, message", [
    ("prometheus_shard_count=0", "prometheus_shard_count is 0 and this host's prometheus_shard is 0"),
    ("prometheus_shard=1", "prometheus_shard_count is 1 and this host's prometheus_shard is 1"),
    ('{"prometheus_external_labels": {"replica": "a"}}', "prometheus_external_labels names replica"),
    ("thanos_objstore_type=S3", "Thanos needs an object store"),
])
def test_bad_shards_labels_and_buckets_are_refused_before_any_change(stack, extra, message):
    result = run_play("--tags", "monitoring", "-e", extra)
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split()), result.stdout[-2000:]
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts


def test_two_monitoring_hosts_as_one_replica_are_refused_before_any_change(stack, tmp_path):
    twin = tmp_path / "twin.yml"
    twin.write_text(f"monitoring:\n  hosts:\n    twin:\n      prometheus_replica: {stack.monitor}\n"
                    f"      docker_host_address: 192.0.2.1\n")
    result = run_play("--tags", "monitoring", "-i", str(twin))
    assert result.returncode != 0
    assert f'share prometheus_replica "{stack.monitor}" in shard 0' in " ".join(result.stdout.split()), result.stdout[-2000:]
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts
