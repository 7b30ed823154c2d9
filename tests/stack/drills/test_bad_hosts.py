"""Bad input on the production path is refused with the host and the cause named, and changes nothing elsewhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from conftest import changed_counts, run_ansible, run_play


def test_bootstrap_expect_beyond_the_three_servers_is_refused_before_any_change(stack):
    result = run_play("--tags", "consul", "-e", "consul_bootstrap_expect=4")
    assert result.returncode != 0
    assert "consul_bootstrap_expect is 4, but the inventory has 3 host(s)" in result.stdout, result.stdout[-3000:]
    counts = changed_counts(result.stdout)
    assert counts and not any(counts.values()), counts


def test_a_wrong_ssh_user_names_the_host_and_leaves_the_others_as_they_were(stack):
    victim = stack.oracle_nodes[-1]
    inventory = Path(os.environ["MASA_TEST_INVENTORY"])
    hosts = yaml.safe_load(inventory.read_text())
    hosts["all"]["hosts"][victim]["ansible_user"] = "intruder"
    # Beside the real one, so that the controller-side secrets (inventory_dir/.secrets) are the same.
    wrong = inventory.with_name("wrong-user.yml")
    wrong.write_text(yaml.safe_dump(hosts))
    extra = [f"--extra-vars=@{path}" for path in os.environ["MASA_TEST_EXTRA_VARS"].split(":") if path]
    try:
        # The Consul agents' play connects to every host it runs on.
        result = run_ansible("ansible-playbook", "site.yml", "-i", str(wrong), *extra, "--tags", "consul",
                             "--limit", f"{victim},{stack.monitor}", timeout=600)
    finally:
        wrong.unlink()

    assert result.returncode != 0
    assert re.search(rf"{re.escape(victim)}\S*\]: UNREACHABLE!.*?intruder@.*?Permission\s+denied", result.stdout, re.S), \
        result.stdout[-3000:]
    counts = changed_counts(result.stdout)
    assert set(counts) == {victim, stack.monitor}, counts
    assert not any(counts.values()), counts
