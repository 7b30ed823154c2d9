"""A webhook receiver for tests: Alertmanager posts notifications, tests read them back.

POST /<path>   records the notification under its path (/alerts for people, /watchdog for the dead man's switch)
GET  /<path>   returns every notification recorded so far under that path, as a JSON list
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORDED: dict = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with LOCK:
            RECORDED.setdefault(self.path, []).append({"received_at": time.time(), "payload": json.loads(body or b"{}")})
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        with LOCK:
            body = json.dumps(RECORDED.get(self.path, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9099
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
