"""A minimal Consul agent client: register, look up and deregister one service.

The standard library is enough for three endpoints, and keeps the SDK's dependencies small.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from .tls import client_context


class ConsulError(Exception):
    """Consul answered, but not with success."""


class ConsulUnavailable(ConsulError):
    """The agent could not be reached; worth retrying."""


class ConsulPermissionDenied(ConsulError):
    """The token lacks a permission; retrying will not help until the token changes."""


@dataclass(frozen=True)
class ConsulSettings:
    url: str = "https://127.0.0.1:8501"
    token: Optional[str] = None
    ca: Optional[Path] = None
    client_cert: Optional[Path] = None
    client_key: Optional[Path] = None
    timeout: float = 5.0


class ConsulAgent:
    def __init__(self, settings: ConsulSettings):
        self.settings = settings
        parsed = urllib.parse.urlsplit(settings.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"Consul URL {settings.url!r} must look like https://host:8501")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (8501 if parsed.scheme == "https" else 8500)
        self._context: Optional[ssl.SSLContext] = None
        if self.scheme == "https":
            self._context = client_context(settings.ca, settings.client_cert, settings.client_key)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        if self.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.settings.timeout, context=self._context
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.settings.timeout)
        headers = {"Content-Type": "application/json"}
        if self.settings.token:
            headers["X-Consul-Token"] = self.settings.token
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ConsulUnavailable(f"Consul agent at {self.address} is unreachable: {exc}") from None
        finally:
            conn.close()
        text = payload.decode("utf-8", "replace").strip()
        if response.status == 403:
            raise ConsulPermissionDenied(
                f"Consul at {self.address} refused {method} {path.split('?')[0]}: {text or 'permission denied'}"
            )
        if response.status >= 500:
            raise ConsulUnavailable(f"Consul at {self.address} answered {response.status}: {text}")
        if response.status == 404:
            return None
        if response.status >= 400:
            raise ConsulError(f"Consul at {self.address} rejected {method} {path}: {response.status} {text}")
        return json.loads(text) if text else None

    def register(self, definition: Dict[str, Any]) -> None:
        try:
            self.request("PUT", "/v1/agent/service/register?replace-existing-checks=true", definition)
        except ConsulPermissionDenied as exc:
            raise ConsulPermissionDenied(
                f"{exc}. The token needs service:write on {definition['Name']!r} (and node:read)."
            ) from None

    def service(self, service_id: str) -> Optional[Dict[str, Any]]:
        return self.request("GET", f"/v1/agent/service/{urllib.parse.quote(service_id, safe='')}")

    def checks(self, service_id: str) -> Dict[str, Dict[str, Any]]:
        """The agent's checks of one service, by check id."""
        query = urllib.parse.quote(f'ServiceID == "{service_id}"', safe="")
        return self.request("GET", f"/v1/agent/checks?filter={query}") or {}

    def deregister(self, service_id: str) -> None:
        self.request("PUT", f"/v1/agent/service/deregister/{urllib.parse.quote(service_id, safe='')}")
