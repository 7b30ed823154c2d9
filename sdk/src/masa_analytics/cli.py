"""masa-analytics: the SDK's command line.

    masa-analytics sidecar     watch the masa-node beside it (MASA_NODE_* variables), serve its metrics
                               over mTLS and register it in Consul (MASA_* / CONSUL_* variables)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import List, Optional

from . import __version__
from .service import ServiceConfig
from .sidecar import SidecarConfig, run_sidecar
from .tls import ConfigurationError

log = logging.getLogger("masa_analytics")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="masa-analytics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"masa-analytics {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sidecar", help="watch one masa-node through its HTTP API")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service_config = ServiceConfig.from_env()
        if service_config.version == "0.0.0":
            service_config.version = __version__
        asyncio.run(run_sidecar(service_config, SidecarConfig.from_env()))
    except ConfigurationError as exc:
        log.error("cannot start: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
