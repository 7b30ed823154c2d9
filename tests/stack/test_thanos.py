"""Thanos beside Prometheus on the stack: the release the defaults name, Query answering as Prometheus does, alerts
that leave without the replica label, and a StoreAPI that admits only the Thanos CA's certificates."""

from __future__ import annotations

import socket
import ssl
import urllib.parse
from pathlib import Path

import pytest
import yaml

from conftest import wait_for
from masa_stack import REPO


def thanos_release() -> str:
    defaults = yaml.safe_load((REPO / "roles/thanos/defaults/main.yml").read_text())
    return defaults["thanos_image"].rsplit(":", 1)[1].lstrip("v")


def test_every_component_runs_the_default_release_and_is_scraped(stack):
    record = stack.record(stack.monitor, "thanos")
    expected = {"sidecar", "store"} | ({"compact"} if record["compactor"] else set())

    def components() -> dict:
        return {sample["metric"]["component"]: sample["metric"]["version"]
                for sample in stack.query('thanos_build_info{job="thanos"}')}
    found = wait_for("every Thanos component to be scraped", components, 60, until=lambda seen: set(seen) == expected)
    assert set(found.values()) == {thanos_release()}, found


def labelsets(result: list) -> set:
    return {frozenset(series["metric"].items()) for series in result}


def test_query_answers_as_the_replica_does_without_the_replica_label(stack):
    promql = 'up{job=~"masa-oracle|node-exporter"}'
    from_prometheus = labelsets(stack.query(promql))
    assert from_prometheus

    def from_query() -> set:
        return labelsets(stack.thanos_query("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))["data"]["result"])
    # Deduplicated: the replica label is gone, the shard label (an external label too) stays.
    found = wait_for("Thanos Query to list every target's series", from_query, 30,
                     until=lambda seen: {labels - {("shard", "0")} for labels in seen} == from_prometheus)
    assert all(("replica", stack.monitor) not in labels for labels in found)


def test_alerts_reach_alertmanager_without_the_replica_and_shard_labels(stack):
    alertmanager = stack.record(stack.monitor, "alertmanager")
    alerts = wait_for("Watchdog in Alertmanager", lambda: stack.get(
        f"https://{stack.address(stack.monitor)}:{alertmanager['port']}/api/v2/alerts"), 30)
    assert alerts
    assert not [alert["labels"] for alert in alerts if {"replica", "shard"} & set(alert["labels"])]


def handshake(address: str, port: int, ca: Path, cert: Path, key: Path) -> str:
    """Connect as a gRPC client would (TLS, ALPN h2), send HTTP/2's preface and read. The server's verdict on our
    certificate arrives during the handshake (TLS 1.2) or after it, at the first write or read (TLS 1.3)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(str(cert), str(key))
    try:
        with socket.create_connection((address, port), timeout=5) as raw, context.wrap_socket(raw) as tls:
            tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000"))
            return "answered" if tls.recv(9) else "closed"
    except (ssl.SSLError, ConnectionError) as error:
        return f"refused: {error}"


@pytest.mark.parametrize("component", ["sidecar_grpc", "store_grpc"])
def test_the_store_api_admits_only_the_thanos_ca(stack, component):
    port = int(stack.record(stack.monitor, "thanos")["ports"][component])
    address = stack.address(stack.monitor)
    pki = stack.ca.parent
    thanos = (pki / "thanos-ca.crt", pki / "issued" / stack.monitor / "thanos.crt", pki / "issued" / stack.monitor / "thanos.key")
    assert handshake(address, port, *thanos) == "answered"
    # The operator's certificate is from the main CA, as every oracle node's are: no access to the fleet's data.
    verdict = handshake(address, port, pki / "thanos-ca.crt", *stack.operator_cert)
    assert verdict.startswith("refused") or verdict == "closed", verdict
