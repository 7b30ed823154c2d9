"""Authorization by identity: every endpoint admits only the client identities it serves.

The identities are the certificates the pki role issues (a node's server certificate, a node's Consul
agent certificate, Prometheus's client certificate, the operator's), one from a foreign CA, and none.
The whole matrix is written to masa-identity-matrix.md in the temporary folder, for the record: molecule
removes its state folder when it is done.
"""

from __future__ import annotations

import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import fetch, wait_for

ADMITTED, FORBIDDEN, REFUSED = "200", "403", "refused"


def answer(address: str, port: int, path: str, context: ssl.SSLContext) -> str:
    """The HTTP status, or "refused" when the TLS handshake or the connection fails."""
    try:
        raw = fetch(address, port, context, path)
    except (ssl.SSLError, ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return REFUSED
    return raw.split(b" ", 2)[1].decode() if raw.startswith(b"HTTP/1.1 ") else REFUSED


@pytest.fixture(scope="module")
def identities(stack, tmp_path_factory):
    """name -> (cert, key) or None; the node identities are those of the first oracle node."""
    issued = Path(stack.operator_cert[0]).parent.parent
    node = stack.oracle_nodes[0]
    foreign = tmp_path_factory.mktemp("foreign")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=intruder", "-addext", "subjectAltName=URI:spiffe://masa.monitoring/prometheus",
                    "-days", "1", "-keyout", str(foreign / "k.pem"), "-out", str(foreign / "c.pem")],
                   check=True, capture_output=True)
    return {
        f"{node} server": (issued / node / "host.crt", issued / node / "host.key"),
        f"{node} consul agent": (issued / node / "consul.crt", issued / node / "consul.key"),
        "prometheus": (issued / stack.monitor / "prometheus-client.crt", issued / stack.monitor / "prometheus-client.key"),
        "operator": stack.operator_cert,
        "foreign CA": (foreign / "c.pem", foreign / "k.pem"),
        "none": None,
    }


def context_for(stack, pair) -> ssl.SSLContext:
    context = stack.tls_context(client_cert=False)
    if pair:
        context.load_cert_chain(str(pair[0]), str(pair[1]))
    return context


def expected_matrix(stack):
    """endpoint -> (host, port, path, {identity: answer}); identities not named are refused."""
    node, other = stack.oracle_nodes[0], stack.oracle_nodes[1]
    exporter_port = stack.record(node, "node-exporter")["port"]
    sdk_port = stack.record(other, "oracle-node")["port"]
    server = stack.group("consul_servers")[0]
    consul_port = stack.record(other, "consul")["https_port"]
    scrapers = {"prometheus": ADMITTED, "operator": ADMITTED}
    return {
        "Alertmanager API": (stack.monitor, stack.record(stack.monitor, "alertmanager")["port"], "/api/v2/status",
                             scrapers),
        f"{node} node-exporter": (node, exporter_port, "/metrics", {**scrapers, f"{node} consul agent": ADMITTED}),
        f"{other} node-exporter": (other, exporter_port, "/metrics", scrapers),
        f"{other} SDK /metrics": (other, sdk_port, "/metrics",
                                  {**scrapers, f"{node} consul agent": FORBIDDEN}),
        f"{other} SDK /health": (other, sdk_port, "/health",
                                 {"prometheus": FORBIDDEN, "operator": FORBIDDEN, f"{node} consul agent": FORBIDDEN}),
        # Other agents listen on their own host's loopback; a server admits any client certificate of our CA,
        # and its ACLs decide the rest.
        f"{other} Consul agent": (other, consul_port, "/v1/status/leader", {}),
        f"{server} Consul server": (server, consul_port, "/v1/status/leader",
                                    {**scrapers, f"{node} consul agent": ADMITTED}),
    }


def test_every_endpoint_admits_only_the_identities_it_serves(stack, identities):
    matrix, wrong = {}, []
    for endpoint, (host, port, path, admitted) in expected_matrix(stack).items():
        for identity, pair in identities.items():
            got = answer(stack.address(host), int(port), path, context_for(stack, pair))
            want = admitted.get(identity, REFUSED)
            matrix[endpoint, identity] = got
            if got != want:
                wrong.append(f"{endpoint} as {identity}: {got}, expected {want}")
    write_matrix(stack, matrix, list(identities))
    assert not wrong, "\n".join(wrong)


def test_the_consul_agent_of_a_node_passes_its_own_checks(stack):
    """The SDK's /health and node-exporter admit only their own node's agent, which must still find them healthy.
    Waits a few check intervals: an earlier test may have restarted an agent, whose checks start critical."""
    def failing():
        return {host: [c["Name"] for c in stack.consul(f"/v1/health/node/{host}") if c["Status"] != "passing"]
                for host in stack.oracle_nodes}

    wait_for("every check of every oracle node passing", lambda: not any(failing().values()), 30)


def write_matrix(stack, matrix, identities):
    endpoints = sorted({key[0] for key in matrix})
    lines = ["| endpoint | " + " | ".join(identities) + " |", "|---" * (len(identities) + 1) + "|"]
    lines += ["| " + endpoint + " | " + " | ".join(matrix[endpoint, i] for i in identities) + " |"
              for endpoint in endpoints]
    Path(tempfile.gettempdir(), "masa-identity-matrix.md").write_text("\n".join(lines) + "\n")
