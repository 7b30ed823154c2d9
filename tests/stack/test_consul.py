"""Consul: secured by default, and consul_service against the real agent."""

from __future__ import annotations

import sys
import subprocess
import time
from pathlib import Path

import pytest
from masa_stack import REPO, ConsulError

from conftest import wait_for


def test_anonymous_catalog_reads_are_denied(stack):
    assert stack.consul("/v1/catalog/services", token="") in ({}, {"consul": []})
    assert stack.consul("/v1/catalog/nodes", token="") == []
    with pytest.raises(ConsulError) as denied:
        stack.consul("/v1/acl/policies", token="")
    assert denied.value.status == 403


def test_https_api_requires_our_client_certificate(stack):
    import ssl
    import urllib.request

    context = stack.tls_context(client_cert=False)
    with pytest.raises((ssl.SSLError, OSError)):
        urllib.request.urlopen(f"https://{stack.address(stack.monitor)}:8501/v1/status/leader",
                               context=context, timeout=5).read()


def test_gossip_encryption_is_on(stack):
    rings = stack.consul("/v1/operator/keyring")
    assert rings and all(len(ring["Keys"]) == 1 for ring in rings)
    config = stack.consul("/v1/agent/self")["DebugConfig"]
    assert config["VerifyIncoming"] and config["VerifyOutgoing"] and config["VerifyServerHostname"]
    assert config["ACLDefaultPolicy"] == "deny"
    assert config["EncryptKey"] == "hidden"


def test_consul_service_module_and_automatic_deregistration(stack):
    # A server's agent: the others listen on their own host's loopback only.
    agent = stack.address(stack.group("consul_servers")[0])
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "tests/stack/playbooks/consul_service.yml",
         "-e", f"agent={agent}", "-e", f"ca={stack.ca}", "-e", f"cert={stack.operator_cert[0]}",
         "-e", f"key={stack.operator_cert[1]}", "-e", f"token={stack.management_token}",
         "-e", f"weak_token={stack.consul_token('prometheus')}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    def doomed_status():
        checks = stack.consul("/v1/health/checks/it-doomed")
        return checks[0]["Status"] if checks else "gone"

    assert wait_for("it-doomed to turn critical", lambda: doomed_status() == "critical", 15)
    # deregister_critical_service_after (1m) plus at most one 30 s reaper pass, plus slack.
    wait_for("Consul to deregister it-doomed", lambda: doomed_status() == "gone", 110)
    elapsed = time.monotonic() - started
    assert 60 <= elapsed <= 150
