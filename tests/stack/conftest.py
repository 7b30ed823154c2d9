"""Fixtures for the tests that run against a whole stack (molecule's, or `make up`'s with MASA_TEST_INVENTORY).

Every wait is bounded, and every test asserts on what the real services answer.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable, Optional, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from masa_stack import REPO, Stack  # noqa: E402

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], Optional[T]], timeout: float, interval: float = 0.5,
             until: Callable[[T], bool] = bool) -> T:
    """Poll ``probe`` until ``until`` holds for what it returns (by default: it is truthy);
    fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if until(value):
                return value
        except Exception as exc:  # the service may be between states; keep the last reason
            last_error = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


@pytest.fixture(scope="session")
def stack() -> Stack:
    if not os.environ.get("MASA_STATE_DIR"):
        pytest.fail("MASA_STATE_DIR is not set: run these through molecule (make molecule), "
                    "or point MASA_TEST_INVENTORY and MASA_STATE_DIR at a running stack")
    return Stack.load()


def note_figure(line: str) -> None:
    """Keep a measured figure in masa-stack-figures.txt in the temporary folder, which outlives molecule's state."""
    with open(Path(tempfile.gettempdir(), "masa-stack-figures.txt"), "a", encoding="utf-8") as figures:
        figures.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


def run_ansible(tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """One of Ansible's command-line tools from the virtualenv, run from the repository with its ansible.cfg.
    Its output is read as text, so without the colour molecule forces on every Ansible it starts."""
    return subprocess.run([str(Path(sys.executable).parent / tool), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                                   ANSIBLE_NOCOLOR="1"))


def run_play(*args: str) -> subprocess.CompletedProcess:
    """ansible-playbook site.yml against the stack under test, with its extra vars."""
    extra = [f"--extra-vars=@{path}" for path in os.environ.get("MASA_TEST_EXTRA_VARS", "").split(":") if path]
    return run_ansible("ansible-playbook", "site.yml", "-i", os.environ["MASA_TEST_INVENTORY"], *extra, *args,
                       timeout=600)


def changed_counts(output: str) -> dict:
    """host -> changed=N, from a play's recap."""
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def webhook_notifications(sink: str = "MASA_WEBHOOK_SINK") -> list:
    """Every notification the webhook sink has received at the URL in the environment variable ``sink``."""
    with urllib.request.urlopen(os.environ[sink], timeout=5) as response:
        return json.loads(response.read())


def webhook_alerts(sink: str = "MASA_WEBHOOK_SINK") -> list:
    """Every alert the webhook sink has received, as (received_at, alert) pairs."""
    return [(n["received_at"], alert) for n in webhook_notifications(sink) for alert in n["payload"].get("alerts", [])]


def instance_state(stack: Stack, host: str, service: str = "masa-oracle") -> str:
    """The worst check of ``service`` on ``host`` in Consul, or "gone"."""
    statuses = {check["Status"] for check in stack.consul(f"/v1/health/checks/{service}") if check["Node"] == host}
    return next((status for status in ("critical", "warning", "passing") if status in statuses), "gone")


def fetch_metrics(stack: Stack, address: str) -> bytes:
    """An oracle node's SDK endpoint, over mTLS with the operator's certificate."""
    with urllib.request.urlopen(f"https://{address}:9200/metrics", context=stack.tls_context(), timeout=5) as answer:
        return answer.read()


def fetch(address: str, port: int, context: ssl.SSLContext, path: str = "/metrics") -> bytes:
    """The raw HTTP answer to a GET of ``path`` over TLS with ``context``."""
    with socket.create_connection((address, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=address) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    return data


def masa_node_hosts(stack: Stack) -> list:
    """The oracle nodes that run masa-node: their sidecars register its API as a service of its own."""
    return sorted({entry["Node"] for entry in stack.consul("/v1/catalog/service/masa-node")})
