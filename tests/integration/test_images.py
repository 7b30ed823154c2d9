"""The images the role defaults name, as scripts/images.sh made them on this machine.

Each must print the exact release the defaults name and be laid out like its official image
(upstream's Dockerfile), so the roles run them unchanged wherever the official image is pulled
instead. A failed build must say what failed and leave the image in place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO

# From upstream's Dockerfiles: prometheus/prometheus, prometheus/alertmanager, prometheus/node_exporter.
OFFICIAL_LAYOUT = {
    "prometheus": {
        "User": "nobody", "WorkingDir": "/prometheus", "Entrypoint": ["/bin/prometheus"],
        "Cmd": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "ExposedPorts": {"9090/tcp": {}}, "Volumes": {"/prometheus": {}},
    },
    "alertmanager": {
        "User": "nobody", "WorkingDir": "/alertmanager", "Entrypoint": ["/bin/alertmanager"],
        "Cmd": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        "ExposedPorts": {"9093/tcp": {}}, "Volumes": {"/alertmanager": {}},
    },
    "node_exporter": {
        "User": "nobody", "Entrypoint": ["/bin/node_exporter"], "ExposedPorts": {"9100/tcp": {}},
    },
}
# role -> the binaries its image carries, each of which must print the release.
BINARIES = {"prometheus": ["prometheus", "promtool"], "alertmanager": ["alertmanager", "amtool"],
            "node_exporter": ["node_exporter"]}


def default_image(role: str) -> str:
    return yaml.safe_load((REPO / f"roles/{role}/defaults/main.yml").read_text())[f"{role}_image"]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=check)


@pytest.mark.parametrize("role", sorted(BINARIES))
def test_each_binary_prints_the_release_the_defaults_name(role):
    image = default_image(role)
    release = image.rsplit(":", 1)[1].lstrip("v")
    for binary in BINARIES[role]:
        printed = docker("run", "--rm", "--network", "none", "--entrypoint", f"/bin/{binary}", image, "--version")
        first_line = (printed.stdout + printed.stderr).splitlines()[0]
        assert first_line.startswith(f"{binary}, version {release} "), first_line


@pytest.mark.parametrize("role", sorted(OFFICIAL_LAYOUT))
def test_each_image_is_laid_out_like_the_official_one(role):
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", default_image(role)).stdout)
    assert {key: config.get(key) for key in OFFICIAL_LAYOUT[role]} == OFFICIAL_LAYOUT[role]
    uid = docker("run", "--rm", "--network", "none", "--entrypoint", "id", default_image(role), "-u").stdout.strip()
    assert uid == "65534", "nobody is uid 65534 in the official images"


def test_a_failed_go_build_names_what_failed_and_keeps_the_previous_image(tmp_path):
    image = default_image("node_exporter")
    before = docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    for folder in ("scripts", "images"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    spec = tmp_path / "images/node-exporter/go-build.env"
    spec.write_text(spec.read_text().replace("GO_MODULE_VERSION=v1.9.1", "GO_MODULE_VERSION=v1.9.999"))

    result = subprocess.run([str(tmp_path / "scripts/images.sh"), str(tmp_path / "images.yml")],
                            capture_output=True, text=True, timeout=600, check=False,
                            env=dict(os.environ, PATH=os.environ["PATH"] + ":/usr/local/go/bin", MASA_OFFLINE="1"))

    assert result.returncode != 0
    assert "building node-exporter failed" in result.stderr
    assert "'go mod download -json github.com/prometheus/node_exporter@v1.9.999' failed" in result.stderr
    assert "This module version is not available" in result.stderr, "the proxy's own error is shown"
    assert docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip() == before
    assert not (tmp_path / "images.yml").exists(), "a failed run must not write the image choice"
