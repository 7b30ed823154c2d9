"""One screen on the running stack: where everything is, and whether it is healthy.
Exits 0 when healthy and 1 when degraded, so scripts can act on it.

    python scripts/status.py [--layout .state/layout] [--wait SECONDS]

--layout is the folder the play records the stack in (docker_host_layout_dir): .state/layout for
the local stack, inventory/aws/.secrets/layout for the AWS inventory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from masa_stack import Stack  # noqa: E402


def health(stack: Stack) -> tuple:
    """Lines on Consul's and Prometheus's view of the stack, and whether it is healthy."""
    lines, healthy = [], True
    try:
        oracle_service = stack.record(stack.oracle_nodes[0], "oracle-node")["service_name"] if stack.oracle_nodes else ""
        exporter_service = stack.record(stack.monitor, "node-exporter")["service_name"]
        for service, expected in ((oracle_service, stack.oracle_nodes), (exporter_service, stack.all_hosts)):
            entries = stack.consul(f"/v1/health/service/{service}")
            passing = sum(all(c["Status"] == "passing" for c in e["Checks"]) for e in entries)
            lines.append(f"  Consul        {service}: {len(entries)} registered, {passing} passing "
                         f"(expected {len(expected)})")
            healthy &= passing == len(expected)
    except Exception as exc:  # a status page reports, it does not crash
        lines.append(f"  Consul        unreachable: {exc}")
        healthy = False
    try:
        targets = stack.prometheus("/api/v1/targets")["data"]["activeTargets"]
        up = sum(t["health"] == "up" for t in targets)
        lines.append(f"  Prometheus    targets: {up} of {len(targets)} up")
        firing = [a for a in stack.prometheus("/api/v1/alerts")["data"]["alerts"] if a["state"] == "firing"]
        names = ", ".join(sorted({a["labels"]["alertname"] for a in firing})) or "none"
        lines.append(f"  Alerts        firing: {len(firing)} ({names})")
        healthy &= up == len(targets)
    except Exception as exc:
        lines.append(f"  Prometheus    unreachable: {exc}")
        healthy = False
    return lines, healthy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", default=None,
                        help="the stack's record (default: $MASA_LAYOUT_DIR, $MASA_STATE_DIR/layout or .state/layout)")
    parser.add_argument("--wait", type=float, default=0,
                        help="seconds to wait for a degraded stack to become healthy (a fresh one settles in a few)")
    args = parser.parse_args()
    stack = Stack.load(args.layout)
    monitor = stack.monitor
    host = "127.0.0.1" if stack.published(monitor) else stack.address(monitor)
    prometheus, alertmanager = stack.record(monitor, "prometheus"), stack.record(monitor, "alertmanager")
    password = (f"in {stack.layout_dir / monitor / 'prometheus-credentials.json'}"
                if "prometheus-credentials" in stack.records[monitor] else "in your vault")
    print("masa.monitoring")
    print(f"  Prometheus    https://{host}:{prometheus['port']}   user {prometheus['web_username']}, password {password}")
    print(f"  Alertmanager  https://{host}:{alertmanager['port']}   mTLS: use the operator certificate below")
    print(f"  Consul        https://{host}:{stack.record(monitor, 'consul')['https_port']}   "
          f"token in {stack.management_token_file}")
    print(f"  CA            {stack.ca}")
    print(f"  Operator cert {stack.operator_cert[0]} (+ .key)")
    deadline = time.monotonic() + args.wait
    lines, healthy = health(stack)
    while not healthy and time.monotonic() < deadline:
        time.sleep(2)
        lines, healthy = health(stack)
    print("\n".join(lines))
    print(f"  Health        {'OK' if healthy else 'DEGRADED'}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
