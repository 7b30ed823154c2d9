"""AnalyticsService: the metrics endpoint and the Consul registration an oracle service needs.

The oracle only records metrics; the service owns the endpoint, the registration, retries and
a clean deregistration, so a change to oracle logic cannot break analytics.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Dict, FrozenSet, List, Mapping, Optional, Sequence

from .consul import ConsulAgent, ConsulError, ConsulPermissionDenied, ConsulSettings, ConsulUnavailable
from .metrics import EndpointMetrics, OracleMetrics
from .server import MetricsEndpoint
from .tls import ConfigurationError, TLSFiles, certificate_not_after, server_context

log = logging.getLogger("masa_analytics")

PROMETHEUS_TAG = "prometheus"


@dataclass
class ServiceConfig:
    """What the SDK needs to know. ``from_env`` reads it from MASA_* and CONSUL_* variables."""

    name: str
    tls: TLSFiles
    consul: ConsulSettings = field(default_factory=ConsulSettings)
    node_id: str = field(default_factory=socket.gethostname)
    version: str = "0.0.0"
    address: str = "127.0.0.1"
    listen_host: str = "0.0.0.0"
    port: int = 9200
    tags: List[str] = field(default_factory=lambda: [PROMETHEUS_TAG])
    meta: Dict[str, str] = field(default_factory=dict)
    check_interval: str = "2s"
    check_timeout: str = "1s"
    deregister_critical_after: str = "1m"
    # After deregistering, keep serving this long so Prometheus drops the target before the
    # endpoint closes, and a planned stop never looks like a failed scrape.
    drain_seconds: float = 6.0
    register: bool = True
    # Client identities (certificate SANs) admitted to /metrics and /health; empty admits any
    # certificate our CA signed.
    metrics_clients: FrozenSet[str] = frozenset()
    health_clients: FrozenSet[str] = frozenset()

    @property
    def service_id(self) -> str:
        return f"{self.name}-{self.node_id}-{self.port}"

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ServiceConfig":
        env = os.environ if env is None else env

        def path(name: str) -> Path:
            value = env.get(name)
            if not value:
                raise ConfigurationError(f"{name} is not set; point it at a PEM file")
            return Path(value)

        def optional_path(name: str) -> Optional[Path]:
            return Path(env[name]) if env.get(name) else None

        tags = [t for t in env.get("MASA_SERVICE_TAGS", PROMETHEUS_TAG).split(",") if t]
        if PROMETHEUS_TAG not in tags:
            tags.append(PROMETHEUS_TAG)
        try:
            port = int(env.get("MASA_METRICS_PORT", "9200"))
        except ValueError:
            raise ConfigurationError("MASA_METRICS_PORT must be a port number") from None
        return cls(
            name=env.get("MASA_SERVICE_NAME", "masa-oracle"),
            node_id=env.get("MASA_NODE_ID") or socket.gethostname(),
            version=env.get("MASA_VERSION", "0.0.0"),
            address=env.get("MASA_ADVERTISE_ADDRESS") or _local_address(),
            listen_host=env.get("MASA_LISTEN_HOST", "0.0.0.0"),
            port=port,
            tags=tags,
            tls=TLSFiles(cert=path("MASA_TLS_CERT"), key=path("MASA_TLS_KEY"), ca=path("MASA_TLS_CA")),
            consul=ConsulSettings(
                url=env.get("CONSUL_HTTP_ADDR", "https://127.0.0.1:8501"),
                token=_token(env),
                ca=optional_path("CONSUL_CACERT") or Path(env["MASA_TLS_CA"]),
                client_cert=optional_path("CONSUL_CLIENT_CERT") or Path(env["MASA_TLS_CERT"]),
                client_key=optional_path("CONSUL_CLIENT_KEY") or Path(env["MASA_TLS_KEY"]),
            ),
            check_interval=env.get("MASA_CHECK_INTERVAL", "2s"),
            deregister_critical_after=env.get("MASA_DEREGISTER_AFTER", "1m"),
            drain_seconds=float(env.get("MASA_DRAIN_SECONDS", "6")),
            register=env.get("MASA_CONSUL_REGISTER", "true").lower() not in ("0", "false", "no"),
            metrics_clients=_identities(env.get("MASA_METRICS_CLIENTS", "")),
            health_clients=_identities(env.get("MASA_HEALTH_CLIENTS", "")),
        )


def _identities(listed: str) -> FrozenSet[str]:
    return frozenset(item.strip() for item in listed.split(",") if item.strip())


def duration_seconds(text: str) -> float:
    """A Consul duration such as "500ms", "2s" or "1m", in seconds."""
    for unit, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * factor
    raise ConfigurationError(f"{text!r} is not a duration such as 2s or 500ms")


def _token(env: Mapping[str, str]) -> Optional[str]:
    """CONSUL_HTTP_TOKEN_FILE keeps the token out of the process environment."""
    token_file = env.get("CONSUL_HTTP_TOKEN_FILE")
    if token_file:
        try:
            return Path(token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigurationError(f"cannot read the Consul token file {token_file}: {exc.strerror}") from None
    return env.get("CONSUL_HTTP_TOKEN") or None


def _local_address() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


class AnalyticsService:
    """Serves metrics over mTLS and keeps the service registered in Consul until stopped.

    Use ``start()``/``stop()`` from ordinary code, or ``await astart()``/``astop()`` inside an
    event loop (the fleet simulator runs hundreds of them on one loop).
    """

    max_backoff_seconds = 30.0

    def __init__(self, config: ServiceConfig, metrics: Optional[EndpointMetrics] = None,
                 consul: Optional[ConsulAgent] = None, companions: Sequence[Dict[str, object]] = ()):
        """``companions`` are further Consul service definitions of this node, registered,
        kept registered and deregistered with the service."""
        self.config = config
        self.metrics = metrics or OracleMetrics(version=config.version, node_id=config.node_id)
        self.consul = consul or ConsulAgent(config.consul)
        self.companions = list(companions)
        self.registered = asyncio.Event()
        self.last_consul_error: Optional[str] = None
        self._context = server_context(config.tls)
        self.metrics.certificate_not_after.set(certificate_not_after(config.tls.cert))
        self.endpoint = MetricsEndpoint(
            self.metrics.registry, self._context, config.listen_host, config.port, self.health,
            metrics_clients=config.metrics_clients, health_clients=config.health_clients,
        )
        # Within one check period, a registration changed behind our back is registered again.
        self.repair_seconds = duration_seconds(config.check_interval)
        self._registration: Optional[asyncio.Task] = None
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # health and registration ------------------------------------------------
    def health(self) -> Dict[str, object]:
        return {"status": "passing", "service_id": self.config.service_id, "version": self.config.version}

    def definition(self) -> Dict[str, object]:
        c = self.config
        meta = {
            "version": c.version,
            "node_id": c.node_id,
            "metrics_scheme": "https",
            "metrics_path": self.endpoint.metrics_path,
        }
        meta.update(c.meta)
        return {
            "ID": c.service_id,
            "Name": c.name,
            "Tags": list(c.tags),
            "Address": c.address,
            "Port": self.endpoint.port,
            "Meta": meta,
            "Check": {
                "CheckID": f"service:{c.service_id}",
                "Name": f"{c.name} /health over mTLS",
                "HTTP": f"https://{c.address}:{self.endpoint.port}/health",
                "Interval": c.check_interval,
                "Timeout": c.check_timeout,
                "TLSSkipVerify": False,
                # The endpoint listens before registration, so the first state is known.
                "Status": "passing",
                "DeregisterCriticalServiceAfter": c.deregister_critical_after,
            },
        }

    def drift(self, definition: Dict[str, object]) -> List[str]:
        """How the agent's registration differs from ``definition``: empty when it says what we registered."""
        found = self.consul.service(str(definition["ID"]))
        if found is None:
            return ["it is gone"]
        wanted = {"name": definition["Name"], "address": definition.get("Address", ""),
                  "port": definition.get("Port", 0), "tags": sorted(definition.get("Tags", [])),
                  "meta": definition.get("Meta", {})}
        actual = {"name": found.get("Service"), "address": found.get("Address", ""), "port": found.get("Port", 0),
                  "tags": sorted(found.get("Tags") or []), "meta": found.get("Meta") or {}}
        drift = [f"{key} is {actual[key]!r}, not {wanted[key]!r}" for key in wanted if actual[key] != wanted[key]]
        check = definition.get("Check")
        if isinstance(check, dict):
            check_id = check.get("CheckID", f"service:{definition['ID']}")
            present = self.consul.checks(str(definition["ID"])).get(check_id)
            kind = next((k.lower() for k in ("HTTP", "TCP", "TTL", "GRPC") if k in check), "")
            if present is None:
                drift.append(f"its check {check_id} is gone")
            elif present.get("Type") and present["Type"] != kind:
                drift.append(f"its check is of type {present['Type']}, not {kind}")
            elif kind == "http" and (present.get("Definition") or {}).get("HTTP") not in (None, "", check["HTTP"]):
                drift.append(f"its check asks {present['Definition']['HTTP']}, not {check['HTTP']}")
        return drift

    async def _keep_registered(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.5
        while True:
            try:
                if not self.registered.is_set():
                    for definition in [self.definition(), *self.companions]:
                        await loop.run_in_executor(None, self.consul.register, definition)
                    self.registered.set()
                    self.last_consul_error = None
                    backoff = 0.5
                    log.info("registered %s with Consul at %s", self.config.service_id, self.consul.address)
                await asyncio.sleep(self.repair_seconds)
                # An agent that restarted without its state forgot us; someone else may have rewritten us.
                for definition in [self.definition(), *self.companions]:
                    drift = await loop.run_in_executor(None, self.drift, definition)
                    if drift:
                        log.warning("Consul's registration of %s changed (%s): registering it again",
                                    definition["ID"], "; ".join(drift))
                        self.registered.clear()
                        break
            except ConsulPermissionDenied as exc:
                self._note_consul_error(logging.ERROR, str(exc))
                backoff = self.max_backoff_seconds
            except ConsulUnavailable as exc:
                self._note_consul_error(logging.WARNING, f"{exc}; retrying in {backoff:.1f}s")
            except ConsulError as exc:
                self._note_consul_error(logging.ERROR, str(exc))
            if not self.registered.is_set():
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)

    def _note_consul_error(self, level: int, message: str) -> None:
        self.registered.clear()
        if message != self.last_consul_error:
            log.log(level, "%s", message)
        self.last_consul_error = message

    # lifecycle inside a loop ------------------------------------------------
    async def astart(self) -> None:
        await self.endpoint.start()
        log.info("serving metrics on https://%s:%d%s", self.config.listen_host, self.endpoint.port,
                 self.endpoint.metrics_path)
        if self.config.register:
            self._registration = asyncio.ensure_future(self._keep_registered())

    async def astop(self) -> None:
        if self._registration is not None:
            self._registration.cancel()
            try:
                await self._registration
            except asyncio.CancelledError:
                pass
            self._registration = None
            for service_id in [self.config.service_id, *(companion["ID"] for companion in self.companions)]:
                try:
                    await asyncio.get_running_loop().run_in_executor(None, self.consul.deregister, service_id)
                    log.info("deregistered %s", service_id)
                except ConsulError as exc:
                    log.warning("could not deregister %s: %s", service_id, exc)
            self.registered.clear()
            if self.config.drain_seconds > 0:
                await asyncio.sleep(self.config.drain_seconds)
        await self.endpoint.close()

    # lifecycle from ordinary code -------------------------------------------
    def start(self) -> None:
        """Start serving in a background thread; returns once the endpoint listens."""
        ready = threading.Event()
        failure: List[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.astop())
            loop.close()

        self._thread = threading.Thread(target=run, name="masa-analytics", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self, timeout: float = 10.0) -> None:
        """Deregister from Consul and close the endpoint."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            self._loop = self._thread = None

    def stop_on_signals(self) -> None:
        """Make SIGTERM and SIGINT stop (and deregister) the service."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())


def configure_logging(log_level: str) -> None:
    """The command lines' one log format, to stderr."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run_from_env(log_level: str, run: Callable[[ServiceConfig], Awaitable[None]]) -> int:
    """The command lines' common start: logging, the configuration from the environment, then
    ``run`` in an event loop. A configuration error is logged, and the exit status is 2."""
    from . import __version__

    configure_logging(log_level)
    try:
        config = ServiceConfig.from_env()
        if config.version == "0.0.0":
            config.version = __version__
        asyncio.run(run(config))
    except ConfigurationError as exc:
        log.error("cannot start: %s", exc)
        return 2
    return 0
