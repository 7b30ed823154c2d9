"""Shared helpers for the test suites: where the repository is, and how to run Ansible from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def ansible_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = f"{REPO / '.collections'}:{env.get('ANSIBLE_COLLECTIONS_PATH', '')}"
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env.update(extra)
    return env


def run_playbook(playbook: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), *args],
        cwd=REPO,
        env=ansible_env(**env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-20000:])
        sys.stderr.write(result.stderr[-5000:])
    return result


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
