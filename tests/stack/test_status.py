"""`make status` (scripts/status.py) says OK and exits 0 on a healthy stack, DEGRADED and 1 otherwise."""

from __future__ import annotations

import subprocess
import sys

from masa_stack import REPO

from conftest import docker, wait_for


def status(*args):
    return subprocess.run([sys.executable, str(REPO / "scripts/status.py"), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_healthy_stack_exits_0():
    answer = status("--wait", "30")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "Health        OK" in answer.stdout


def test_degraded_stack_exits_1_and_says_why(stack):
    exporter = stack.container(stack.oracle_nodes[0], "node-exporter")
    docker("stop", "-t", "2", exporter)
    try:
        answer = wait_for("status to report the stopped exporter", status, 30, interval=1,
                          until=lambda got: got.returncode == 1)
        assert "Health        DEGRADED" in answer.stdout
        assert "node-exporter:" in answer.stdout
    finally:
        docker("start", exporter)
    wait_for("status to be healthy again", lambda: status("--wait", "30"), 60, until=lambda got: got.returncode == 0)
