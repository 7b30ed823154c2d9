"""Structural checks of terraform/ with python-hcl2 (no provider needed): typed and described
variables, least-privilege security groups, encryption, IMDSv2, and justified checkov skips."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
FILES = sorted(TERRAFORM.rglob("*.tf"))


def text(value):
    """python-hcl2 keeps string quotes; strip them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parsed(path: Path) -> dict:
    with path.open() as handle:
        return hcl2.load(handle)


def blocks(kind: str, path: Path):
    """(type, name, body) for every resource/data block, or (name, body) for variables."""
    for entry in parsed(path).get(kind, []):
        for first, rest in entry.items():
            if kind in ("resource", "data"):
                for name, body in rest.items():
                    yield text(first), text(name), body
            else:
                yield text(first), rest


def resources(type_name: str):
    found = {}
    for path in FILES:
        for kind, name, body in blocks("resource", path):
            if kind == type_name:
                found[f"{path.relative_to(TERRAFORM)}:{name}"] = body
    return found


def security_locals():
    return parsed(TERRAFORM / "modules/security/main.tf")["locals"][0]


def test_there_is_a_configuration():
    assert (TERRAFORM / "main.tf").exists() and len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_variable_is_typed_and_described(path):
    for name, body in blocks("variable", path):
        assert body.get("type"), f"{name} in {path} has no type"
        assert len(text(body.get("description", ""))) > 10, f"{name} in {path} has no description"


def test_consul_ports_are_open_only_within_the_vpc():
    rules = resources("aws_vpc_security_group_ingress_rule")
    consul = rules["modules/security/main.tf:consul"]
    assert consul["cidr_ipv4"] == "${var.vpc_cidr}"
    assert consul["security_group_id"] == "${aws_security_group.consul.id}"
    ports = {(v["port"], text(v["protocol"])) for v in security_locals()["consul_ports"].values()}
    assert ports == {(8300, "tcp"), (8301, "tcp"), (8301, "udp"), (8302, "tcp"), (8302, "udp"),
                     (8501, "tcp"), (8600, "tcp"), (8600, "udp")}


def test_uis_are_open_only_to_admin_cidrs():
    admin = resources("aws_vpc_security_group_ingress_rule")["modules/security/main.tf:admin"]
    assert "var.admin_cidrs" in admin["for_each"]
    assert admin["cidr_ipv4"] == "${each.value[1]}"
    assert admin["security_group_id"] == "${aws_security_group.monitoring.id}"
    assert set(security_locals()["admin_ports"].values()) == {9090, 3000, 8500, 8501, 22}


def test_node_metrics_only_from_the_prometheus_group():
    rules = resources("aws_vpc_security_group_ingress_rule")
    metrics = rules["modules/security/main.tf:metrics"]
    assert metrics["referenced_security_group_id"] == "${aws_security_group.monitoring.id}"
    assert metrics["security_group_id"] == "${aws_security_group.node.id}"
    assert "cidr_ipv4" not in metrics
    assert set(security_locals()["node_metric_ports"].values()) == {9100, 9200}


def test_no_ingress_from_anywhere():
    for name, rule in resources("aws_vpc_security_group_ingress_rule").items():
        assert "0.0.0.0/0" not in str(rule.get("cidr_ipv4", "")), name
    variables = dict(blocks("variable", TERRAFORM / "variables.tf"))
    assert "0.0.0.0/0" in str(variables["admin_cidrs"]["validation"]), "admin_cidrs must refuse 0.0.0.0/0"


def test_hosts_require_imdsv2_and_encrypt_every_volume():
    instance = resources("aws_instance")["modules/host/main.tf:this"]
    metadata = instance["metadata_options"][0] if isinstance(instance["metadata_options"], list) else instance["metadata_options"]
    assert text(metadata["http_tokens"]) == "required"
    root = instance["root_block_device"][0] if isinstance(instance["root_block_device"], list) else instance["root_block_device"]
    assert root["encrypted"] is True and root["kms_key_id"] == "${var.kms_key_arn}"
    volume = resources("aws_ebs_volume")["modules/host/main.tf:data"]
    assert volume["encrypted"] is True and volume["kms_key_id"] == "${var.kms_key_arn}"


def test_instance_profile_allows_only_describe_instances():
    source = (TERRAFORM / "modules/iam/main.tf").read_text()
    actions = re.findall(r'actions\s*=\s*\[([^\]]*)\]', source)
    assert sorted(a.strip() for a in actions) == ['"ec2:DescribeInstances"', '"sts:AssumeRole"']


def test_backups_bucket_is_encrypted_versioned_and_private():
    assert resources("aws_s3_bucket_versioning")
    storage = (TERRAFORM / "modules/storage/main.tf").read_text()
    assert 'status = "Enabled"' in storage
    assert 'sse_algorithm     = "aws:kms"' in storage
    access = resources("aws_s3_bucket_public_access_block")["modules/storage/main.tf:backups"]
    keys = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    assert all(access[key] is True for key in keys)


def test_hosts_carry_the_tags_the_inventory_uses():
    tags = resources("aws_instance")["modules/host/main.tf:this"]["tags"]
    assert {text(k) for k in tags} >= {"Name", "masa:role", "masa:consul"}
    assert '"masa:stack"' in (TERRAFORM / "main.tf").read_text()


def test_every_checkov_skip_is_justified():
    skips = [line for path in FILES for line in path.read_text().splitlines() if "checkov:skip" in line]
    assert skips
    for line in skips:
        assert re.search(r"#checkov:skip=CKV2?_AWS_\d+:.{20,}", line), line
