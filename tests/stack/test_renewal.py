"""Renewal: certificates the play renews reach the services that load them only at start (Consul reloads; the SDK's
process and Thanos restart), and Prometheus scrapes every target again with its own renewed client certificate."""

from __future__ import annotations

import socket
import ssl
import time

import yaml

from conftest import run_play, wait_for
from masa_stack import REPO


def served_certificate(address: str, port: int) -> bytes:
    """The certificate a TLS endpoint presents (gRPC's too: ALPN h2), read before it judges ours."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection((address, port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True)


def issued(stack, host: str, name: str) -> bytes:
    """The certificate the controller issued, as DER."""
    return ssl.PEM_cert_to_DER_cert((stack.ca.parent / "issued" / host / f"{name}.crt").read_text())


def renewed_hosts(stack) -> tuple:
    """A monitoring host, an oracle node and a Consul server (other agents serve HTTPS on their loopback only)."""
    return stack.monitor, stack.oracle_nodes[0], stack.group("consul_servers")[0]


def endpoints(stack) -> dict:
    """Each endpoint by what it is: (host, port, the name of the certificate issued for it)."""
    monitor, oracle, server = renewed_hosts(stack)
    thanos = stack.record(monitor, "thanos")["ports"]
    return {
        "the SDK's metrics": (oracle, stack.record(oracle, "oracle-node")["port"], "host"),
        "a Consul server's HTTPS API": (server, stack.record(server, "consul")["https_port"], "consul"),
        "the Thanos sidecar's StoreAPI": (monitor, thanos["sidecar_grpc"], "thanos"),
        "the store gateway's StoreAPI": (monitor, thanos["store_grpc"], "thanos"),
    }


def serving(stack) -> dict:
    return {what: served_certificate(stack.address(host), int(port)) for what, (host, port, _name) in endpoints(stack).items()}


def expected(stack) -> dict:
    return {what: issued(stack, host, name) for what, (host, _port, name) in endpoints(stack).items()}


def test_renewed_certificates_are_served_and_scraped_with(stack):
    before = serving(stack)
    assert before == expected(stack), "each endpoint serves the certificate the controller issued for it"
    valid_days = yaml.safe_load((REPO / "roles/pki/defaults/main.yml").read_text())["pki_valid_days"]
    # An operator's early renewal: every certificate now expires within the renewal window.
    result = run_play("--tags", "pki,consul,monitoring,oracle", "--limit", ",".join(renewed_hosts(stack)),
                      "-e", f"pki_valid_days={valid_days + 35}", "-e", f"pki_renew_before_days={valid_days + 30}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    renewed_at = time.time()
    renewed = expected(stack)
    assert all(renewed[what] != before[what] for what in renewed), "the play renewed every certificate"
    found = wait_for("every endpoint to serve its renewed certificate", lambda: serving(stack), 60,
                     until=lambda now: now == renewed)
    assert found == renewed

    targets = 'up{job=~"masa-oracle|node-exporter|thanos"}'
    total = len(stack.query(targets))
    wait_for("every target scraped up again with the renewed certificates",
             lambda: stack.query(f"timestamp({targets} == 1) > {renewed_at}"), 60, interval=2,
             until=lambda up: len(up) == total)
