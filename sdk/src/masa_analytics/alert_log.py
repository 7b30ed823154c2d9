"""A webhook receiver that writes every alert Alertmanager sends as one line of its log.

The local stack's default receiver: `docker logs <prefix>alert-log` shows what would have paged.
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict

log = logging.getLogger("masa_analytics.alert_log")

MAX_BODY_BYTES = 1024 * 1024


def alert_line(alert: Dict[str, Any]) -> str:
    labels = dict(alert.get("labels") or {})
    name = labels.pop("alertname", "?")
    severity = labels.pop("severity", "none")
    where = " ".join(f"{key}={value}" for key, value in sorted(labels.items()))
    summary = (alert.get("annotations") or {}).get("summary", "")
    return f"{str(alert.get('status', '?')).upper()} {severity} {name} {where} {summary}".strip()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY_BYTES:
            self.send_error(413 if length else 411)
            return
        try:
            notification = json.loads(self.rfile.read(length))
            alerts = notification["alerts"]
        except (ValueError, KeyError, TypeError):
            self.send_error(400, "not an Alertmanager webhook notification")
            return
        for alert in alerts:
            log.warning("%s", alert_line(alert))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def serve(host: str, port: int) -> None:
    server = ThreadingHTTPServer((host, port), _Handler)
    log.info("writing Alertmanager's alerts to this log; listening on http://%s:%d/", host, port)
    server.serve_forever()
