"""masa-oracle-node: the reference oracle service, and a fleet simulator for scale tests.

    masa-oracle-node                 one simulated oracle, configured from MASA_* / CONSUL_* variables
    masa-oracle-node --fleet 500     500 simulated oracles in this process, ports from MASA_METRICS_PORT up
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import random
import signal
import sys
from typing import List

from .consul import ConsulAgent
from .service import AnalyticsService, ServiceConfig, run_from_env

log = logging.getLogger("masa_analytics.oracle_node")


class SimulatedOracle:
    """Produces realistic, changing oracle metrics: bursts of work, slow requests, peer churn."""

    def __init__(self, service: AnalyticsService, seed: int):
        self.metrics = service.metrics
        self.random = random.Random(seed)
        self.peers = self.random.randint(5, 40)
        self.metrics.set_status(active=True, staked=self.random.random() < 0.8, validator=self.random.random() < 0.3)

    def tick(self, seconds: float) -> None:
        rnd = self.random
        for _unit in range(rnd.randint(0, max(1, int(20 * seconds)))):
            roll = rnd.random()
            outcome = "success" if roll < 0.93 else "timeout" if roll < 0.96 else "not_found" if roll < 0.99 else "error"
            latency = rnd.lognormvariate(-2.5, 0.8) if outcome != "timeout" else rnd.uniform(5, 10)
            self.metrics.record(outcome, latency)
            if outcome == "error":
                self.metrics.error(rnd.choice(("upstream", "decode", "rate_limited")))
        self.peers = max(0, self.peers + rnd.randint(-2, 2))
        self.metrics.peers.set(self.peers)
        self.metrics.accumulated_uptime.inc(seconds)


async def run_fleet(configs: List[ServiceConfig], tick_seconds: float = 1.0) -> None:
    # One Consul client serves the whole fleet: the same agent, the same credentials.
    agent = ConsulAgent(configs[0].consul)
    services = [AnalyticsService(config, consul=agent) for config in configs]
    for service in services:
        await service.astart()
    oracles = [SimulatedOracle(service, seed=i) for i, service in enumerate(services)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("%d simulated oracle node(s) running", len(services))
    while not stop.is_set():
        for oracle in oracles:
            oracle.tick(tick_seconds)
        try:
            await asyncio.wait_for(stop.wait(), tick_seconds)
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(*(service.astop() for service in services))
    log.info("stopped and deregistered")


def fleet_configs(base: ServiceConfig, size: int) -> List[ServiceConfig]:
    if size == 1:
        return [base]
    return [
        dataclasses.replace(base, node_id=f"{base.node_id}-sim{i:04d}", port=base.port + i)
        for i in range(size)
    ]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="masa-oracle-node", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleet", type=int, default=1, help="how many simulated nodes to run (default 1)")
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between simulated work batches")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not 1 <= args.fleet <= 5000:
        parser.error("--fleet must be between 1 and 5000")
    return run_from_env(args.log_level, lambda base: run_fleet(fleet_configs(base, args.fleet), args.tick))


if __name__ == "__main__":
    sys.exit(main())
