"""No receiver secret reaches Ansible's output, even with --check --diff -vvv."""

from __future__ import annotations

import json
import os
import secrets

from conftest import run_play


def test_check_diff_vvv_prints_no_receiver_secret(stack):
    slack_path, routing_key = secrets.token_hex(16), secrets.token_hex(16)
    receivers = [
        {"name": "default", "webhook_configs": [{"url": os.environ["MASA_WEBHOOK_SINK"]}]},
        {"name": "slack", "slack_configs": [{"api_url": f"https://hooks.slack.com/services/{slack_path}",
                                             "channel": "#oracle-alerts"}]},
        {"name": "pager", "pagerduty_configs": [{"routing_key": routing_key}]},
    ]
    result = run_play("--tags", "monitoring", "--check", "--diff", "-vvv",
                      "-e", json.dumps({"alertmanager_receivers": receivers}))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Render the routes and receivers" in output
    assert stack.monitor in output
    leaked = [name for name, value in (("Slack api_url", slack_path), ("PagerDuty routing_key", routing_key))
              if value in output]
    assert not leaked, f"printed: {leaked}"
