"""The oracle's standard metrics, in a registry of their own, and an API for more."""

from __future__ import annotations

import time
from typing import Dict, Iterable, Optional, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

NAMESPACE = "masa_oracle"
OUTCOMES = ("success", "timeout", "not_found", "error")
# Oracle requests take from a few milliseconds to tens of seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Children(dict):
    """Labelled children by label value, created on first use; lookups of known ones stay a plain dict get."""

    def __init__(self, parent):
        super().__init__()
        self._parent = parent

    def __missing__(self, value):
        child = self[value] = self._parent.labels(value)
        return child


class EndpointMetrics:
    """What every SDK endpoint exports: its registry, and its certificate's expiry."""

    def __init__(self, registry: Optional[CollectorRegistry] = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.certificate_not_after = Gauge(
            "tls_certificate_not_after_seconds", "Expiry of the metrics endpoint's certificate, Unix time.",
            namespace="masa", registry=self.registry,
        )


class OracleMetrics(EndpointMetrics):
    """Standard oracle metrics. The hot path goes through cached labelled children.

    ``work[outcome]`` and ``latency`` are prometheus_client objects themselves, so an increment
    costs what a raw prometheus_client increment costs.
    """

    def __init__(self, registry: Optional[CollectorRegistry] = None, version: str = "0.0.0", node_id: str = ""):
        super().__init__(registry)
        self._started = time.time()
        self.work_total = Counter(
            "work", "Oracle work items done, by outcome.", ["outcome"], namespace=NAMESPACE, registry=self.registry
        )
        self.errors_total = Counter(
            "errors", "Errors raised while doing oracle work, by kind.", ["kind"], namespace=NAMESPACE,
            registry=self.registry,
        )
        self.latency = Histogram(
            "request_duration_seconds", "Time to answer one oracle request.", namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.peers = Gauge("peers", "Connected peers.", namespace=NAMESPACE, registry=self.registry)
        self.uptime = Gauge("uptime_seconds", "Seconds since the service started.", namespace=NAMESPACE,
                            registry=self.registry)
        self.uptime.set_function(lambda: time.time() - self._started)
        self.accumulated_uptime = Counter(
            "accumulated_uptime_seconds", "Uptime accumulated across restarts, as reported by the oracle.",
            namespace=NAMESPACE, registry=self.registry,
        )
        self.is_active = Gauge("is_active", "1 when the node is active.", namespace=NAMESPACE, registry=self.registry)
        self.is_staked = Gauge("is_staked", "1 when the node is staked.", namespace=NAMESPACE, registry=self.registry)
        self.is_validator = Gauge("is_validator", "1 when the node is a validator.", namespace=NAMESPACE,
                                  registry=self.registry)
        self.build = Info("build", "Build and version of the oracle service.", namespace=NAMESPACE,
                          registry=self.registry)
        self.build.info({"version": version, "node_id": node_id})
        # Cached labelled children: metrics.work["success"].inc(), metrics.errors["upstream"].inc().
        self.work: Dict[str, Counter] = _Children(self.work_total)
        self.errors: Dict[str, Counter] = _Children(self.errors_total)
        for outcome in OUTCOMES:  # exported at zero from the start
            self.work.__missing__(outcome)
        # The standard outcomes bound once: metrics.work_success.inc() costs what a raw increment costs.
        self.work_success = self.work["success"]
        self.work_timeout = self.work["timeout"]
        self.work_not_found = self.work["not_found"]
        self.work_error = self.work["error"]

    # hot path -------------------------------------------------------------
    def record(self, outcome: str, seconds: float) -> None:
        """Count one work item and observe its latency."""
        self.work[outcome].inc()
        self.latency.observe(seconds)

    def error(self, kind: str) -> None:
        self.errors[kind].inc()

    def set_status(self, *, active: bool, staked: bool, validator: bool) -> None:
        self.is_active.set(int(active))
        self.is_staked.set(int(staked))
        self.is_validator.set(int(validator))

    # service-specific metrics ---------------------------------------------
    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, list(labels), namespace=NAMESPACE, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, list(labels), namespace=NAMESPACE, registry=self.registry)

    def histogram(self, name: str, documentation: str, labels: Sequence[str] = (),
                  buckets: Iterable[float] = LATENCY_BUCKETS) -> Histogram:
        return Histogram(name, documentation, list(labels), namespace=NAMESPACE, buckets=tuple(buckets),
                         registry=self.registry)
