"""inventory/aws/aws_ec2.yml against moto in server mode, with instances tagged as Terraform tags them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REGION = "eu-west-1"


def plain(value):
    """ansible-inventory --list shows values the plugin marked unsafe as {"__ansible_unsafe": ...}."""
    return value["__ansible_unsafe"] if isinstance(value, dict) else value


def launch(ec2, subnet, name, role, consul, **extra_tags):
    tags = [{"Key": "Name", "Value": name}, {"Key": "masa:stack", "Value": "monitoring"},
            {"Key": "masa:role", "Value": role}, {"Key": "masa:consul", "Value": consul}]
    tags += [{"Key": key, "Value": value} for key, value in extra_tags.items()]
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=subnet,
                      TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])


def test_bootstrap_inventory_groups_hosts_by_terraform_tags(moto_url, tmp_path):
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")
               ["Subnet"]["SubnetId"] for index, zone in enumerate("ab")]
    subnet = subnets[0]
    # Two shards, replicas a and b of each in the two zones; the first host compacts the bucket.
    for index in range(4):
        tags = {"masa:shard": str(index // 2), "masa:replica": "ab"[index % 2], "masa:shard-count": "2"}
        if index == 0:
            tags["masa:thanos-compactor"] = "true"
        launch(ec2, subnets[index % 2], f"monitoring-monitoring-{index + 1}", "monitoring", "consul-agent", **tags)
    for i in range(1, 4):
        launch(ec2, subnet, f"monitoring-consul-{i}", "consul", "consul-server")
    for i in range(1, 3):
        launch(ec2, subnet, f"monitoring-oracle-{i}", "oracle", "consul-agent")
    # Another stack's host in the same account must not appear.
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "stranger"}, {"Key": "masa:stack", "Value": "other"}]}])

    config = yaml.safe_load((REPO / "inventory/aws/aws_ec2.yml").read_text())
    config.update(endpoint_url=moto_url, access_key="testing", secret_key="testing")
    path = tmp_path / "test.aws_ec2.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"], cwd=REPO,
                            capture_output=True, text=True, check=False, timeout=120,
                            env={"PATH": str(BIN), "HOME": str(tmp_path), "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                                 "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    hostvars = listing["_meta"]["hostvars"]

    def group(name):
        return set(listing.get(name, {}).get("hosts", []))

    monitoring = {f"monitoring-monitoring-{index}" for index in range(1, 5)}
    assert set(hostvars) == monitoring | {"monitoring-consul-1", "monitoring-consul-2", "monitoring-consul-3",
                                          "monitoring-oracle-1", "monitoring-oracle-2"}
    assert group("monitoring") == monitoring
    assert {host: (values["prometheus_shard"], values["prometheus_shard_count"])
            for host, values in hostvars.items() if host in monitoring} == {
        "monitoring-monitoring-1": (0, 2), "monitoring-monitoring-2": (0, 2),
        "monitoring-monitoring-3": (1, 2), "monitoring-monitoring-4": (1, 2)}
    assert group("thanos_compactor") == {"monitoring-monitoring-1"}
    assert group("consul_servers") == {"monitoring-consul-1", "monitoring-consul-2", "monitoring-consul-3"}
    assert group("oracle") == {"monitoring-oracle-1", "monitoring-oracle-2"}
    assert group("oracle_nodes") == group("oracle"), "site.yml deploys the oracle role to oracle_nodes"
    for host, values in hostvars.items():
        assert plain(values["docker_host_address"]).startswith("10.42."), host
        assert plain(values["ansible_host"]).startswith("10.42."), host
        if host not in monitoring:
            assert (values["prometheus_shard"], values["prometheus_shard_count"]) == (0, 1), host
