"""tls_ca and tls_certificate against the real filesystem, checked with real openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import REPO, run_playbook


def openssl_verify(ca: Path, cert: Path, purpose: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "verify", "-purpose", purpose, "-CAfile", str(ca), str(cert)],
        capture_output=True, text=True, check=False,
    )


def test_tls_modules_playbook_then_openssl(tmp_path: Path) -> None:
    result = run_playbook(REPO / "tests/integration/targets/tls/playbook.yml", TLS_TEST_DIR=str(tmp_path))
    assert result.returncode == 0, "the tls target failed; its output is above"
    assert "failed=0" in result.stdout

    node = openssl_verify(tmp_path / "ca.crt", tmp_path / "node.crt", "sslserver")
    assert node.returncode == 0, node.stdout + node.stderr
    assert node.stdout.strip().endswith(": OK")
    client = openssl_verify(tmp_path / "ca.crt", tmp_path / "client.crt", "sslclient")
    assert client.returncode == 0, client.stdout + client.stderr
    # The client certificate must not pass as a server certificate.
    assert openssl_verify(tmp_path / "ca.crt", tmp_path / "client.crt", "sslserver").returncode != 0
    # A certificate from another CA does not verify against ours.
    foreign = openssl_verify(tmp_path / "foreign-ca.crt", tmp_path / "node.crt", "sslserver")
    assert foreign.returncode != 0

    assert oct((tmp_path / "node.key").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "ca.key").stat().st_mode & 0o777) == "0o600"
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(tmp_path / "node.crt")],
                          capture_output=True, text=True, check=True).stdout
    assert "rsaEncryption" in text, "the forced run should have left an RSA certificate"
