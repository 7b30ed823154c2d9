"""Where a running stack is and how to talk to it: addresses from the inventory, credentials
from the controller's state folder. Used by scripts/status.py and the stack tests.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulError, ConsulHTTP  # noqa: E402

__all__ = ["REPO", "ConsulError", "Stack", "plain"]
# The namespace of Ansible's to_uuid filter, which derives the stack's Consul tokens.
ANSIBLE_UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")


@dataclass
class Stack:
    inventory: Path
    state_dir: Path
    hosts: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    groups: Dict[str, List[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, inventory: Optional[str] = None, state_dir: Optional[str] = None) -> "Stack":
        inventory_path = Path(inventory or os.environ.get("MASA_TEST_INVENTORY") or REPO / "inventory/local")
        state = Path(state_dir or os.environ.get("MASA_STATE_DIR") or REPO / ".state")
        listing = json.loads(subprocess.run(
            [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory_path), "--list"],
            capture_output=True, text=True, check=True, cwd=REPO,
            env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")),
        ).stdout)
        hostvars = listing.get("_meta", {}).get("hostvars", {})
        groups = {name: sorted(_group_hosts(listing, name)) for name in listing if name != "_meta"}
        return cls(inventory=inventory_path, state_dir=state, hosts=hostvars, groups=groups)

    # where --------------------------------------------------------------------
    def address(self, host: str) -> str:
        return self.hosts[host]["docker_host_address"]

    @property
    def monitor(self) -> str:
        return self.groups["monitoring"][0]

    @property
    def oracle_nodes(self) -> List[str]:
        return self.groups.get("oracle_nodes", [])

    @property
    def all_hosts(self) -> List[str]:
        return sorted(self.hosts)

    def container(self, host: str, service: str) -> str:
        return f"{host}-{service}"

    # credentials ----------------------------------------------------------------
    @property
    def ca(self) -> Path:
        return self.state_dir / "pki/ca.crt"

    @property
    def operator_cert(self) -> tuple:
        issued = self.state_dir / "pki/issued/controller"
        return issued / "operator.crt", issued / "operator.key"

    def seed(self, name: str) -> str:
        return (self.state_dir / "secrets/seeds" / name).read_text().strip()

    def consul_token(self, name: str) -> str:
        """The Consul token the inventory derives from a seed: consul-prometheus, consul-oracle, ..."""
        return str(uuid.uuid5(ANSIBLE_UUID_NAMESPACE, self.seed(name)))

    @property
    def management_token(self) -> str:
        return (self.state_dir / "secrets/consul/bootstrap.token").read_text().strip()

    @property
    def prometheus_auth(self) -> tuple:
        return "admin", self.seed("prometheus-web")

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
        client = ConsulHTTP(f"https://{self.address(host or self.monitor)}:8501",
                            token=self.management_token if token is None else token, timeout=5, ca_cert=str(self.ca),
                            client_cert=str(cert), client_key=str(key))
        return client.json(f"{method} {path}", path, method=method, payload=body)

    def prometheus(self, path: str) -> Any:
        return self.get(f"https://{self.address(self.monitor)}:9090{path}", auth=self.prometheus_auth)

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


def _group_hosts(listing: Dict[str, Any], name: str) -> set:
    group = listing.get(name, {})
    hosts = set(group.get("hosts", []))
    for child in group.get("children", []):
        hosts |= _group_hosts(listing, child)
    return hosts
