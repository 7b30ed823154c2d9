"""masa-analytics: the SDK's command line.

    masa-analytics sidecar     watch the masa-node beside it (MASA_NODE_* variables), serve its metrics
                               over mTLS and register it in Consul (MASA_* / CONSUL_* variables)
    masa-analytics alert-log   receive Alertmanager's webhook and write each alert as a line of the log
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__
from .alert_log import serve
from .service import configure_logging, run_from_env
from .sidecar import SidecarConfig, run_sidecar


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="masa-analytics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"masa-analytics {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sidecar", help="watch one masa-node through its HTTP API")
    alert_log = commands.add_parser("alert-log", help="log every alert Alertmanager sends to this webhook")
    alert_log.add_argument("--host", default="127.0.0.1")
    alert_log.add_argument("--port", type=int, default=9095)
    args = parser.parse_args(argv)
    if args.command == "alert-log":
        configure_logging(args.log_level)
        serve(args.host, args.port)
        return 0
    return run_from_env(args.log_level, lambda config: run_sidecar(config, SidecarConfig.from_env()))


if __name__ == "__main__":
    sys.exit(main())
