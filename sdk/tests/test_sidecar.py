"""The sidecar against a node API that misbehaves in every way the issue lists.

The node here is a small local HTTP server that answers as masa-node v0.8 does and then breaks;
tests of the sidecar against real masa-node processes run in molecule (tests/stack).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict

import pytest

from masa_analytics.node_api import NodeAPISettings
from masa_analytics.sidecar import NodeMetrics, Sidecar, SidecarConfig, node_api_service
from masa_analytics.service import ServiceConfig
from masa_analytics.tls import ConfigurationError, TLSFiles

PEER = "16Uiu2HAmTestPeer"
ADDRESS = "10.0.0.5"
NODE_DATA = {"peerId": PEER, "multiaddrs": [], "firstJoined": 1700000000, "lastJoined": 1700000100,
             "lastUpdated": 1700000200, "uptime": 90_000_000_000, "accumulatedUptime": 7_200_000_000_000,
             "ethAddress": "0xabc", "isActive": True, "isStaked": True, "isValidator": False,
             "isTwitterScraper": True, "isWebScraper": False, "isDiscordScraper": False, "isTelegramScraper": False,
             "version": "0.8.9-proto", "returnedTweets": 42, "tweetTimeouts": 3, "notFoundCount": 5}


def healthy_routes() -> Dict[str, Callable[[], tuple]]:
    return {
        "/health": lambda: (200, {"success": True}),
        "/api/v1/peer/addresses": lambda: (200, {"success": True, "totalCount": 3, "data": [
            {"peerId": "other-a", "peerAddress": "/ip4/10.0.0.7/udp/4001/quic-v1/p2p/other-a"},
            {"peerId": PEER, "peerAddress": f"/ip4/{ADDRESS}/udp/4001/quic-v1/p2p/{PEER}"},
            {"peerId": "other-b", "peerAddress": "/ip4/10.0.0.8/udp/4001/quic-v1/p2p/other-b"}]}),
        f"/api/v1/node/data/{PEER}": lambda: (200, {"success": True, "data": dict(NODE_DATA)}),
        "/api/v1/node/data": lambda: (200, {"success": True, "data": [dict(NODE_DATA), {"isActive": False}],
                                            "pageNbr": 0, "total": 1, "totalRecords": 2}),
    }


class FakeNode:
    def __init__(self):
        self.routes = healthy_routes()
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                route = node.routes.get(self.path)
                status, body = route() if route else (404, {"success": False})
                data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node():
    fake = FakeNode()
    yield fake
    fake.close()


def watcher(url: str, timeout: float = 0.5, max_body: int = 1 << 20, **config) -> Sidecar:
    settings = NodeAPISettings(url=url, timeout=timeout, max_body_bytes=max_body)
    return Sidecar(SidecarConfig(settings, **dict(dict(address=ADDRESS), **config)), NodeMetrics())


def value(sidecar: Sidecar, name: str, labels=None):
    return sidecar.metrics.registry.get_sample_value(name, labels or {})


def errors(sidecar: Sidecar, reason: str) -> float:
    return value(sidecar, "masa_node_poll_errors_total", {"reason": reason})


def test_a_healthy_node_becomes_metrics(node):
    sidecar = watcher(node.url)
    sidecar.poll()
    assert value(sidecar, "masa_node_up") == 1
    assert value(sidecar, "masa_node_info", {"peer_id": PEER, "protocol_version": "0.8.9-proto",
                                             "eth_address": "0xabc"}) == 1
    assert value(sidecar, "masa_node_peers") == 2
    assert value(sidecar, "masa_node_staked") == 1 and value(sidecar, "masa_node_validator") == 0
    assert value(sidecar, "masa_node_scraper", {"role": "twitter"}) == 1
    assert value(sidecar, "masa_node_uptime_seconds") == 90
    assert value(sidecar, "masa_node_accumulated_uptime_seconds") == 7200
    assert value(sidecar, "masa_node_returned_tweets_total") == 42
    assert value(sidecar, "masa_node_tweet_timeouts_total") == 3
    assert value(sidecar, "masa_node_not_found_total") == 5
    assert value(sidecar, "masa_node_last_updated_timestamp_seconds") == 1700000200
    assert value(sidecar, "masa_node_known_nodes") == 2 and value(sidecar, "masa_node_known_active_nodes") == 1
    assert value(sidecar, "masa_node_api_request_duration_seconds_count", {"route": "/health"}) == 1
    assert sum(errors(sidecar, reason) for reason in ("refused", "timeout", "schema", "http_status")) == 0


def test_refused_connections_report_the_node_down():
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_port
    sidecar = watcher(f"http://127.0.0.1:{port}")
    sidecar.poll()
    assert value(sidecar, "masa_node_up") == 0 and errors(sidecar, "refused") == 1
    assert value(sidecar, "masa_node_peers") is None


def test_a_500_reports_the_node_down(node):
    node.routes["/health"] = lambda: (500, {"success": False})
    sidecar = watcher(node.url)
    sidecar.poll()
    assert value(sidecar, "masa_node_up") == 0 and errors(sidecar, "http_status") == 1


def test_invalid_json_is_counted_and_the_rest_still_read(node):
    node.routes["/api/v1/node/data"] = lambda: (200, "{not json")
    sidecar = watcher(node.url)
    sidecar.poll()
    assert value(sidecar, "masa_node_up") == 1 and errors(sidecar, "invalid_json") == 1
    assert value(sidecar, "masa_node_known_nodes") is None
    assert value(sidecar, "masa_node_returned_tweets_total") == 42


def test_the_node_is_found_by_its_address_or_by_the_peer_id_given(node, caplog):
    sidecar = watcher(node.url, address="10.9.9.9")
    with caplog.at_level(logging.WARNING, logger="masa_analytics.sidecar"):
        sidecar.poll()
    assert errors(sidecar, "schema") == 1 and "set MASA_NODE_PEER_ID" in caplog.text
    assert value(sidecar, "masa_node_peers") == 3
    named = watcher(node.url, address="10.9.9.9", peer_id=PEER)
    named.poll()
    assert errors(named, "schema") == 0 and value(named, "masa_node_peers") == 2


def test_a_body_of_many_megabytes_is_not_read_into_memory(node):
    node.routes[f"/api/v1/node/data/{PEER}"] = lambda: (200, b"[" + b"0," * (4 << 20) + b"0]")
    sidecar = watcher(node.url, max_body=64 << 10)
    sidecar.poll()
    assert errors(sidecar, "too_large") == 1
    assert value(sidecar, "masa_node_up") == 1 and value(sidecar, "masa_node_info", {
        "peer_id": PEER, "protocol_version": "0.8.9-proto", "eth_address": "0xabc"}) is None


def test_an_answer_slower_than_the_timeout_is_a_timeout(node):
    node.routes["/health"] = lambda: (time.sleep(1.0), (200, {"success": True}))[1]
    sidecar = watcher(node.url, timeout=0.2)
    started = time.monotonic()
    sidecar.poll()
    assert time.monotonic() - started < 0.9
    assert value(sidecar, "masa_node_up") == 0 and errors(sidecar, "timeout") == 1


def test_a_changed_schema_leaves_the_field_absent(node):
    changed = dict(NODE_DATA, returnedTweets="many")
    del changed["isStaked"]
    node.routes[f"/api/v1/node/data/{PEER}"] = lambda: (200, {"success": True, "data": changed})
    sidecar = watcher(node.url)
    sidecar.poll()
    assert errors(sidecar, "schema") == 1
    assert value(sidecar, "masa_node_returned_tweets_total") is None
    assert value(sidecar, "masa_node_staked") is None
    assert value(sidecar, "masa_node_tweet_timeouts_total") == 3


def test_an_unstaked_node_is_read_with_the_token_from_auth(node):
    token = "jwt-for-test"
    guarded = healthy_routes()
    node.routes["/auth"] = lambda: (200, {"success": True, "message": token})
    sidecar = watcher(node.url)
    for path in [p for p in guarded if p.startswith("/api/")]:
        node.routes[path] = (lambda answer=guarded[path]: answer() if sidecar.api.token == token
                             else (401, {"error": "API token required"}))
    sidecar.poll()
    assert value(sidecar, "masa_node_peers") == 2 and errors(sidecar, "http_status") == 0


def test_the_state_is_logged_once_per_change(node, caplog):
    sidecar = watcher(node.url)
    with caplog.at_level(logging.INFO, logger="masa_analytics.sidecar"):
        for _round in range(3):
            sidecar.poll()
        node.routes["/health"] = lambda: (500, {})
        for _round in range(3):
            sidecar.poll()
        node.routes["/health"] = healthy_routes()["/health"]
        sidecar.poll()
    states = [record.getMessage() for record in caplog.records]
    assert states == ["node API up", "node API down: http_status (/health answered 500)", "node API up"]
    assert errors(sidecar, "http_status") == 3


def test_the_node_api_service_starts_critical_and_names_its_sidecar(tmp_path):
    files = TLSFiles(cert=tmp_path / "c", key=tmp_path / "k", ca=tmp_path / "ca")
    service = ServiceConfig(name="masa-oracle", tls=files, node_id="node1", address="10.0.0.5", port=9200)
    definition = node_api_service(service, SidecarConfig(NodeAPISettings(url="http://127.0.0.1:8080")))
    assert definition["Name"] == "masa-node" and definition["Port"] == 8080
    assert definition["Check"]["Status"] == "critical"
    assert definition["Check"]["HTTP"] == "http://127.0.0.1:8080/health"
    assert definition["Meta"]["sidecar"] == service.service_id
    assert "DeregisterCriticalServiceAfter" not in definition["Check"]


def test_settings_that_cannot_work_are_refused():
    with pytest.raises(ConfigurationError, match="below MASA_NODE_POLL_INTERVAL"):
        SidecarConfig.from_env({"MASA_NODE_POLL_INTERVAL": "1", "MASA_NODE_TIMEOUT": "2"})
    with pytest.raises(ConfigurationError, match="must be seconds"):
        SidecarConfig.from_env({"MASA_NODE_POLL_INTERVAL": "soon"})
