"""Every node endpoint (node-exporter and the SDK) refuses a scrape without our client certificate."""

from __future__ import annotations

import socket
import ssl
import subprocess

from conftest import fetch


def node_endpoints(stack):
    for host in stack.all_hosts:
        yield host, stack.address(host), 9100
    for host in stack.oracle_nodes:
        yield host, stack.address(host), 9200


def refused(address, port, context) -> bool:
    """True when no metrics come back. With TLS 1.3 the server checks the client certificate after
    the client's side of the handshake, so a refusal is an alert or a closed connection on read."""
    try:
        answer = fetch(address, port, context)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True
    return not answer.startswith(b"HTTP/1.1 200")


def test_our_client_certificate_is_accepted(stack):
    for _host, address, port in node_endpoints(stack):
        assert fetch(address, port, stack.tls_context()).startswith(b"HTTP/1.1 200")


def test_no_client_certificate_is_refused(stack):
    for host, address, port in node_endpoints(stack):
        assert refused(address, port, stack.tls_context(client_cert=False)), f"{host}:{port}"


def test_certificate_from_another_ca_is_refused(stack, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=intruder", "-days", "1", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")], check=True, capture_output=True)
    for _host, address, port in node_endpoints(stack):
        context = stack.tls_context(client_cert=False)
        context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
        assert refused(address, port, context), f"{address}:{port}"


def test_plain_http_is_refused(stack):
    for _host, address, port in node_endpoints(stack):
        with socket.create_connection((address, port), timeout=5) as raw:
            raw.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = raw.recv(4096)
        assert b"masa_oracle" not in answer and b"node_cpu" not in answer
        assert not answer.startswith(b"HTTP/1.1 200")


def test_openssl_with_our_certificate_completes_a_tls12_or_later_handshake(stack):
    cert, key = stack.operator_cert
    address = stack.address(stack.oracle_nodes[0])
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:9200", "-CAfile", str(stack.ca), "-cert", str(cert),
         "-key", str(key), "-tls1_1"], input="", capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode != 0, "TLS 1.1 must be refused"
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:9200", "-CAfile", str(stack.ca), "-cert", str(cert),
         "-key", str(key), "-verify_return_error"], input="", capture_output=True, text=True, timeout=20, check=False)
    assert "Verify return code: 0 (ok)" in result.stdout


def tls12_handshake(stack, address: str, port: int, cipher: str) -> bool:
    cert, key = stack.operator_cert
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:{port}", "-CAfile", str(stack.ca), "-cert", str(cert),
         "-key", str(key), "-tls1_2", "-cipher", cipher, "-verify_return_error"],
        input="", capture_output=True, text=True, timeout=20, check=False)
    return result.returncode == 0 and f"Cipher is {cipher}" in result.stdout


def test_tls12_offers_only_aead_suites_on_every_endpoint(stack):
    monitor, node = stack.monitor, stack.oracle_nodes[0]
    endpoints = {
        "node-exporter": (stack.address(node), 9100),
        "SDK": (stack.address(node), stack.record(node, "oracle-node")["port"]),
        "Alertmanager": (stack.address(monitor), stack.record(monitor, "alertmanager")["port"]),
        "Prometheus": (stack.address(monitor), stack.record(monitor, "prometheus")["port"]),
        "Consul server": (stack.address(stack.group("consul_servers")[0]), stack.record(monitor, "consul")["https_port"]),
    }
    answers = {name: (tls12_handshake(stack, *where, "ECDHE-ECDSA-AES128-GCM-SHA256"),
                      tls12_handshake(stack, *where, "ECDHE-ECDSA-AES128-SHA"))
               for name, where in endpoints.items()}
    assert answers == {name: (True, False) for name in endpoints}, answers
