"""The SDK's metrics, its mTLS endpoint and its configuration errors (Consul itself: tests/integration)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from conftest import AGENT, PROMETHEUS

from masa_analytics import AnalyticsService, ConfigurationError, OracleMetrics, ServiceConfig, TLSFiles
from masa_analytics.consul import ConsulAgent, ConsulPermissionDenied, ConsulSettings, ConsulUnavailable
from masa_analytics.oracle_node import fleet_configs
from masa_analytics.service import duration_seconds


def sample(metrics: OracleMetrics, name: str, labels=None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    assert value is not None, f"{name} {labels} is not exported"
    return value


def test_standard_metrics_and_cached_children():
    metrics = OracleMetrics(version="1.2.3", node_id="n1")
    metrics.record("success", 0.2)
    metrics.record("timeout", 7.0)
    metrics.work["success"].inc(3)
    metrics.error("upstream")
    metrics.set_status(active=True, staked=False, validator=True)
    assert metrics.work["success"] is metrics.work["success"] is metrics.work_success
    assert sample(metrics, "masa_oracle_work_total", {"outcome": "success"}) == 4
    assert sample(metrics, "masa_oracle_work_total", {"outcome": "timeout"}) == 1
    assert sample(metrics, "masa_oracle_errors_total", {"kind": "upstream"}) == 1
    assert sample(metrics, "masa_oracle_request_duration_seconds_count") == 2
    assert sample(metrics, "masa_oracle_is_validator") == 1
    assert sample(metrics, "masa_oracle_is_staked") == 0
    assert sample(metrics, "masa_oracle_build_info", {"version": "1.2.3", "node_id": "n1"}) == 1
    assert sample(metrics, "masa_oracle_uptime_seconds") >= 0


def test_service_specific_metrics_share_the_registry():
    metrics = OracleMetrics()
    fetched = metrics.counter("tweets_fetched", "Tweets fetched.", ["source"])
    fetched.labels("api").inc()
    assert sample(metrics, "masa_oracle_tweets_fetched_total", {"source": "api"}) == 1


def config(pki, **overrides) -> ServiceConfig:
    values = dict(name="masa-oracle", node_id="t1", listen_host="127.0.0.1", address="127.0.0.1", port=0,
                  register=False, drain_seconds=0,
                  tls=TLSFiles(cert=pki.node.cert, key=pki.node.key, ca=pki.ca))
    values.update(overrides)
    return ServiceConfig(**values)


def client(ca, cert=None, key=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert:
        context.load_cert_chain(str(cert), str(key))
    return context


@pytest.fixture
def service(pki):
    running = AnalyticsService(config(pki))
    running.start()
    yield running
    running.stop()


def test_metrics_endpoint_requires_a_client_certificate_from_our_ca(service, pki):
    url = f"https://127.0.0.1:{service.endpoint.port}/metrics"
    with urllib.request.urlopen(url, context=client(pki.ca, pki.node.cert, pki.node.key), timeout=5) as response:
        body = response.read().decode()
    assert "masa_oracle_work_total" in body
    assert "masa_tls_certificate_not_after_seconds" in body
    with pytest.raises(Exception):
        urllib.request.urlopen(url, context=client(pki.ca), timeout=5).read()
    with pytest.raises(Exception):
        urllib.request.urlopen(url, context=client(pki.ca, pki.foreign.cert, pki.foreign.key), timeout=5).read()


def get_status(url, context):
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_each_route_admits_only_the_identities_it_serves(pki):
    running = AnalyticsService(config(pki, metrics_clients=frozenset({PROMETHEUS}), health_clients=frozenset({AGENT})))
    running.start()
    try:
        base = f"https://127.0.0.1:{running.endpoint.port}"
        answers = {
            (who, route): get_status(base + route, client(pki.ca, pair.cert, pair.key))
            for who, pair in (("prometheus", pki.prometheus), ("agent", pki.agent), ("node", pki.node))
            for route in ("/metrics", "/health")
        }
        assert answers == {
            ("prometheus", "/metrics"): 200, ("prometheus", "/health"): 403,
            ("agent", "/metrics"): 403, ("agent", "/health"): 200,
            ("node", "/metrics"): 403, ("node", "/health"): 403,
        }
        # A certificate issued only to serve TLS is refused as a client, whatever its SANs.
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(base + "/metrics", context=client(pki.ca, pki.server_only.cert, pki.server_only.key),
                                   timeout=5).read()
    finally:
        running.stop()


def test_tls12_accepts_only_aead_suites(service, pki):
    url = f"https://127.0.0.1:{service.endpoint.port}/health"
    cbc = client(pki.ca, pki.node.cert, pki.node.key)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA")
    with pytest.raises((ssl.SSLError, urllib.error.URLError)):
        urllib.request.urlopen(url, context=cbc, timeout=5).read()
    aead = client(pki.ca, pki.node.cert, pki.node.key)
    aead.maximum_version = ssl.TLSVersion.TLSv1_2
    aead.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    assert get_status(url, aead) == 200


def test_health_endpoint_reports_passing(service, pki):
    url = f"https://127.0.0.1:{service.endpoint.port}/health"
    with urllib.request.urlopen(url, context=client(pki.ca, pki.node.cert, pki.node.key), timeout=5) as response:
        assert json.loads(response.read())["status"] == "passing"


def test_registration_definition_carries_meta_check_and_deregistration(pki):
    definition = AnalyticsService(config(pki, port=9300, version="2.0.0")).definition()
    assert definition["ID"] == "masa-oracle-t1-9300"
    assert "prometheus" in definition["Tags"]
    assert definition["Meta"] == {"version": "2.0.0", "node_id": "t1", "metrics_scheme": "https",
                                  "metrics_path": "/metrics"}
    assert definition["Check"]["HTTP"] == "https://127.0.0.1:9300/health"
    assert definition["Check"]["DeregisterCriticalServiceAfter"] == "1m"


def test_missing_certificate_is_a_clear_start_error(pki, tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read the TLS certificate at .*missing.crt"):
        AnalyticsService(config(pki, tls=TLSFiles(cert=tmp_path / "missing.crt", key=pki.node.key, ca=pki.ca)))


def test_mismatched_key_is_a_clear_start_error(pki):
    with pytest.raises(ConfigurationError, match="does not match the certificate"):
        AnalyticsService(config(pki, tls=TLSFiles(cert=pki.node.cert, key=pki.foreign.key, ca=pki.ca)))


def test_from_env_reads_the_token_file_and_names_missing_settings(pki, tmp_path):
    token = tmp_path / "token"
    token.write_text("abc\n")
    env = {"MASA_TLS_CERT": str(pki.node.cert), "MASA_TLS_KEY": str(pki.node.key), "MASA_TLS_CA": str(pki.ca),
           "CONSUL_HTTP_TOKEN_FILE": str(token), "MASA_SERVICE_TAGS": "oracle", "MASA_ADVERTISE_ADDRESS": "10.0.0.5"}
    loaded = ServiceConfig.from_env(env)
    assert loaded.consul.token == "abc"
    assert loaded.tags == ["oracle", "prometheus"]
    with pytest.raises(ConfigurationError, match="MASA_TLS_CERT is not set"):
        ServiceConfig.from_env({})


def test_fleet_gives_every_node_its_own_id_and_port(pki):
    configs = fleet_configs(config(pki, port=9300), 3)
    assert [c.port for c in configs] == [9300, 9301, 9302]
    assert len({c.service_id for c in configs}) == 3


def test_unreachable_consul_is_retryable_and_names_the_address():
    agent = ConsulAgent(ConsulSettings(url="http://127.0.0.1:1", timeout=1))
    with pytest.raises(ConsulUnavailable, match="127.0.0.1:1 is unreachable"):
        agent.register({"Name": "x"})


def test_refused_token_names_the_permission(monkeypatch):
    agent = ConsulAgent(ConsulSettings(url="http://127.0.0.1:1"))

    def denied(*_args, **_kwargs):
        raise ConsulPermissionDenied("Consul at 127.0.0.1:1 refused PUT /v1/agent/service/register: denied")

    monkeypatch.setattr(agent, "request", denied)
    with pytest.raises(ConsulPermissionDenied, match="needs service:write on 'masa-oracle'"):
        agent.register({"Name": "masa-oracle"})


@pytest.mark.parametrize("days", [400, 40000], ids=["UTCTime", "GeneralizedTime after 2049"])
def test_certificate_expiry_is_what_openssl_reads(tmp_path, days):
    import calendar
    import subprocess
    import time

    from masa_analytics.tls import certificate_not_after

    cert = tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(cert), "-days", str(days), "-subj", "/CN=t"],
                   check=True, capture_output=True)
    end = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    assert certificate_not_after(cert) == calendar.timegm(time.strptime(end, "%b %d %H:%M:%S %Y GMT"))


def test_unreadable_certificate_expiry_is_a_clear_error(tmp_path):
    from masa_analytics.tls import certificate_not_after

    key_only = tmp_path / "k.pem"
    key_only.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigurationError, match="cannot read the expiry of the certificate"):
        certificate_not_after(key_only)


@pytest.mark.parametrize("text, seconds", [("2s", 2.0), ("500ms", 0.5), ("1m", 60.0), ("1.5s", 1.5)])
def test_durations_read_as_consul_writes_them(text, seconds):
    assert duration_seconds(text) == seconds


def test_a_bad_check_interval_is_refused_by_name():
    with pytest.raises(ConfigurationError, match="'2x' is not a duration"):
        duration_seconds("2x")
