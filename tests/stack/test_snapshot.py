"""consul_snapshot: save to a file and to S3 (moto), restore, and the catalog and KV come back."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
from masa_stack import REPO, ConsulError

from conftest import wait_for


def kv_put(stack, key, value):
    request = urllib.request.Request(f"https://{stack.address(stack.monitor)}:8501/v1/kv/{key}", data=value.encode(),
                                     method="PUT")
    request.add_header("X-Consul-Token", stack.management_token)
    urllib.request.urlopen(request, context=stack.tls_context(), timeout=5).read()


def kv_get(stack, key):
    try:
        entries = stack.consul(f"/v1/kv/{key}")
    except ConsulError as missing:
        assert missing.status == 404
        return None
    return base64.b64decode(entries[0]["Value"]).decode()


def snapshot(stack, operation, path, moto_url):
    cert, key = stack.operator_cert
    args = {"operation": operation, "path": str(path), "host": stack.address(stack.monitor), "ca_cert": str(stack.ca),
            "client_cert": str(cert), "client_key": str(key), "token": stack.management_token,
            "s3_bucket": "masa-backups", "s3_endpoint_url": moto_url, "s3_region": "eu-west-1"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-m", "masa.monitoring.consul_snapshot",
         "-a", " ".join(f"{k}={v}" for k, v in args.items())],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), AWS_ACCESS_KEY_ID="testing",
                 AWS_SECRET_ACCESS_KEY="testing"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_save_and_restore_round_trip(stack, tmp_path, moto_url):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="masa-backups", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    services_before = set(stack.consul("/v1/catalog/services"))
    kv_put(stack, "it/snapshot", "before")

    saved = tmp_path / "cluster.snap"
    snapshot(stack, "save", saved, moto_url)
    assert saved.stat().st_size > 0 and oct(saved.stat().st_mode & 0o777) == "0o600"
    assert s3.head_object(Bucket="masa-backups", Key="consul/cluster.snap")["ContentLength"] == saved.stat().st_size

    kv_put(stack, "it/snapshot", "after")
    kv_put(stack, "it/only-after", "x")
    # Restore from S3: the file is not there any more.
    restored_from = tmp_path / "from-s3.snap"
    s3.copy_object(Bucket="masa-backups", Key="consul/from-s3.snap",
                   CopySource={"Bucket": "masa-backups", "Key": "consul/cluster.snap"})
    snapshot(stack, "restore", restored_from, moto_url)

    assert wait_for("the KV to come back", lambda: kv_get(stack, "it/snapshot"), 30, until=lambda v: v == "before")
    assert kv_get(stack, "it/only-after") is None
    assert set(stack.consul("/v1/catalog/services")) >= services_before
    assert stack.consul("/v1/acl/token/self")["Policies"][0]["Name"] == "global-management"
