"""A bounded client for a masa-node's HTTP API, and what the sidecar reads from it.

Every call has a deadline and a size limit, and every failure comes back as a ``PollError`` with a
short reason, so nothing a node answers can stall, grow or stop the sidecar.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

# Why a node API call failed; each is a value of the poll_errors_total "reason" label.
REASONS = ("refused", "timeout", "unreachable", "http_status", "too_large", "invalid_json", "schema", "auth")


class PollError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class NodeAPISettings:
    url: str = "http://127.0.0.1:8080"
    timeout: float = 0.8
    max_body_bytes: int = 1 << 20


class NodeAPI:
    """GETs against one node. A staked node (v0.7 on) opens every route; an unstaked one wants the
    JWT that GET /auth hands out on /api/v1/*, which is fetched once and again when refused."""

    def __init__(self, settings: NodeAPISettings):
        parsed = urllib.parse.urlsplit(settings.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"node API URL {settings.url!r} must look like http://127.0.0.1:8080")
        self.settings = settings
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.token: Optional[str] = None

    def get_text(self, path: str) -> Tuple[int, str]:
        deadline = time.monotonic() + self.settings.timeout
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.host, self.port, timeout=self.settings.timeout)
        headers = {"Accept": "application/json"}
        if self.token and path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = self._read_bounded(response, deadline)
        except ConnectionRefusedError:
            raise PollError("refused", f"{self.settings.url} refused the connection") from None
        except (socket.timeout, TimeoutError):
            raise PollError("timeout", f"{path} took longer than {self.settings.timeout:g}s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise PollError("unreachable", f"{path}: {exc}") from None
        finally:
            connection.close()
        return response.status, body.decode("utf-8", "replace")

    def _read_bounded(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            raise PollError("too_large", f"the node declared {declared} bytes, over {self.settings.max_body_bytes}")
        chunks: List[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise PollError("timeout", f"the answer took longer than {self.settings.timeout:g}s")
            chunk = response.read(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise PollError("too_large", f"the answer is over {self.settings.max_body_bytes} bytes")
            chunks.append(chunk)

    def get_json(self, path: str) -> Any:
        status, text = self.get_text(path)
        if status in (401, 403) and path.startswith("/api/"):
            self.token = self.fetch_token()
            status, text = self.get_text(path)
        if status != 200:
            raise PollError("http_status", f"{path} answered {status}")
        try:
            return json.loads(text)
        except ValueError:
            raise PollError("invalid_json", f"{path} answered something that is not JSON") from None

    def fetch_token(self) -> str:
        """v0.8.x answers {"success": true, "message": "<JWT>"}."""
        status, text = self.get_text("/auth")
        try:
            token = json.loads(text).get("message") if status == 200 else None
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise PollError("auth", f"/auth answered {status} without a token")
        return token


# NodeData fields, by the type the node sends them as (v0.8.x).
BOOL_FIELDS = ("isActive", "isStaked", "isValidator", "isTwitterScraper", "isWebScraper", "isDiscordScraper",
               "isTelegramScraper")
NUMBER_FIELDS = ("uptime", "accumulatedUptime", "firstJoined", "lastJoined", "lastUpdated", "returnedTweets",
                 "tweetTimeouts", "notFoundCount", "activity")
TEXT_FIELDS = ("peerId", "version", "ethAddress")
# Fields the node leaves out when they are zero (omitempty in its NodeData).
ZERO_WHEN_OMITTED = {"firstJoined": 0, "lastJoined": 0, "lastUpdated": 0, "uptime": 0, "accumulatedUptime": 0,
                     "ethAddress": "", "activity": 0}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class Reading:
    """What one poll learned. ``None`` means absent: not answered, or not of the expected type."""

    up: bool = False
    peer_id: Optional[str] = None
    peers: Optional[int] = None
    node: Optional[Dict[str, Any]] = None
    known_nodes: Optional[int] = None
    active_nodes: Optional[int] = None


def typed_fields(data: Any) -> Tuple[Dict[str, Any], List[str]]:
    """NodeData's fields that have the type the sidecar expects, and the names of those that do not."""
    if not isinstance(data, dict):
        return {}, ["data"]
    fields: Dict[str, Any] = {name: zero for name, zero in ZERO_WHEN_OMITTED.items() if name not in data}
    wrong: List[str] = []
    for names, accepts in ((BOOL_FIELDS, lambda v: isinstance(v, bool)), (NUMBER_FIELDS, _is_number),
                           (TEXT_FIELDS, lambda v: isinstance(v, str))):
        for name in names:
            if name not in data:
                continue
            if accepts(data[name]):
                fields[name] = data[name]
            else:
                wrong.append(name)
    return fields, wrong
