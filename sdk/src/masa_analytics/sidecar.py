"""The analytics sidecar: metrics and Consul registration for an unmodified masa-node.

masa-node (github.com/masa-finance/masa-oracle) is written in Go, has no /metrics route and no
Consul client. The sidecar runs beside it, in its network namespace, polls its HTTP API, and
serves what it reads as ``masa_node_*`` metrics on the SDK's mTLS endpoint. It registers two
services of the node in Consul through the SDK's lifecycle:

- the sidecar's endpoint (the service Prometheus scrapes), checked on its own ``/health``;
- the node's API, checked by the local agent on the node's ``/health``, critical until the node
  answers. It is a service of its own so that a node whose API is down stays scraped through its
  sidecar, which reports why, instead of vanishing from Prometheus with its service's health.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import urllib.parse
from dataclasses import dataclass
from typing import Dict, Iterator, Mapping, Optional

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from .metrics import EndpointMetrics
from .node_api import REASONS, NodeAPI, NodeAPISettings, PollError, Reading, typed_fields
from .service import AnalyticsService, ServiceConfig
from .tls import ConfigurationError

log = logging.getLogger("masa_analytics.sidecar")

NAMESPACE = "masa_node"
# A node answers in milliseconds; the buckets span that to the timeout.
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
SCRAPER_ROLES = {"twitter": "isTwitterScraper", "web": "isWebScraper", "discord": "isDiscordScraper",
                 "telegram": "isTelegramScraper"}
FLAGS = {"active": "isActive", "staked": "isStaked", "validator": "isValidator"}
# The node sends durations as Go time.Duration (nanoseconds) and counters as running totals.
GAUGE_FIELDS = {"uptime_seconds": ("uptime", 1e-9, "Uptime of the node's current session."),
                "accumulated_uptime_seconds": ("accumulatedUptime", 1e-9, "Uptime accumulated across sessions."),
                "last_updated_timestamp_seconds": ("lastUpdated", 1, "When the node last updated its data, Unix time."),
                "first_joined_timestamp_seconds": ("firstJoined", 1, "When the node first joined, Unix time.")}
COUNTER_FIELDS = {"returned_tweets": ("returnedTweets", "Tweets the node has returned."),
                  "tweet_timeouts": ("tweetTimeouts", "Tweet requests of the node that timed out."),
                  "not_found": ("notFoundCount", "Requests of the node that found nothing.")}


@dataclass
class SidecarConfig:
    api: NodeAPISettings
    # One second: a stopped node shows within a second, under the 2 s alert window, for four
    # small GETs a second that the node answers in milliseconds.
    interval: float = 1.0
    api_service_name: str = "masa-node"
    # The node's peer id; when unset, the tracked node whose address is ``address`` is this node.
    peer_id: Optional[str] = None
    address: Optional[str] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "SidecarConfig":
        env = os.environ if env is None else env
        try:
            interval = float(env.get("MASA_NODE_POLL_INTERVAL", "1"))
            timeout = float(env.get("MASA_NODE_TIMEOUT", "0.8"))
            max_body = int(env.get("MASA_NODE_MAX_BODY_BYTES", str(1 << 20)))
        except ValueError:
            raise ConfigurationError("MASA_NODE_POLL_INTERVAL and MASA_NODE_TIMEOUT must be seconds, "
                                     "MASA_NODE_MAX_BODY_BYTES a number of bytes") from None
        if not 0 < timeout < interval:
            raise ConfigurationError("MASA_NODE_TIMEOUT must be above 0 and below MASA_NODE_POLL_INTERVAL")
        return cls(api=NodeAPISettings(url=env.get("MASA_NODE_API_URL", "http://127.0.0.1:8080"), timeout=timeout,
                                       max_body_bytes=max_body),
                   interval=interval, api_service_name=env.get("MASA_NODE_API_SERVICE_NAME", "masa-node"),
                   peer_id=env.get("MASA_NODE_PEER_ID") or None, address=env.get("MASA_ADVERTISE_ADDRESS") or None)


class NodeMetrics(EndpointMetrics):
    """The last reading as metrics, plus the sidecar's own counters. A field the node did not send,
    or sent as another type, has no series until it comes back."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = Reading()
        self.request_duration = Histogram("api_request_duration_seconds", "Time the node's API took to answer.",
                                          ["route"], namespace=NAMESPACE, buckets=API_BUCKETS, registry=self.registry)
        self.poll_errors = Counter("poll_errors", "Failed calls to the node's API, by reason.", ["reason"],
                                   namespace=NAMESPACE, registry=self.registry)
        for reason in REASONS:
            self.poll_errors.labels(reason)
        self.registry.register(self)

    def collect(self) -> Iterator:
        reading = self.reading
        yield GaugeMetricFamily(f"{NAMESPACE}_up", "1 when the node's API answers /health.", value=int(reading.up))
        if reading.peers is not None:
            yield GaugeMetricFamily(f"{NAMESPACE}_peers", "Other nodes the node tracks.", value=reading.peers)
        for name, value, documentation in (("known_nodes", reading.known_nodes,
                                            "Nodes the node tracks, itself included."),
                                           ("known_active_nodes", reading.active_nodes,
                                            "Active nodes among the first page (25) of those this node lists.")):
            if value is not None:
                yield GaugeMetricFamily(f"{NAMESPACE}_{name}", documentation, value=value)
        node = reading.node
        if node is None:
            return
        if isinstance(node.get("peerId"), str):
            yield InfoMetricFamily(f"{NAMESPACE}", "The node's identity.", value={
                "peer_id": node["peerId"], "protocol_version": node.get("version", ""),
                "eth_address": node.get("ethAddress", "")})
        for name, field in FLAGS.items():
            if field in node:
                yield GaugeMetricFamily(f"{NAMESPACE}_{name}", f"1 when the node reports {field}.", value=int(node[field]))
        roles = GaugeMetricFamily(f"{NAMESPACE}_scraper", "1 for each scraper role the node takes.", labels=["role"])
        for role, field in SCRAPER_ROLES.items():
            if field in node:
                roles.add_metric([role], int(node[field]))
        yield roles
        for name, (field, scale, documentation) in GAUGE_FIELDS.items():
            if field in node:
                yield GaugeMetricFamily(f"{NAMESPACE}_{name}", documentation, value=node[field] * scale)
        for name, (field, documentation) in COUNTER_FIELDS.items():
            if field in node:
                yield CounterMetricFamily(f"{NAMESPACE}_{name}", documentation, value=node[field])


class Sidecar:
    """Polls one node and keeps ``metrics.reading`` current; logs a change of state once."""

    def __init__(self, config: SidecarConfig, metrics: NodeMetrics):
        self.config = config
        self.metrics = metrics
        self.api = NodeAPI(config.api)
        self.state = "starting"

    def timed(self, route: str, path: str):
        started = time.monotonic()
        try:
            return self.api.get_json(path)
        finally:
            self.metrics.request_duration.labels(route).observe(time.monotonic() - started)

    def poll(self) -> Reading:
        reading = Reading()
        problems = []
        try:
            health = self.timed("/health", "/health")
            reading.up = isinstance(health, dict) and health.get("success") is True
            if not reading.up:
                raise PollError("schema", "/health did not answer success")
        except PollError as error:
            self.metrics.poll_errors.labels(error.reason).inc()
            self.metrics.reading = reading
            self.note(f"node API down: {error.reason}", error.detail)
            return reading
        for part in (self.read_peers, self.read_own_data, self.read_known_nodes):
            try:
                part(reading)
            except PollError as error:
                self.metrics.poll_errors.labels(error.reason).inc()
                problems.append((error.reason, error.detail))
        self.metrics.reading = reading
        reasons = sorted(reason for reason, _detail in problems)
        self.note("node API up" + (f", but {'; '.join(reasons)}" if problems else ""),
                  "; ".join(detail for _reason, detail in problems))
        return reading

    def read_peers(self, reading: Reading) -> None:
        """The tracked nodes with their first address; this node is the one at its own address.
        (The /status page names the peer id, but v0.8.9 exits when it serves /status without
        TWITTER_ACCOUNTS set, so the sidecar never asks for it.)"""
        answer = self.timed("/api/v1/peer/addresses", "/api/v1/peer/addresses")
        tracked = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(tracked, list) or not all(isinstance(entry, dict) for entry in tracked):
            raise PollError("schema", "/api/v1/peer/addresses has no data list")
        ids = [entry.get("peerId") for entry in tracked if isinstance(entry.get("peerId"), str)]
        own = self.config.peer_id or next(
            (entry["peerId"] for entry in tracked
             if self.config.address and f"/ip4/{self.config.address}/" in str(entry.get("peerAddress"))), None)
        if own is None and len(ids) == 1:
            own = ids[0]
        reading.peer_id = own
        reading.peers = len([peer for peer in ids if peer != own])

    def read_own_data(self, reading: Reading) -> None:
        if not reading.peer_id:
            raise PollError("schema", "no tracked node is at this node's address; set MASA_NODE_PEER_ID")
        answer = self.timed("/api/v1/node/data/:peerid", "/api/v1/node/data/" + urllib.parse.quote(reading.peer_id))
        fields, wrong = typed_fields(answer.get("data") if isinstance(answer, dict) else None)
        reading.node = fields
        if wrong:
            raise PollError("schema", f"node data fields of another type: {', '.join(wrong)}")

    def read_known_nodes(self, reading: Reading) -> None:
        answer = self.timed("/api/v1/node/data", "/api/v1/node/data")
        total = answer.get("totalRecords") if isinstance(answer, dict) else None
        page = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or not isinstance(page, list):
            raise PollError("schema", "/api/v1/node/data has no totalRecords number and data list")
        reading.known_nodes = total
        reading.active_nodes = sum(1 for node in page if isinstance(node, dict) and node.get("isActive") is True)

    def note(self, state: str, detail: str = "") -> None:
        """Log a state (up, or down by reason) when it changes; the detail only with it."""
        if state != self.state:
            (log.info if state == "node API up" else log.warning)("%s", f"{state} ({detail})" if detail else state)
            self.state = state

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            await loop.run_in_executor(None, self.poll)
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, self.config.interval - (loop.time() - started)))
            except asyncio.TimeoutError:
                pass


def node_api_service(config: ServiceConfig, sidecar: SidecarConfig) -> Dict[str, object]:
    """The node's API as a Consul service of its own, checked by the local agent."""
    port = urllib.parse.urlsplit(sidecar.api.url).port or 8080
    service_id = f"{sidecar.api_service_name}-{config.node_id}"
    return {
        "ID": service_id,
        "Name": sidecar.api_service_name,
        "Address": config.address,
        "Port": port,
        "Meta": {"sidecar": config.service_id},
        "Check": {
            "CheckID": f"service:{service_id}",
            "Name": f"{sidecar.api_service_name} API /health",
            "HTTP": sidecar.api.url.rstrip("/") + "/health",
            "Interval": config.check_interval,
            "Timeout": config.check_timeout,
            # Not passing until the agent has seen the node answer.
            "Status": "critical",
        },
    }


async def run_sidecar(service_config: ServiceConfig, sidecar_config: SidecarConfig) -> None:
    metrics = NodeMetrics()
    service = AnalyticsService(service_config, metrics=metrics,
                               companions=[node_api_service(service_config, sidecar_config)])
    sidecar = Sidecar(sidecar_config, metrics)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await service.astart()
    log.info("watching the node at %s every %gs", sidecar_config.api.url, sidecar_config.interval)
    await sidecar.run(stop)
    await service.astop()
    log.info("stopped and deregistered")
