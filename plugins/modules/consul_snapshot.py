#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_snapshot
short_description: Save a Consul snapshot to a file and S3, or restore one
version_added: 0.1.0
description:
  - O(operation=save) takes a snapshot of the cluster's state (catalog, KV, ACLs, sessions) and writes it
    atomically to O(path) with mode C(0600), since it holds every ACL token. With O(s3_bucket) set, it is
    uploaded there too.
  - O(operation=restore) restores the cluster from O(path), downloading it from O(s3_bucket) first when
    the file is not there.
  - The token needs C(acl:write) (a management token) for both.
options:
  operation:
    description: Save a new snapshot, or restore one.
    type: str
    choices: [save, restore]
    required: true
  path:
    description: The snapshot file on the host that runs the module.
    type: path
    required: true
  s3_bucket:
    description: An S3 bucket that receives the snapshot after O(operation=save), or provides it for O(operation=restore).
    type: str
  s3_key:
    description: The object key in O(s3_bucket). Defaults to C(consul/) and the file's name.
    type: str
  s3_region:
    description: The bucket's region. Defaults to boto3's own configuration.
    type: str
  s3_endpoint_url:
    description: Another S3 endpoint, such as a test server.
    type: str
  stale:
    description: Let any server answer a save, not only the leader.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would be saved or restored, without doing it.
  diff_mode:
    support: none
    description: Snapshots are opaque; there is nothing to compare.
  idempotent:
    support: none
    description: Every save takes a new snapshot and every restore applies one.
extends_documentation_fragment:
  - masa.monitoring.consul
requirements:
  - boto3 (for S3)
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
- name: Back up the cluster to a file and to S3
  masa.monitoring.consul_snapshot:
    operation: save
    path: "/var/backups/consul/{{ ansible_date_time.iso8601_basic_short }}.snap"
    s3_bucket: masa-monitoring-backups
    token: "{{ vault_consul_management_token }}"

- name: Restore it
  masa.monitoring.consul_snapshot:
    operation: restore
    path: /var/backups/consul/20261124T060000.snap
    s3_bucket: masa-monitoring-backups
    token: "{{ vault_consul_management_token }}"
"""

RETURN = r"""
path:
  description: The snapshot file.
  returned: always
  type: str
size:
  description: The snapshot's size in bytes.
  returned: when a snapshot was saved or restored, not in check mode
  type: int
s3_uri:
  description: Where the snapshot is in S3.
  returned: when O(s3_bucket) is set
  type: str
"""

import os
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulClient, ConsulError, consul_module
from ansible_collections.masa.monitoring.plugins.module_utils._module import finish, write_atomically

try:
    import boto3
    import botocore.exceptions

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()


class Snapshot:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = ConsulClient(self.params)

    @property
    def s3_key(self):
        return self.params["s3_key"] or "consul/" + os.path.basename(self.params["path"])

    def s3(self):
        if not HAS_BOTO3:
            self.module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMPORT_ERROR)
        return boto3.client("s3", region_name=self.params["s3_region"], endpoint_url=self.params["s3_endpoint_url"])

    def s3_call(self, what, func, **kwargs):
        try:
            return func(**kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise ConsulError("S3 could not %s s3://%s/%s: %s" % (what, self.params["s3_bucket"], self.s3_key, exc))

    def save(self, result):
        if self.module.check_mode:
            return
        data = self.client.http.raw("take a snapshot (needs acl:write)",
                                    "/v1/snapshot" + ("?stale" if self.params["stale"] else ""))
        if not data:
            raise ConsulError("Consul at %s returned an empty snapshot" % self.client.address)
        write_atomically(self.module, self.params["path"], data, 0o600)
        result["size"] = len(data)
        if self.params["s3_bucket"]:
            self.s3_call("upload the snapshot to", self.s3().put_object, Bucket=self.params["s3_bucket"],
                         Key=self.s3_key, Body=data, ServerSideEncryption="aws:kms")

    def restore(self, result):
        path = self.params["path"]
        if not os.path.exists(path):
            if not self.params["s3_bucket"]:
                raise ConsulError("there is no snapshot at %s; give the path of a saved snapshot or s3_bucket" % path)
            if self.module.check_mode:
                return
            body = self.s3_call("download the snapshot from", self.s3().get_object, Bucket=self.params["s3_bucket"],
                                Key=self.s3_key)["Body"].read()
            write_atomically(self.module, path, body, 0o600)
        if self.module.check_mode:
            return
        with open(path, "rb") as handle:
            data = handle.read()
        self.client.http.raw("restore a snapshot (needs acl:write)", "/v1/snapshot", method="PUT", data=data)
        result["size"] = len(data)

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        result = dict(changed=True, path=self.params["path"])
        if self.params["s3_bucket"]:
            result["s3_uri"] = "s3://%s/%s" % (self.params["s3_bucket"], self.s3_key)
        getattr(self, self.params["operation"])(result)
        return result


def main():
    module = consul_module(dict(
        operation=dict(type="str", choices=["save", "restore"], required=True),
        path=dict(type="path", required=True),
        s3_bucket=dict(type="str"),
        s3_key=dict(type="str", no_log=False),
        s3_region=dict(type="str"),
        s3_endpoint_url=dict(type="str"),
        stale=dict(type="bool", default=False),
    ), has_state=False)
    Snapshot(module).run()


if __name__ == "__main__":
    main()
