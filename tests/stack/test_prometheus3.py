"""What the running Prometheus is given stays valid for Prometheus 3.x, whose official image is the role default.

No 3.x build can run here (no registry; Debian's builds have no Consul discovery), so this checks the
configuration, flags and rules the play deployed against what the 3.0 migration guide removed or renamed.
"""

from __future__ import annotations

import json
import re

import yaml

from conftest import docker

# Flags 3.0 removed, and feature flags it made the default (passing them fails the start).
REMOVED_FLAGS = ("--storage.tsdb.retention=", "--alertmanager.timeout", "--storage.tsdb.allow-overlapping-blocks",
                 "--enable-feature")
# Functions 3.0 renamed or moved behind a feature flag.
REMOVED_FUNCTIONS = ("holt_winters",)
# consul_sd_configs fields in 3.x's documented schema; anything else would fail its parser.
CONSUL_SD_FIELDS = {"server", "path_prefix", "token", "datacenter", "namespace", "partition", "scheme", "username",
                    "password", "services", "tags", "node_meta", "tag_separator", "allow_stale", "refresh_interval",
                    "filter", "health_filter", "tls_config", "basic_auth", "authorization", "oauth2", "proxy_url",
                    "follow_redirects", "enable_http2"}


def running_config(stack) -> tuple:
    container = stack.container(stack.monitor, "prometheus")
    command = json.loads(docker("inspect", "-f", "{{json .Config.Cmd}}", container))
    config_path = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--config.file="))
    config = yaml.safe_load(docker("exec", container, "cat", config_path))
    rules = [docker("exec", container, "cat", path) for pattern in config["rule_files"]
             for path in docker("exec", container, "sh", "-c", f"ls {pattern}").split()]
    return command, config, rules


def test_flags_config_and_rules_avoid_what_prometheus_3_removed(stack):
    command, config, rules = running_config(stack)
    assert rules, "no rule file was found in the running Prometheus"
    assert [flag for flag in command if flag.startswith(REMOVED_FLAGS)] == []
    for alertmanager in config["alerting"]["alertmanagers"]:
        assert alertmanager.get("api_version", "v2") == "v2", "3.0 removed the Alertmanager v1 API"
    for job in config["scrape_configs"]:
        assert "scrape_classic_histograms" not in job, "3.0 renamed it always_scrape_classic_histograms"
        for consul_sd in job.get("consul_sd_configs", []):
            assert set(consul_sd) <= CONSUL_SD_FIELDS, set(consul_sd) - CONSUL_SD_FIELDS
    for text in rules:
        assert not [name for name in REMOVED_FUNCTIONS if re.search(rf"\b{name}\s*\(", text)]
