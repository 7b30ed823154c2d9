"""Where a running stack is and how to talk to it, from the record the play keeps on the
controller (docker_host_layout_dir: one folder per host, one JSON file per role that runs there).
Used by scripts/status.py and the stack tests; neither derives a name, a port or a secret's path
on its own. (The benchmarks run labs of their own and do not read it.)
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulError, ConsulHTTP  # noqa: E402

__all__ = ["REPO", "ConsulError", "Stack", "default_layout_dir", "plain"]


def default_layout_dir() -> Path:
    """MASA_LAYOUT_DIR, else the local stack's record: $MASA_STATE_DIR/layout or .state/layout."""
    if os.environ.get("MASA_LAYOUT_DIR"):
        return Path(os.environ["MASA_LAYOUT_DIR"])
    return Path(os.environ.get("MASA_STATE_DIR") or REPO / ".state") / "layout"


@dataclass
class Stack:
    layout_dir: Path
    records: Dict[str, Dict[str, Dict[str, Any]]]

    @classmethod
    def load(cls, layout_dir: Optional[str] = None) -> "Stack":
        folder = Path(layout_dir) if layout_dir else default_layout_dir()
        records: Dict[str, Dict[str, Dict[str, Any]]] = {}
        for path in sorted(folder.glob("*/*.json")):
            records.setdefault(path.parent.name, {})[path.stem] = json.loads(path.read_text())
        if not any("host" in kept for kept in records.values()):
            raise SystemExit(f"no record of a stack in {folder}: run site.yml first (make up), or point --layout "
                             "(MASA_LAYOUT_DIR) at the folder docker_host_layout_dir names")
        return cls(layout_dir=folder, records=records)

    def record(self, host: str, name: str) -> Dict[str, Any]:
        return self.records[host][name]

    def _any(self, name: str, **match: Any) -> Dict[str, Any]:
        """The first host's record ``name`` whose fields equal ``match``."""
        for host in sorted(self.records):
            kept = self.records[host].get(name)
            if kept is not None and all(kept.get(key) == value for key, value in match.items()):
                return kept
        raise KeyError(f"no host records {name} {match or ''} in {self.layout_dir}")

    # where --------------------------------------------------------------------
    def address(self, host: str) -> str:
        return self.record(host, "host")["address"]

    def group(self, name: str) -> List[str]:
        return sorted(host for host in self.all_hosts if name in self.record(host, "host")["groups"])

    @property
    def monitor(self) -> str:
        return self.group("monitoring")[0]

    @property
    def oracle_nodes(self) -> List[str]:
        return self.group("oracle_nodes")

    @property
    def all_hosts(self) -> List[str]:
        return sorted(host for host, kept in self.records.items() if "host" in kept)

    def container(self, host: str, service: str) -> str:
        if service == "masa-node":
            return self.record(host, "oracle-node")["masa_node_container"]
        return self.record(host, service)["container"]

    def published(self, host: str) -> bool:
        return bool(self.record(host, "host")["published_ports"])

    # credentials ----------------------------------------------------------------
    @property
    def ca(self) -> Path:
        return Path(self.record(self.monitor, "host")["pki"]["ca"])

    @property
    def operator_cert(self) -> tuple:
        pki = self.record(self.monitor, "host")["pki"]
        return Path(pki["operator_cert"]), Path(pki["operator_key"])

    @property
    def management_token_file(self) -> Path:
        return Path(self._any("consul", server=True)["management_token_file"])

    @property
    def management_token(self) -> str:
        return self.management_token_file.read_text().strip()

    def consul_token(self, name: str) -> str:
        """The secret of a token the consul role created (consul_acl_tokens), by its name."""
        return self._any("consul-tokens")[name]

    @property
    def prometheus_auth(self) -> tuple:
        return (self.record(self.monitor, "prometheus")["web_username"],
                self.record(self.monitor, "prometheus-credentials")["web_password"])

    # talking --------------------------------------------------------------------
    def tls_context(self, client_cert: bool = True) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if client_cert:
            context.load_cert_chain(*(str(p) for p in self.operator_cert))
        return context

    def get(self, url: str, auth: Optional[tuple] = None, method: str = "GET", timeout: float = 5.0,
            body: Any = None) -> Any:
        request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        if auth:
            import base64

            request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
        with urllib.request.urlopen(request, context=self.tls_context(), timeout=timeout) as response:
            answer = response.read()
        return json.loads(answer) if answer else None

    def consul(self, path: str, token: Optional[str] = None, host: Optional[str] = None, method: str = "GET",
               body: Any = None) -> Any:
        """Consul's answer through the collection's own client; a refusal raises ConsulError with its status."""
        cert, key = self.operator_cert
        target = host or self.monitor
        client = ConsulHTTP(f"https://{self.address(target)}:{self.record(target, 'consul')['https_port']}",
                            token=self.management_token if token is None else token, timeout=5, ca_cert=str(self.ca),
                            client_cert=str(cert), client_key=str(key))
        return client.json(f"{method} {path}", path, method=method, payload=body)

    def prometheus(self, path: str, host: Optional[str] = None) -> Any:
        """The API of the Prometheus replica on ``host`` (the first monitoring host by default)."""
        target = host or self.monitor
        port = self.record(target, "prometheus")["port"]
        return self.get(f"https://{self.address(target)}:{port}{path}", auth=self.prometheus_auth)

    def thanos_query(self, path: str, host: Optional[str] = None) -> Any:
        """The API of Thanos Query on ``host``: every replica and shard, deduplicated, and the bucket's history."""
        target = host or self.monitor
        port = self.record(target, "thanos")["ports"]["query_http"]
        return self.get(f"https://{self.address(target)}:{port}{path}", auth=self.prometheus_auth)

    def query(self, promql: str) -> List[Dict[str, Any]]:
        import urllib.parse

        return self.prometheus("/api/v1/query?query=" + urllib.parse.quote(promql))["data"]["result"]


def plain(value: Any) -> Any:
    """Undo the {"__ansible_unsafe": ...} marking that ansible-inventory --list puts on plugin values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
