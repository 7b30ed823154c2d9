"""The alert log: Alertmanager's webhook notifications become one log line per alert."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

from masa_analytics import alert_log

NOTIFICATION = {
    "version": "4", "status": "firing", "receiver": "default",
    "alerts": [
        {"status": "firing", "labels": {"alertname": "OracleNodeDown", "severity": "critical", "node": "node1"},
         "annotations": {"summary": "node1 is down"}},
        {"status": "resolved", "labels": {"alertname": "ScrapeSlow", "severity": "warning", "instance": "n2:9200"},
         "annotations": {}},
    ],
}


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), alert_log._Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def post(url, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_each_alert_becomes_one_line(receiver, caplog):
    with caplog.at_level(logging.WARNING, logger="masa_analytics.alert_log"):
        assert post(receiver, json.dumps(NOTIFICATION).encode()) == 200
    assert [record.getMessage() for record in caplog.records] == [
        "FIRING critical OracleNodeDown node=node1 node1 is down",
        "RESOLVED warning ScrapeSlow instance=n2:9200",
    ]


def test_what_is_not_a_notification_is_refused(receiver, caplog):
    assert post(receiver, b'{"no": "alerts"}') == 400
    assert post(receiver, b"not json") == 400
    assert not caplog.records
