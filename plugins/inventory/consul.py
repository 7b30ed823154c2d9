# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: consul
short_description: The fleet as Consul sees it, in a fixed number of requests per datacenter
version_added: 0.1.0
description:
  - Hosts are Consul nodes. Groups are made per service, per service tag, per datacenter and per
    health state, plus any C(keyed_groups) and C(groups) from node meta and services.
  - Each datacenter costs a fixed number of requests, whatever the number of nodes, all to Consul's
    documented API and in parallel - C(/v1/catalog/nodes), C(/v1/health/state/any) filtered to the
    checks that are not passing, and
    C(/v1/catalog/service/<name>) for each service in O(services), or for every service in
    C(/v1/catalog/services) (one more) when O(services) is empty. Listing the datacenters, when
    O(datacenters) is empty, costs one more in all.
  - Configured by a file whose name ends in C(consul.yml) or C(consul.yaml).
  - Every value that comes from Consul is marked unsafe, so it is never templated.
  - Each host gets C(ansible_host) and one variable, C(consul), with C(address), C(datacenter),
    C(node_meta), C(health) (the worst of its checks) and C(services) (per service name C(tags),
    C(meta), C(health) and its C(instances)). With O(services) set, C(services) lists those services only.
options:
  plugin:
    description: Marks the file as this plugin's.
    required: true
    choices: [masa.monitoring.consul]
  url:
    description: The Consul agent, such as C(https://10.0.0.10:8501). Overrides O(host), O(port) and O(scheme).
    type: str
    env:
      - name: CONSUL_HTTP_ADDR
  host:
    description: The agent's address.
    type: str
    default: localhost
  port:
    description: The agent's HTTPS port.
    type: int
    default: 8501
  scheme:
    description: C(https), or C(http) for an agent without TLS.
    type: str
    default: https
    choices: [http, https]
  token:
    description: An ACL token with node:read and service:read. Keep it in vault or in the environment.
    type: str
    env:
      - name: CONSUL_HTTP_TOKEN
  token_file:
    description: A file that holds the token; used when O(token) is not set.
    type: path
    env:
      - name: CONSUL_HTTP_TOKEN_FILE
  ca_cert:
    description: The CA that signed the agent's certificate.
    type: path
    env:
      - name: CONSUL_CACERT
  client_cert:
    description: A client certificate, for agents with verify_incoming.
    type: path
    env:
      - name: CONSUL_CLIENT_CERT
  client_key:
    description: The key of O(client_cert).
    type: path
    env:
      - name: CONSUL_CLIENT_KEY
  validate_certs:
    description: Verify the agent's certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each request.
    type: float
    default: 10
  datacenters:
    description: Datacenters to list. Empty means every datacenter the agent knows.
    type: list
    elements: str
    default: []
  services:
    description:
      - Only nodes that run at least one of these services. Empty means every node.
      - Each costs one request per datacenter, in place of one per service in the datacenter.
    type: list
    elements: str
    default: []
  health:
    description: Only nodes whose health (the worst of their checks) is one of these.
    type: list
    elements: str
    default: [passing, warning, critical]
    choices: [passing, warning, critical]
  ansible_host_meta_key:
    description: A node meta key whose value becomes C(ansible_host); the node's address otherwise.
    type: str
  group_prefixes:
    description: Prefixes of the generated groups.
    type: dict
    default: {service: service_, tag: tag_, datacenter: dc_, health: health_}
extends_documentation_fragment:
  - constructed
  - inventory_cache
author:
  - masa.monitoring developers (@masa-finance)
"""

EXAMPLES = r"""
# inventory/fleet.consul.yml
plugin: masa.monitoring.consul
url: https://10.0.0.10:8501
ca_cert: inventory/aws/.secrets/pki/ca.crt
client_cert: inventory/aws/.secrets/pki/issued/controller/operator.crt
client_key: inventory/aws/.secrets/pki/issued/controller/operator.key
services: [masa-oracle]
keyed_groups:
  - key: consul.node_meta.role | default('none')
    prefix: role
compose:
  oracle_version: consul.services['masa-oracle'].meta.version | default('unknown')
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/masa-consul-inventory
cache_timeout: 60

# ansible -i inventory/fleet.consul.yml health_critical -m ping
"""

import base64
import gc
import json
import zlib
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleOptionsError, AnsibleParserError
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible_collections.masa.monitoring.plugins.module_utils._consul import ConsulError, ConsulHTTP

try:
    # ansible-core 2.19 and later never template data unless it is marked trusted, so what comes from
    # Consul is already inert; wrapping 10,000 nodes' worth of it again would only cost seconds.
    from ansible.template import trust_as_template as _marks_trust  # noqa: F401 pylint: disable=unused-import

    def make_unsafe(value):
        return value

except ImportError:  # ansible-core before 2.19
    from ansible.utils.unsafe_proxy import wrap_var as make_unsafe

display = Display()


# What the cache holds; a cache written in another format is ignored and refreshed.
CACHE_FORMAT = 5


def _packed(text):
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 3)).decode("ascii")


def _unpacked(packed):
    return json.loads(zlib.decompress(base64.b64decode(packed, validate=True)))


def cache_entry(listings):
    """Consul's answers as the text it sent, compressed: nothing is encoded again, ansible-core's own
    encoding of the entry has nothing to escape, and the answers for 10,000 nodes fit memcached's
    default 1 MB item size. ``listings`` maps each datacenter to the texts of its nodes, its checks
    and each service's instances."""
    return {"format": CACHE_FORMAT, "listings": dict(
        (dc, {"nodes": _packed(texts["nodes"]), "checks": _packed(texts["checks"]),
              "services": dict((name, _packed(text)) for name, text in texts["services"].items())})
        for dc, texts in listings.items())}


def cached_records(cached):
    """The records of a cache entry; None for an entry of another format or a damaged one, which is refreshed."""
    if not isinstance(cached, dict) or cached.get("format") != CACHE_FORMAT:
        return None
    try:
        return dict((dc, datacenter_records(dc, _unpacked(packed["nodes"]), _unpacked(packed["checks"]),
                                            [_unpacked(text) for text in packed["services"].values()]))
                    for dc, packed in cached["listings"].items())
    except (ValueError, KeyError, TypeError, AttributeError, zlib.error):
        return None


def datacenter_records(datacenter, nodes, checks, service_listings):
    """One record per node of /v1/catalog/nodes, with its checks that are not passing (a node or
    service without such a check is passing) from /v1/health/state/any and its
    service instances from each /v1/catalog/service/<name> answer."""
    joined = {}
    for node in nodes:
        joined[node["Node"]] = {"Node": node["Node"], "Address": node["Address"], "Meta": node.get("Meta"),
                                "Services": [], "Checks": []}
    for check in checks:
        node = joined.get(check["Node"])
        if node is not None:
            node["Checks"].append(check)
    for instances in service_listings:
        for instance in instances:
            node = joined.get(instance["Node"])
            if node is not None:
                node["Services"].append({"ID": instance["ServiceID"], "Service": instance["ServiceName"],
                                         "Tags": instance.get("ServiceTags"), "Port": instance.get("ServicePort"),
                                         "Meta": instance.get("ServiceMeta"),
                                         "Address": instance.get("ServiceAddress")})
    return [node_record(datacenter, node) for node in joined.values()]


def worst(statuses):
    if "critical" in statuses:
        return "critical"
    return "warning" if "warning" in statuses else "passing"


def node_record(datacenter, node):
    node_statuses = []
    statuses_by_service_id = {}
    for check in node.get("Checks") or ():
        service_id = check.get("ServiceID")
        if service_id:
            statuses_by_service_id.setdefault(service_id, []).append(check["Status"])
        else:
            node_statuses.append(check["Status"])
    node_health = worst(node_statuses)
    address = node["Address"]
    services = {}
    for service in node.get("Services") or ():
        own_statuses = statuses_by_service_id.get(service["ID"])
        health = worst(own_statuses + node_statuses) if own_statuses else node_health
        tags = service.get("Tags") or []
        meta = service.get("Meta") or {}
        instance = {"id": service["ID"], "address": service.get("Address") or address, "port": service.get("Port"),
                    "tags": tags, "meta": meta, "health": health}
        entry = services.get(service["Service"])
        if entry is None:
            services[service["Service"]] = {"instances": [instance], "tags": tags, "meta": meta, "health": health}
        else:
            entry["instances"].append(instance)
            entry["tags"] = entry["tags"] + tags
            entry["health"] = worst((entry["health"], health))
    for entry in services.values():
        entry["tags"] = sorted(set(entry["tags"]))
    all_statuses = [status for statuses in statuses_by_service_id.values() for status in statuses]
    return {
        "name": node["Node"],
        "address": address,
        "datacenter": datacenter,
        "meta": node.get("Meta") or {},
        "services": services,
        "health": worst(all_statuses + node_statuses) if all_statuses else node_health,
    }


@contextmanager
def garbage_collection_paused():
    """Without the cycle collector while 10,000 nodes become objects: it would rescan them all again and
    again as they are created, which took more time than decoding and building them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "masa.monitoring.consul"
    # Requests the last parse sent to Consul (none when the cache served).
    requests = 0

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("consul.yml", "consul.yaml"))

    # talking to Consul ---------------------------------------------------------------
    def _base_url(self):
        url = self.get_option("url")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise AnsibleParserError("url %r must look like https://host:8501" % url)
            return url.rstrip("/")
        return "%s://%s:%s" % (self.get_option("scheme"), self.get_option("host"), self.get_option("port"))

    def _token(self):
        if self.get_option("token"):
            return self.get_option("token")
        token_file = self.get_option("token_file")
        if not token_file:
            return None
        try:
            with open(token_file) as handle:
                return handle.read().strip()
        except OSError as exc:
            raise AnsibleParserError("cannot read the Consul token file %s: %s" % (token_file, exc.strerror))

    def _client(self):
        return ConsulHTTP(self._base_url(), token=self._token(), timeout=self.get_option("timeout"),
                          validate_certs=self.get_option("validate_certs"), ca_cert=self.get_option("ca_cert"),
                          client_cert=self.get_option("client_cert"), client_key=self.get_option("client_key"))

    def _fetch(self):
        """Consul's answers by datacenter, as they came (what the cache holds), and their records."""
        consul = self._client()
        # Plain strings: a name read from the config file carries its origin, which the cache would store
        # with every record and decode slowly.
        datacenters = [str(dc) for dc in self.get_option("datacenters")
                       or consul.json("list datacenters", "/v1/catalog/datacenters")]
        watched = [str(name) for name in self.get_option("services")]
        listings, records = {}, {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            for dc in datacenters:
                query = "?dc=" + quote(dc, safe="")

                def get(what, path, query=query):
                    """The answer as text (what the cache keeps) and decoded, in a worker, so that one
                    answer is decoded while Consul still builds the others."""
                    def fetch():
                        text = consul.text(what, path + query)
                        return text, self._decode(text, what)
                    return pool.submit(fetch)

                nodes = get("list nodes (needs node:read)", "/v1/catalog/nodes")
                # Only the checks that are not passing: a node or service without one is passing, and a
                # fleet's passing checks would be most of what Consul sends and the plugin decodes.
                checks = get("list checks (needs node:read and service:read)",
                             "/v1/health/state/any", query + "&filter=" + quote('Status != "passing"', safe=""))
                names = watched or sorted(consul.json("list services (needs service:read)",
                                                      "/v1/catalog/services" + query))
                services = dict((name, get("list instances of %s (needs service:read)" % name,
                                           "/v1/catalog/service/" + quote(name, safe="")))
                                for name in names)
                answers = {"nodes": nodes.result(), "checks": checks.result(),
                           "services": dict((name, answer.result()) for name, answer in services.items())}
                listings[dc] = {"nodes": answers["nodes"][0], "checks": answers["checks"][0],
                                "services": dict((name, text) for name, (text, _decoded) in answers["services"].items())}
                records[dc] = datacenter_records(dc, answers["nodes"][1], answers["checks"][1],
                                                 [decoded for _text, decoded in answers["services"].values()])
        self.requests = consul.requests
        display.vvv("masa.monitoring.consul: %d request(s) to %s for %d datacenter(s), %d node(s)"
                    % (consul.requests, consul.base_url, len(records), sum(len(n) for n in records.values())))
        return listings, records

    def _decode(self, text, what):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConsulError("Consul at %s sent an answer on %s that is not JSON: %s" % (self._base_url(), what, exc))

    @staticmethod
    def _explained(exc):
        if exc.status == 403:
            return ("%s The token needs node:read and service:read on every node and service to list (for example "
                    "node_prefix \"\" and service_prefix \"\" with policy read)." % exc)
        return str(exc)

    def _wanted(self, record):
        if record["health"] not in self._health_filter:
            return False
        return not self._service_filter or any(name in record["services"] for name in self._service_filter)

    def _group(self, kind, value):
        """The inventory group of one kind and value, created on first use."""
        key = (kind, value)
        group = self._groups.get(key)
        if group is None:
            name = self.inventory.add_group(self._sanitize_group_name(self.get_option("group_prefixes").get(kind, kind + "_") + value))
            group = self._groups[key] = self.inventory.groups[name]
        return group

    def _populate(self, records):
        self._groups = {}
        self._health_filter = self.get_option("health")
        self._service_filter = self.get_option("services")
        strict = self.get_option("strict")
        constructed = self.get_option("compose") or self.get_option("groups") or self.get_option("keyed_groups")
        meta_key = self.get_option("ansible_host_meta_key")
        group = self._group
        for datacenter, nodes in records.items():
            for record in nodes:
                if not self._wanted(record):
                    continue
                name = self.inventory.add_host(make_unsafe(record["name"]))
                # Host and Group methods directly: InventoryData's wrappers look both up again for each of
                # 70,000 memberships, and the inventory manager reconciles the groups after every source.
                host = self.inventory.hosts[name]
                ansible_host = record["meta"].get(meta_key) if meta_key else None
                host.set_variable("ansible_host", make_unsafe(ansible_host or record["address"]))
                services = record["services"]
                host.set_variable("consul", make_unsafe({
                    "address": record["address"],
                    "datacenter": datacenter,
                    "node_meta": record["meta"],
                    "services": services,
                    "health": record["health"],
                }))
                group("datacenter", datacenter).add_host(host)
                group("health", record["health"]).add_host(host)
                tags = set()
                for service_name, service in services.items():
                    group("service", service_name).add_host(host)
                    tags.update(service["tags"])
                for tag in tags:
                    group("tag", tag).add_host(host)
                if constructed:
                    variables = host.get_vars()
                    self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
                    self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
                    self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        try:
            self._read_config_data(path)
        except (AnsibleParserError, AnsibleOptionsError) as exc:
            raise AnsibleParserError("%s is not a valid masa.monitoring.consul configuration: %s" % (path, exc))
        with garbage_collection_paused():
            self._load(path, cache)

    def _load(self, path, cache):
        """Records from the cache when allowed and fresh, else from Consul (the cache serves if Consul cannot)."""
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        results = None
        if use_cache and cache:
            results = cached_records(self._cache.get(cache_key))
        if results is None:
            try:
                listings, results = self._fetch()
            except ConsulError as exc:
                cached = cached_records(self._cache.get(cache_key)) if use_cache else None
                if cached is None:
                    raise AnsibleParserError(self._explained(exc))
                display.warning("%s; using the cached inventory instead" % self._explained(exc))
                results = cached
            else:
                if use_cache:
                    self._cache[cache_key] = cache_entry(listings)
        self._populate(results)
