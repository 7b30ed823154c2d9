"""masa-analytics: the SDK's command line.

    masa-analytics sidecar     watch the masa-node beside it (MASA_NODE_* variables), serve its metrics
                               over mTLS and register it in Consul (MASA_* / CONSUL_* variables)
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__
from .service import run_from_env
from .sidecar import SidecarConfig, run_sidecar


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="masa-analytics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"masa-analytics {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sidecar", help="watch one masa-node through its HTTP API")
    args = parser.parse_args(argv)
    return run_from_env(args.log_level, lambda config: run_sidecar(config, SidecarConfig.from_env()))


if __name__ == "__main__":
    sys.exit(main())
