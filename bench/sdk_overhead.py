"""What the SDK costs an oracle, against raw prometheus_client in the same run.

Prints: ns per counter increment and per histogram observation (SDK and raw, and their ratio;
goal: at most 1.1x), and /metrics latency over mTLS at 1k and 10k series (p50, p95).
"""

from __future__ import annotations

import http.client
import ssl
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk/src"))

from prometheus_client import CollectorRegistry, Counter, Histogram  # noqa: E402

from _certs import make_pki  # noqa: E402
from masa_analytics import AnalyticsService, OracleMetrics, ServiceConfig, TLSFiles  # noqa: E402
from masa_analytics.metrics import LATENCY_BUCKETS  # noqa: E402

# Many short rounds, each timing both statements back to back: this machine's speed drifts from
# second to second, so the paired ratio (median over rounds) is what compares them fairly.
ROUNDS = 60
NUMBER = 20_000


def paired_ns(first, second, scope) -> tuple:
    """Best ns per call of each statement, and the median of their per-round ratio."""
    timers = [timeit.Timer(first, globals=scope), timeit.Timer(second, globals=scope)]
    rounds = []
    for _round in range(ROUNDS):
        rounds.append([timer.timeit(NUMBER) / NUMBER * 1e9 for timer in timers])
    return (min(r[0] for r in rounds), min(r[1] for r in rounds), statistics.median(r[0] / r[1] for r in rounds))


def hot_path() -> None:
    registry = CollectorRegistry()
    raw_counter = Counter("raw_work", "raw", ["outcome"], registry=registry)
    raw_child = raw_counter.labels("success")
    raw_hist = Histogram("raw_latency", "raw", buckets=LATENCY_BUCKETS, registry=registry)
    metrics = OracleMetrics()
    scope = {"raw_child": raw_child, "raw_counter": raw_counter, "raw_hist": raw_hist, "metrics": metrics}
    rows = [
        ("counter increment (metrics.work_success)", "metrics.work_success.inc()", "raw_child.inc()"),
        ("counter increment (metrics.work[outcome])", "metrics.work['success'].inc()", "raw_child.inc()"),
        ("counter increment, labels() each time (raw only)", "metrics.work['success'].inc()",
         "raw_counter.labels('success').inc()"),
        ("histogram observation", "metrics.latency.observe(0.12)", "raw_hist.observe(0.12)"),
        ("record(): increment + observation", "metrics.record('success', 0.12)",
         "raw_child.inc(); raw_hist.observe(0.12)"),
    ]
    print(f"hot path: {ROUNDS} rounds of {NUMBER:,} calls, SDK and raw prometheus_client back to back")
    print(f"  {'operation':<52} {'SDK ns':>8} {'raw ns':>8} {'ratio':>6}   (best ns; median per-round ratio)")
    for label, sdk, raw in rows:
        sdk_ns, raw_ns, ratio = paired_ns(sdk, raw, scope)
        print(f"  {label:<52} {sdk_ns:8.0f} {raw_ns:8.0f} {ratio:6.2f}")


def scrape_latency(series: int, pki: dict, samples: int = 200) -> None:
    config = ServiceConfig(name="bench", node_id=f"bench-{series}", listen_host="127.0.0.1", address="127.0.0.1",
                           port=0, register=False, drain_seconds=0,
                           tls=TLSFiles(cert=pki["cert"], key=pki["key"], ca=pki["ca"]))
    service = AnalyticsService(config)
    gauge = service.metrics.gauge("bench_series", "Padding series for the benchmark.", ["i"])
    already = len([s for m in service.metrics.registry.collect() for s in m.samples])
    for i in range(max(0, series - already)):
        gauge.labels(str(i)).set(i)
    service.start()
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    context.load_cert_chain(str(pki["cert"]), str(pki["key"]))
    connection = http.client.HTTPSConnection("127.0.0.1", service.endpoint.port, context=context, timeout=10)
    timings = []
    size = 0
    try:
        for _sample in range(samples):
            start = time.perf_counter()
            connection.request("GET", "/metrics")
            body = connection.getresponse().read()
            timings.append((time.perf_counter() - start) * 1000)
            size = len(body)
    finally:
        connection.close()
        service.stop()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"  {series:>6,} series  {size / 1024:7.0f} KiB   p50 {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms")


def main() -> None:
    hot_path()
    with tempfile.TemporaryDirectory() as directory:
        pki = make_pki(Path(directory))
        print("/metrics over mTLS, one keep-alive connection, 200 scrapes each")
        for series in (1_000, 10_000):
            scrape_latency(series, pki)


if __name__ == "__main__":
    main()
