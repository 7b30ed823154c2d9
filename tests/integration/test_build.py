"""The collection tarball: built without tests, molecule or state, and every plugin documents itself."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from conftest import REPO, ansible_env

BIN = Path(sys.executable).parent


def test_tarball_leaves_out_development_files_and_every_plugin_has_docs(tmp_path):
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, text=True)
    tarball = next(tmp_path.glob("masa-monitoring-*.tar.gz"))
    names = tarfile.open(tarball).getnames()
    for unwanted in ("tests/", "molecule/", ".venv/", ".state/", ".collections/", "sdk/tests/", ".git/"):
        assert not any(name.startswith(unwanted) for name in names), unwanted
    assert not any("__pycache__" in name or ".egg-info" in name for name in names)
    # The oracle_node role builds the SDK's image on each host from the SDK the collection ships.
    assert {"sdk/Dockerfile", "sdk/src/masa_analytics/sidecar.py"} <= set(names)
    assert not any(name.endswith((".tfstate", ".tfstate.backup")) for name in names)
    assert "roles/prometheus/files/rules/oracle.yml" in names

    install = tmp_path / "installed"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "--offline", "--no-deps", "-p", str(install),
                    str(tarball)], check=True, capture_output=True, text=True)
    env = ansible_env(ANSIBLE_COLLECTIONS_PATH=str(install))
    modules = sorted(p.stem for p in (REPO / "plugins/modules").glob("*.py"))
    assert modules
    for module in modules:
        result = subprocess.run([str(BIN / "ansible-doc"), f"masa.monitoring.{module}"],
                                capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stderr
        assert f"masa.monitoring.{module}" in result.stdout and "EXAMPLES" in result.stdout, result.stderr
    for plugin in sorted(p.stem for p in (REPO / "plugins/inventory").glob("*.py")):
        result = subprocess.run([str(BIN / "ansible-doc"), "-t", "inventory", f"masa.monitoring.{plugin}"],
                                capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stderr
