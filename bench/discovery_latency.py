"""Registration in Consul to the first successful mTLS scrape, ours against the stock configuration.

Both profiles run Prometheus with the configuration rendered from roles/prometheus, against a real
Consul that requires client certificates, scraping real SDK endpoints over mTLS. Stock changes only
the timings of the original request: 15 s scrapes and consul_sd's default 30 s refresh.

Registrations are spread uniformly over --spread seconds, so they land at every phase of
Prometheus's own timers. The time of a registration is taken before its request; the time of
the first scrape is the timestamp of the first `up == 1` sample plus that scrape's duration.

After the largest round, our profile holds every target for --hold seconds and reports the
scrape durations: the default interval must keep p99 under 1 s at 500 nodes.

A candidate setting is measured in the same run as a further profile: ours with some role
variables changed, or with more Prometheus flags ("flags", space-separated), for example
--candidate refresh-1s:prometheus_consul_refresh_interval=1s or
--candidate reload-1s:flags=--scrape.discovery-reload-interval=1s.

    bench/discovery_latency.py [--sizes 10 100 500] [--spread 30] [--hold 60] [--candidate NAME:VAR=VALUE[,VAR=VALUE]]
"""

from __future__ import annotations

import argparse
import random
import socket
import ssl
import time
from typing import Dict, List

from _lab import (STOCK_PROMETHEUS, ConsulCatalog, Lab, PrometheusAPI, docker, percentile, role_defaults,
                  seconds, summary, wait_until)

MONITOR = "172.28.0.10"
# The simulated nodes live in several SDK processes, so that serving them is not held to one core.
FLEET_ADDRESSES = ["172.28.0.20", "172.28.0.21", "172.28.0.22", "172.28.0.23"]
FIRST_PORT = 10000
FLEET_BLOCK = 125
CONSUL_PORT = 18500
PROMETHEUS_PORT = 19090
# Prometheus's discovery manager hands target updates to the scrape manager at most every 5 s.
DISCOVERY_UPDATE_SECONDS = 5.0
PROFILES = {
    "ours": {},
    "stock": STOCK_PROMETHEUS,
}


def candidate(text: str) -> tuple:
    """NAME:VAR=VALUE[,VAR=VALUE] -> (NAME, {VAR: VALUE})"""
    name, _sep, settings = text.partition(":")
    pairs = [setting.split("=", 1) for setting in settings.split(",") if setting]
    if not name or not pairs or any(len(pair) != 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME:VAR=VALUE[,VAR=VALUE]")
    return name, dict(pairs)


def timing(profile: str, variable: str) -> float:
    """A timing of the profile in seconds: its override, else the role default."""
    return seconds(PROFILES[profile].get(variable, role_defaults("prometheus")[variable]))


def scrape_interval(profile: str) -> float:
    return timing(profile, "prometheus_scrape_interval")


def fleet_address(index: int) -> str:
    """Node ``index`` listens on port FIRST_PORT + index, in the process that holds its block of nodes."""
    return FLEET_ADDRESSES[index // FLEET_BLOCK]


def start_fleet(lab: Lab, size: int) -> None:
    for slot, first in enumerate(range(0, size, FLEET_BLOCK)):
        lab.oracle_nodes(f"bench-fleet-{slot}", FLEET_ADDRESSES[slot], min(FLEET_BLOCK, size - first), FIRST_PORT + first)
    for index in range(FLEET_BLOCK - 1, size, FLEET_BLOCK):
        wait_for_fleet(lab, index)
    wait_for_fleet(lab, size - 1)


def wait_for_fleet(lab: Lab, index: int) -> None:
    context = ssl.create_default_context(cafile=str(lab.pki["ca"]))
    context.load_cert_chain(str(lab.pki["cert"]), str(lab.pki["key"]))

    def last_endpoint_answers() -> bool:
        try:
            with socket.create_connection((fleet_address(index), FIRST_PORT + index), timeout=1) as raw:
                with context.wrap_socket(raw, server_hostname=fleet_address(index)):
                    return True
        except OSError:
            return False

    wait_until(last_endpoint_answers, 120, f"simulated oracle node {index} did not listen")


def start_monitor(lab: Lab, profile: str) -> PrometheusAPI:
    prometheus = lab.monitor("bench-discovery", MONITOR, CONSUL_PORT, PROMETHEUS_PORT, PROFILES[profile], rules={})
    # Consul's own metrics are a static target: once they have a sample, discovery and scraping run.
    wait_until(lambda: prometheus.query('up{job="consul"}'), 90, "Prometheus did not start scraping")
    return prometheus


def register_spread(catalog: ConsulCatalog, size: int, spread: float, rng: random.Random) -> Dict[str, float]:
    offsets = sorted(rng.uniform(0, spread) for _node in range(size))
    registered = {}
    started = time.time()
    for index, offset in enumerate(offsets):
        time.sleep(max(0.0, started + offset - time.time()))
        node = f"sim-{index:04d}"
        registered[f"{node}:{FIRST_PORT + index}"] = time.time()
        catalog.register(node, fleet_address(index), FIRST_PORT + index)
    return registered


def first_scrapes(prometheus: PrometheusAPI, since: float) -> Dict[str, float]:
    window = f"[{int(time.time() - since) + 5}s]"
    up = prometheus.samples(f'up{{job="masa-oracle"}}{window}')
    durations = prometheus.samples(f'scrape_duration_seconds{{job="masa-oracle"}}{window}')
    found = {}
    for instance, samples in up.items():
        successful = [timestamp for timestamp, value in samples if value == 1]
        if successful:
            duration = dict(durations.get(instance, [])).get(successful[0], 0.0)
            found[instance] = successful[0] + duration
    return found


def measure(lab: Lab, profile: str, size: int, spread: float, rng: random.Random) -> List[float]:
    prometheus = start_monitor(lab, profile)
    registered = register_spread(ConsulCatalog(CONSUL_PORT), size, spread, rng)
    deadline = 60 + 2 * (DISCOVERY_UPDATE_SECONDS + scrape_interval(profile)
                         + timing(profile, "prometheus_consul_refresh_interval"))
    wait_until(lambda: prometheus.value('count(up{job="masa-oracle"} == 1)') >= size, deadline, interval=1)
    scraped = first_scrapes(prometheus, min(registered.values()))
    missing = size - len(scraped)
    if missing:
        print(f"  {profile}: {missing} of {size} node(s) were not scraped within {deadline:.0f} s")
    return [scraped[instance] - registered[instance] for instance in scraped]


def hold(lab: Lab, size: int, seconds_held: int, rng: random.Random) -> None:
    prometheus = start_monitor(lab, "ours")
    register_spread(ConsulCatalog(CONSUL_PORT), size, 0, rng)
    wait_until(lambda: prometheus.value('count(up{job="masa-oracle"} == 1)') >= size, 60, interval=1)
    time.sleep(seconds_held)
    window = f"[{seconds_held}s]"
    durations = [value for samples in prometheus.samples(f'scrape_duration_seconds{{job="masa-oracle"}}{window}').values()
                 for _timestamp, value in samples]
    failed = sum(1 for samples in prometheus.samples(f'up{{job="masa-oracle"}}{window}').values()
                 for _timestamp, value in samples if value == 0)
    interval = scrape_interval("ours")
    print(f"\nhold: {size} targets at the default {interval:g} s interval for {seconds_held} s "
          f"({len(durations):,} scrapes, {failed} failed)")
    print(f"  scrape duration   p50 {percentile(durations, 0.5) * 1000:6.1f} ms   "
          f"p99 {percentile(durations, 0.99) * 1000:6.1f} ms   max {max(durations) * 1000:6.1f} ms")
    usage = lab_cpu(lab)
    print("  CPU (docker stats): " + ", ".join(f"{name} {cpu}" for name, cpu in usage.items()))


def lab_cpu(lab: Lab) -> Dict[str, str]:
    lines = docker("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}", *lab.containers).splitlines()
    return dict(line.split(" ", 1) for line in lines if line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--spread", type=float, default=30.0, help="seconds over which registrations arrive")
    parser.add_argument("--hold", type=int, default=30, help="seconds to hold the largest size (0 skips)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hold-only", action="store_true", help="skip the latency rounds")
    parser.add_argument("--candidate", type=candidate, action="append", default=[],
                        help="a further profile: ours with role variables (or flags) changed, NAME:VAR=VALUE[,VAR=VALUE]")
    args = parser.parse_args()
    PROFILES.update(args.candidate)
    rng = random.Random(args.seed)
    largest = max(args.sizes)
    if largest > FLEET_BLOCK * len(FLEET_ADDRESSES):
        parser.error(f"at most {FLEET_BLOCK * len(FLEET_ADDRESSES)} nodes")
    results = {}
    with Lab() as lab:
        start_fleet(lab, largest)
        for size in [] if args.hold_only else args.sizes:
            for profile in PROFILES:
                results[size, profile] = measure(lab, profile, size, args.spread, rng)
                print(f"{size:4d} nodes  {profile:12s}  {summary(results[size, profile])}   "
                      f"scraped {len(results[size, profile])}/{size}", flush=True)
        if args.hold:
            hold(lab, largest, args.hold, rng)
    if args.hold_only:
        return
    print("\nregistration to first successful mTLS scrape, p95")
    for profile in PROFILES:
        floor = DISCOVERY_UPDATE_SECONDS + scrape_interval(profile)
        print(f"  {profile:12s} floor: {DISCOVERY_UPDATE_SECONDS:g} s discovery update + {scrape_interval(profile):g} s "
              f"scrape interval = {floor:g} s")
    for size in args.sizes:
        p95 = {profile: percentile(results[size, profile], 0.95) for profile in PROFILES}
        print(f"  {size:4d} nodes: stock {p95['stock']:5.2f} s; " + ", ".join(
            f"{profile} {p95[profile]:5.2f} s ({p95['stock'] / p95[profile]:4.1f}x faster)"
            for profile in PROFILES if profile != "stock"))


if __name__ == "__main__":
    main()
