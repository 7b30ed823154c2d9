"""One Prometheus against two hashmod shards behind Thanos Query, over the same simulated fleet.

Two setups run one after the other over the same SDK fleet (--nodes), each Prometheus configured from
roles/prometheus with the shipped rules and the TSDB block flags the role passes: one shard, then two
(prometheus_shard_count 2) with a Thanos sidecar each and Thanos Query over the sidecars. Each setup:

1. Registration to first scrape beside the monitoring host's own load: all but the last --probes nodes are
   registered at once and scraped; the last ones then register spread over --spread seconds, measured as
   bench/discovery_latency.py measures it (first `up == 1` sample plus its scrape duration).
2. Hold: the whole fleet for --hold seconds. For each Prometheus: the targets it keeps (checked against
   its hashmod share), scrape duration p99, CPU (process_cpu_seconds_total) and CPU per thousand scrapes a
   second, rule evaluation time. The simulator's CPU, and the sidecars', from their containers' cgroups.
3. The oracle fleet dashboard's queries ($datacenter and $node as .*, $__rate_interval as 1m), instant and
   over the dashboard's range, --repetitions times each: against the Prometheus, or against Thanos Query.

A closing paragraph sizes shards from the one-shard figures: nodes per shard within --headroom of a core
at the role's default intervals, and the shards --size-for nodes need.

    bench/shards.py [--nodes 500] [--hold 60] [--probes 50] [--spread 20] [--repetitions 30]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import requests
import yaml

from _lab import (CONTAINER_USER, REPO, ConsulCatalog, Lab, PrometheusAPI, docker, image, percentile,
                  role_defaults, seconds, wait_until)
from discovery_latency import (DISCOVERY_UPDATE_SECONDS, FIRST_PORT, FLEET_ADDRESSES, FLEET_BLOCK, fleet_address,
                               first_scrapes, register_spread, scrape_interval, start_fleet)

MONITOR_ADDRESSES = ["172.28.0.10", "172.28.0.11"]
CONSUL_PORT = 18500
PROMETHEUS_PORT = 19090
RULES = {path.name: path.read_text() for path in sorted((REPO / "roles/prometheus/files/rules").glob("*.yml"))}
# The lab's Prometheus serves plain HTTP (no web config), so the role's HTTPS self-scrape fails; this job records
# its process metrics, and the metrics the dashboard reads from Prometheus itself.
SELF_JOB = "prometheus-self"
SELF_SCRAPE = {"job_name": SELF_JOB, "static_configs": [{"targets": ["127.0.0.1:9090"]}]}
DASHBOARD = REPO / "roles/grafana/files/dashboards/oracle-fleet.json"
DASHBOARD_VARIABLES = {"$datacenter": ".*", "$node": ".*", "$__rate_interval": "1m"}
# Series a node-exporter serves (docs/performance.md, "The cost"): the simulator serves no node-exporter.
NODE_EXPORTER_SERIES = 440


@dataclass
class ShardFigures:
    shard: int
    targets: int
    share: int
    exact_share: bool
    scrapes: float
    samples: float
    endpoint_series: float
    duration_p99: float
    failed: int
    cpu: float
    rules_mean: float
    rules_max: float
    slowest_group: float

    @property
    def cpu_per_kscrapes(self) -> float:
        return self.cpu / (self.scrapes / 1000) if self.scrapes else float("nan")


@dataclass
class SetupFigures:
    shard_count: int
    discovery: List[float] = field(default_factory=list)
    shards: List[ShardFigures] = field(default_factory=list)
    simulator_cpu: float = 0.0
    sidecar_cpu: Optional[float] = None
    instant: Dict[str, List[float]] = field(default_factory=dict)
    ranged: Dict[str, List[float]] = field(default_factory=dict)
    failed_queries: Dict[str, str] = field(default_factory=dict)
    stat_values: Dict[str, str] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return "Prometheus" if self.shard_count == 1 else "Thanos Query"

    @property
    def title(self) -> str:
        return f"{self.shard_count} shard{'s' if self.shard_count > 1 else ''}"


class Catalogs:
    """Every shard host's Consul. Each lab host runs a dev agent of its own, where a cluster shares one catalog,
    so a node registers in each, one after the other."""

    def __init__(self, ports: List[int]):
        self.catalogs = [ConsulCatalog(port) for port in ports]

    def register(self, node: str, address: str, port: int) -> None:
        for catalog in self.catalogs:
            catalog.register(node, address, port)


def hashmod(value: str, modulus: int) -> int:
    """Prometheus's hashmod relabelling: the last 8 bytes of the value's MD5, modulo."""
    return int.from_bytes(hashlib.md5(value.encode()).digest()[8:], "big") % modulus


def node_name(index: int) -> str:
    """Simulated node ``index``, as register_spread names it."""
    return f"sim-{index:04d}"


def instance(index: int) -> str:
    """Its instance label, as the role relabels it."""
    return f"{node_name(index)}:{FIRST_PORT + index}"


def hashmod_share(nodes: int, shard: int, shard_count: int) -> set:
    return {instance(index) for index in range(nodes)
            if shard_count == 1 or hashmod(f"{fleet_address(index)}:{FIRST_PORT + index}", shard_count) == shard}


def dashboard_queries() -> List[tuple]:
    """(panel title, panel type, expression) of the oracle fleet dashboard's panels, each expression once."""
    found: Dict[str, tuple] = {}

    def walk(panels: list) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if expr:
                    for variable, value in DASHBOARD_VARIABLES.items():
                        expr = expr.replace(variable, value)
                    found.setdefault(expr, (panel.get("title", ""), panel.get("type", "")))

    walk(json.loads(DASHBOARD.read_text())["panels"])
    return [(title, kind, expr) for expr, (title, kind) in found.items()]


def dashboard_range() -> tuple:
    """The dashboard's time range and Grafana's step for it, in seconds: 15 minutes over a panel's width is under
    the datasource's minimum interval, so the step is that interval."""
    dashboard = json.loads(DASHBOARD.read_text())
    span = seconds(dashboard["time"]["from"].removeprefix("now-"))
    return span, seconds(role_defaults("grafana")["grafana_prometheus_scrape_interval"])


def cpu_seconds(containers: List[str]) -> float:
    """CPU time so far of every process in the containers, from their cgroups (v2, else v1)."""
    total = 0.0
    for name in containers:
        text = docker("exec", name, "sh", "-c",
                      "cat /sys/fs/cgroup/cpu.stat 2>/dev/null || cat /sys/fs/cgroup/cpuacct/cpuacct.usage")
        if text.startswith("usage_usec"):
            total += int(text.split()[1]) / 1e6
        else:
            total += int(text) / 1e9
    return total


def start_shards(lab: Lab, shard_count: int) -> List[PrometheusAPI]:
    block = role_defaults("prometheus")["prometheus_tsdb_block_duration"]
    shards = []
    for shard in range(shard_count):
        settings = {"prometheus_shard_count": shard_count, "prometheus_shard": shard,
                    "prometheus_extra_scrape_configs": [SELF_SCRAPE],
                    "flags": f"--storage.tsdb.min-block-duration={block} --storage.tsdb.max-block-duration={block}"}
        shards.append(lab.monitor(sandbox_name(shard_count, shard), MONITOR_ADDRESSES[shard], CONSUL_PORT + shard,
                                  PROMETHEUS_PORT + shard, settings, RULES))
    for prometheus in shards:
        wait_until(lambda: prometheus.query(f'up{{job="{SELF_JOB}"}} == 1'), 60, "Prometheus did not scrape itself")
    return shards


def sandbox_name(shard_count: int, shard: int) -> str:
    return f"bench-shards{shard_count}-{shard}"


def start_thanos(lab: Lab, shard_count: int) -> tuple:
    """A sidecar beside each shard's Prometheus, and Query on the first shard's host. Plain gRPC, and no
    objstore: the sidecars upload nothing, so their TSDB folder can be empty; they read through remote read."""
    thanos = role_defaults("thanos")
    thanos_image = image("thanos_image", thanos["thanos_image"])
    sidecars = []
    for shard in range(shard_count):
        sidecars.append(lab.run(f"{sandbox_name(shard_count, shard)}-thanos-sidecar",
                                "--network", f"container:{sandbox_name(shard_count, shard)}", "--user", CONTAINER_USER,
                                "--tmpfs", "/prometheus:uid=65534", "--entrypoint", "/bin/thanos", thanos_image,
                                "sidecar", "--tsdb.path=/prometheus", "--prometheus.url=http://127.0.0.1:9090",
                                f"--grpc-address=0.0.0.0:{thanos['thanos_sidecar_grpc_port']}",
                                f"--http-address=0.0.0.0:{thanos['thanos_sidecar_http_port']}"))
    endpoints = lab.workdir / "thanos-query" / "endpoints.yml"
    endpoints.parent.mkdir(parents=True, exist_ok=True)
    grpc = thanos["thanos_sidecar_grpc_port"]
    endpoints.write_text(yaml.safe_dump({"endpoints": [{"address": f"{address}:{grpc}"}
                                                       for address in MONITOR_ADDRESSES[:shard_count]]}))
    lab.run(f"{sandbox_name(shard_count, 0)}-thanos-query", "--network", f"container:{sandbox_name(shard_count, 0)}",
            "--user", CONTAINER_USER, "-v", f"{endpoints}:/etc/thanos/endpoints.yml:ro",
            "--entrypoint", "/bin/thanos", thanos_image, "query",
            f"--http-address=0.0.0.0:{thanos['thanos_query_http_port']}",
            f"--grpc-address=127.0.0.1:{thanos['thanos_query_grpc_port']}",
            "--endpoint.sd-config-file=/etc/thanos/endpoints.yml",
            f"--query.replica-label={role_defaults('prometheus')['prometheus_replica_label']}")
    query = PrometheusAPI(thanos["thanos_query_http_port"], host=MONITOR_ADDRESSES[0])

    def sidecars_connected() -> bool:
        stores = query.session.get(f"{query.url}/api/v1/stores", timeout=2).json()["data"]
        return len([store for store in stores.get("sidecar", []) if not store.get("lastError")]) == shard_count

    wait_until(sidecars_connected, 90, "Thanos Query did not reach every sidecar")
    return query, sidecars


def scraped_up(shards: List[PrometheusAPI]) -> int:
    return int(sum(prometheus.value('count(up{job="masa-oracle"} == 1)') for prometheus in shards))


def registration_to_scrape(shards: List[PrometheusAPI], catalogs: Catalogs, nodes: int, probes: int,
                           spread: float, rng: random.Random) -> List[float]:
    """The fleet but its first ``probes`` nodes registered and scraped; then those, spread over ``spread``
    seconds. Returns their registration-to-first-scrape times, on whichever shard keeps each."""
    for index in range(probes, nodes):
        catalogs.register(node_name(index), fleet_address(index), FIRST_PORT + index)
    wait_until(lambda: scraped_up(shards) >= nodes - probes, 120, "the fleet was not scraped", interval=1)
    registered = register_spread(catalogs, probes, spread, rng)
    deadline = 60 + 2 * (DISCOVERY_UPDATE_SECONDS + scrape_interval("ours"))
    wait_until(lambda: scraped_up(shards) >= nodes, deadline, interval=1)
    scraped: Dict[str, float] = {}
    for prometheus in shards:
        scraped.update(first_scrapes(prometheus, min(registered.values())))
    missing = [name for name in registered if name not in scraped]
    if missing:
        print(f"  {len(missing)} of {probes} registered node(s) were not scraped within {deadline:.0f} s")
    return [scraped[name] - registered[name] for name in registered if name in scraped]


def hold_figures(prometheus: PrometheusAPI, shard: int, shard_count: int, nodes: int, held: int) -> ShardFigures:
    window, subquery = f"[{held}s]", f"[{held}s:]"
    own = f'{{job="{SELF_JOB}"}}'
    kept = {series["metric"]["instance"] for series in prometheus.query('up{job="masa-oracle"}')}
    share = hashmod_share(nodes, shard, shard_count)
    durations = [value for samples in prometheus.samples(f'scrape_duration_seconds{{job="masa-oracle"}}{window}')
                 .values() for _timestamp, value in samples]
    failed = sum(1 for samples in prometheus.samples(f'up{{job="masa-oracle"}}{window}').values()
                 for _timestamp, value in samples if value == 0)
    rules = f"prometheus_rule_group_last_duration_seconds{own}"
    return ShardFigures(
        shard=shard, targets=len(kept), share=len(share), exact_share=kept == share,
        scrapes=prometheus.value(f"sum(rate(prometheus_target_interval_length_seconds_count{own}{window}))"),
        samples=prometheus.value(f"sum(rate(prometheus_tsdb_head_samples_appended_total{own}{window}))"),
        endpoint_series=prometheus.value(f'avg(avg_over_time(scrape_samples_scraped{{job="masa-oracle"}}{window}))'),
        duration_p99=percentile(durations, 0.99), failed=failed,
        cpu=prometheus.value(f"rate(process_cpu_seconds_total{own}{window})"),
        rules_mean=prometheus.value(f"avg_over_time(sum({rules}){subquery})"),
        rules_max=prometheus.value(f"max_over_time(sum({rules}){subquery})"),
        slowest_group=prometheus.value(f"max(max_over_time({rules}{window}))"),
    )


def time_queries(backend: PrometheusAPI, repetitions: int, figures: SetupFigures) -> None:
    """Each dashboard query, instant then over the dashboard's range, in turn, ``repetitions`` times."""
    span, step = dashboard_range()
    queries = dashboard_queries()
    for repetition in range(repetitions):
        for title, kind, expr in queries:
            result = timed(figures, figures.instant, expr, backend.query, expr)
            now = time.time()
            timed(figures, figures.ranged, expr, backend.query_range, expr, now - span, now, step)
            if repetition == 0 and kind == "stat" and result is not None:
                figures.stat_values[f"{title}: {expr}"] = (f"{float(result[0]['value'][1]):g}" if len(result) == 1
                                                           else f"{len(result)} series")


def timed(figures: SetupFigures, timings: Dict[str, List[float]], expr: str, ask, *args) -> Optional[list]:
    started = time.perf_counter()
    try:
        result = ask(*args)
    except requests.RequestException as error:
        figures.failed_queries[expr] = str(error)[:200]
        return None
    timings.setdefault(expr, []).append(time.perf_counter() - started)
    return result


def run_setup(lab: Lab, shard_count: int, args: argparse.Namespace, rng: random.Random) -> SetupFigures:
    figures = SetupFigures(shard_count)
    print(f"\n== {figures.title} ==", flush=True)
    shards = start_shards(lab, shard_count)
    backend, sidecars = start_thanos(lab, shard_count) if shard_count > 1 else (shards[0], [])
    catalogs = Catalogs([CONSUL_PORT + shard for shard in range(shard_count)])
    figures.discovery = registration_to_scrape(shards, catalogs, args.nodes, args.probes, args.spread, rng)
    print(f"registration to first scrape, the last {args.probes} of {args.nodes} nodes over {args.spread:g} s "
          f"while the others are scraped:\n  {latency_summary(figures.discovery)}", flush=True)

    simulator = fleet_containers(args.nodes)
    before, sidecars_before, started = cpu_seconds(simulator), cpu_seconds(sidecars), time.monotonic()
    time.sleep(args.hold)
    elapsed = time.monotonic() - started
    figures.simulator_cpu = (cpu_seconds(simulator) - before) / elapsed
    if sidecars:
        figures.sidecar_cpu = (cpu_seconds(sidecars) - sidecars_before) / elapsed
    figures.shards = [hold_figures(prometheus, shard, shard_count, args.nodes, args.hold)
                      for shard, prometheus in enumerate(shards)]
    print_hold(figures, args)

    time_queries(backend, args.repetitions, figures)
    print_queries(figures, args.repetitions)
    lab.remove(*[name for name in lab.containers if name.startswith(f"bench-shards{shard_count}-")])
    return figures


def fleet_containers(nodes: int) -> List[str]:
    return [f"bench-fleet-{slot}" for slot in range(math.ceil(nodes / FLEET_BLOCK))]


def latency_summary(values: List[float]) -> str:
    if not values:
        return "no samples"
    return (f"p50 {percentile(values, 0.5):5.2f} s   p95 {percentile(values, 0.95):5.2f} s   max {max(values):5.2f} s"
            f"   ({len(values)} nodes)")


def print_hold(figures: SetupFigures, args: argparse.Namespace) -> None:
    print(f"hold: {args.nodes} nodes for {args.hold} s")
    print("  shard  targets (hashmod share)  scrapes/s  samples/s  scrape p99  failed    CPU  CPU per 1k scrapes/s"
          "  rules: sum mean / max, slowest group")
    for shard in figures.shards:
        share = "exact" if shard.exact_share else "MISMATCH"
        print(f"  {shard.shard}/{figures.shard_count}   {shard.targets:7d} ({shard.share:5d}, {share:8s})"
              f"  {shard.scrapes:9.0f}  {shard.samples:9.0f}  {shard.duration_p99 * 1000:7.1f} ms  {shard.failed:6d}"
              f"  {shard.cpu:5.1%}  {shard.cpu_per_kscrapes:20.1%}"
              f"  {shard.rules_mean * 1000:6.1f} / {shard.rules_max * 1000:.1f} ms,"
              f" {shard.slowest_group * 1000:.1f} ms")
    total = sum(shard.targets for shard in figures.shards)
    print(f"  targets over all shards: {total} of {args.nodes}: {'they add up' if total == args.nodes else 'MISMATCH'};"
          f" Prometheus CPU together {sum(shard.cpu for shard in figures.shards):.1%} of a core")
    sidecars = f"; Thanos sidecars {figures.sidecar_cpu:.1%}" if figures.sidecar_cpu is not None else ""
    print(f"  simulator ({len(fleet_containers(args.nodes))} SDK container(s), from cgroups):"
          f" {figures.simulator_cpu:.1%} of a core{sidecars}", flush=True)


def pooled(timings: Dict[str, List[float]]) -> List[float]:
    return [value for values in timings.values() for value in values]


def print_queries(figures: SetupFigures, repetitions: int) -> None:
    span, step = dashboard_range()
    print(f"dashboard queries against {figures.backend}: {len(figures.instant)} queries x {repetitions}")
    for label, timings in (("instant", figures.instant), (f"range {span / 60:g}m step {step:g}s", figures.ranged)):
        print(f"  {label:22s} {millis_summary(pooled(timings))}")
        if timings:
            slowest = max(timings, key=lambda expr: percentile(timings[expr], 0.95))
            print(f"  {'':22s} slowest p95 {percentile(timings[slowest], 0.95) * 1000:.1f} ms: {slowest}")
    for expr, error in figures.failed_queries.items():
        print(f"  FAILED {expr}: {error}")


def millis_summary(values: List[float]) -> str:
    if not values:
        return "no samples"
    return (f"p50 {percentile(values, 0.5) * 1000:7.1f} ms   p95 {percentile(values, 0.95) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms")


def print_comparison(one: SetupFigures, two: SetupFigures, args: argparse.Namespace) -> None:
    floor = DISCOVERY_UPDATE_SECONDS + scrape_interval("ours")
    print(f"\n== {args.nodes} nodes: 1 shard against 2 ==")
    print(f"registration to first scrape p95 (floor {floor:g} s): "
          + ", ".join(f"{setup.title} {percentile(setup.discovery, 0.95):.2f} s" for setup in (one, two)))
    print(f"Prometheus CPU: 1 shard {one.shards[0].cpu:.1%}; 2 shards "
          + " + ".join(f"{shard.cpu:.1%}" for shard in two.shards) + f" = {sum(s.cpu for s in two.shards):.1%}")
    print(f"scrape p99: 1 shard {one.shards[0].duration_p99 * 1000:.1f} ms; 2 shards "
          + ", ".join(f"{shard.duration_p99 * 1000:.1f} ms" for shard in two.shards))
    for label, attribute in (("instant", "instant"), ("range", "ranged")):
        mine, theirs = pooled(getattr(one, attribute)), pooled(getattr(two, attribute))
        ratio = percentile(theirs, 0.95) / percentile(mine, 0.95)
        print(f"{label:7s} query p50 / p95: Prometheus {percentile(mine, 0.5) * 1000:.1f} / "
              f"{percentile(mine, 0.95) * 1000:.1f} ms, Thanos Query {percentile(theirs, 0.5) * 1000:.1f} / "
              f"{percentile(theirs, 0.95) * 1000:.1f} ms ({ratio:.1f}x at p95)")
    differing = [(panel, value, two.stat_values.get(panel)) for panel, value in one.stat_values.items()
                 if two.stat_values.get(panel) != value]
    if differing:
        print("stat panels that read otherwise through Thanos Query (the same fleet):")
    for panel, value, other in differing:
        print(f"  Prometheus {value}, Thanos Query {other}: {panel}")


def print_sizing(one: SetupFigures, args: argparse.Namespace) -> None:
    prometheus = role_defaults("prometheus")
    sdk_interval = seconds(prometheus["prometheus_scrape_interval"])
    exporter_interval = seconds(prometheus["prometheus_node_exporter_scrape_interval"])
    shard = one.shards[0]
    per_node = 1 / sdk_interval + 1 / exporter_interval
    by_scrapes = args.headroom / (shard.cpu / shard.scrapes * per_node)
    # node-exporter's scrapes carry about ten times an SDK endpoint's series: weighing nodes by samples brackets it.
    samples_per_node = shard.endpoint_series / sdk_interval + NODE_EXPORTER_SERIES / exporter_interval
    by_samples = args.headroom / (shard.cpu / shard.samples * samples_per_node)
    held = min(by_scrapes, by_samples)
    print(f"\n== sizing ==\nOne shard, measured with {args.nodes} nodes, spent {shard.cpu:.1%} of a core on "
          f"{shard.scrapes:,.0f} scrapes/s ({shard.cpu_per_kscrapes:.1%} per 1,000 scrapes/s) and {shard.samples:,.0f} "
          f"samples/s. A node at the default intervals costs {per_node:g} scrapes/s (SDK endpoint every "
          f"{sdk_interval:g} s, node-exporter every {exporter_interval:g} s), so with {args.headroom:.0%} of one core "
          f"one shard holds about {by_scrapes:,.0f} nodes counted by scrapes; counted by samples "
          f"({shard.endpoint_series:.0f} series per SDK endpoint, {NODE_EXPORTER_SERIES} per node-exporter: "
          f"{samples_per_node:.0f} samples/s a node), "
          f"about {by_samples:,.0f}. Taking the lower, {args.size_for:,} nodes need "
          f"{math.ceil(args.size_for / held)} shards (each a pair of replicas). These are average costs, with the "
          f"fixed ones (self-scrape, rules, discovery) spread over this fleet: from a small --nodes they understate "
          f"what a shard holds.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=500, help="simulated fleet size")
    parser.add_argument("--hold", type=int, default=60, help="seconds the whole fleet is held for the figures")
    parser.add_argument("--probes", type=int, default=50,
                        help="nodes registered last, for registration to first scrape (at most half the fleet)")
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which those registrations arrive")
    parser.add_argument("--repetitions", type=int, default=30, help="times each dashboard query is asked")
    parser.add_argument("--headroom", type=float, default=0.5, help="the share of one core a shard may use")
    parser.add_argument("--size-for", type=int, default=10000, help="fleet size to size shards for")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.nodes > FLEET_BLOCK * len(FLEET_ADDRESSES):
        parser.error(f"at most {FLEET_BLOCK * len(FLEET_ADDRESSES)} nodes")
    args.probes = min(args.probes, args.nodes // 2)
    rng = random.Random(args.seed)
    print(f"fleet: {args.nodes} simulated nodes in {len(fleet_containers(args.nodes))} SDK process(es), scraped every "
          f"{scrape_interval('ours'):g} s; {len(dashboard_queries())} dashboard queries", flush=True)
    with Lab() as lab:
        start_fleet(lab, args.nodes)
        one = run_setup(lab, 1, args, rng)
        two = run_setup(lab, 2, args, rng)
    print_comparison(one, two, args)
    print_sizing(one, args)


if __name__ == "__main__":
    main()
