# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Consul clients for the consul_* modules and the consul inventory plugin, and the
modules' base. Every failure is a ConsulError that carries Consul's HTTP status when it answered.

Not part of the collection's public API.
"""

from __future__ import annotations

import abc
import json
import re
import ssl
import threading

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url
from ansible_collections.masa.monitoring.plugins.module_utils._module import ModuleFailure, finish, with_diff

# Connection options every consul_* module shares; documented in the masa.monitoring.consul fragment.
CONSUL_COMMON_ARGS = dict(
    host=dict(type="str", default="localhost"),
    port=dict(type="int", default=8501),
    scheme=dict(type="str", default="https", choices=["http", "https"]),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["CONSUL_HTTP_TOKEN"])),
    ca_cert=dict(type="path", aliases=["ca_path"]),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="float", default=10),
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConsulError(ModuleFailure):
    """A failure to do something with Consul; ``status`` and ``body`` are its answer, when it answered."""

    def __init__(self, message, status=None, body=""):
        super(ConsulError, self).__init__(message, status, body)

    def is_acl_not_found(self):
        """Consul answers 403 with its ErrNotFound text, "ACL not found", for a token or policy it does not have."""
        return (self.status == 403 and self.body.strip() == "ACL not found") or self.status == 404


def duration_seconds(value):
    """'1m30s', '90s' and 90 all become 90.0; None and '' stay None."""
    if value in (None, "", 0, "0", "0s"):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConsulError("%r is not a duration; write it like 10s, 1m or 1m30s" % value)
    return round(sum(float(n) * _UNIT_SECONDS[u] for n, u in parts), 6)


def go_duration(value):
    """A duration as Consul wants it: whole seconds as '90s', fractions as milliseconds."""
    seconds = duration_seconds(value)
    if seconds is None:
        return None
    if float(seconds).is_integer():
        return "%ds" % seconds
    return "%dms" % round(seconds * 1000)


class ConsulHTTP:
    """Consul's HTTP API through ansible-core's open_url, so that modules need nothing but Python on the host.
    The modules' and the inventory plugin's client. Thread-safe; counts its requests."""

    def __init__(self, base_url, token=None, timeout=10, validate_certs=True, ca_cert=None, client_cert=None,
                 client_key=None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.tls = dict(validate_certs=validate_certs, ca_path=ca_cert, client_cert=client_cert, client_key=client_key)
        self.requests = 0
        self._lock = threading.Lock()

    @classmethod
    def from_params(cls, params):
        return cls("%s://%s:%s" % (params["scheme"], params["host"], params["port"]), token=params["token"],
                   timeout=params["timeout"], validate_certs=params["validate_certs"], ca_cert=params["ca_cert"],
                   client_cert=params["client_cert"], client_key=params["client_key"])

    def raw(self, what, path, method="GET", data=None):
        """Consul's answer to one request as bytes; ``what`` names the call in messages."""
        headers = {"X-Consul-Token": self.token} if self.token else {}
        with self._lock:
            self.requests += 1
        try:
            response = open_url(self.base_url + path, method=method, data=data, headers=headers, timeout=self.timeout,
                                **self.tls)
            return response.read()
        except HTTPError as exc:
            body = to_native(exc.read() or b"").strip()
            if exc.code == 403:
                raise ConsulError("Consul at %s refused to %s: permission denied (%s). Use a token with that "
                                  "permission." % (self.base_url, what, body), exc.code, body)
            raise ConsulError("Consul at %s could not %s: %s %s" % (self.base_url, what, exc.code, body), exc.code, body)
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise ConsulError("TLS with Consul at %s failed: %s. Check ca_cert, client_cert and client_key."
                                  % (self.base_url, to_native(reason)))
            raise ConsulError("Consul at %s is unreachable: %s" % (self.base_url, to_native(reason)))

    def text(self, what, path, method="GET", payload=None):
        """Consul's answer to one request, with a JSON ``payload``, as text."""
        return to_text(self.raw(what, path, method, None if payload is None else json.dumps(payload)))

    def json(self, what, path, method="GET", payload=None):
        text = self.text(what, path, method, payload)
        try:
            return json.loads(text) if text else None
        except ValueError as exc:
            raise ConsulError("Consul at %s sent an answer to %s that is not JSON: %s" % (self.base_url, what, exc))


class ConsulClient:
    """The connection the module's options describe: ``address`` for messages, ``http`` for the calls."""

    def __init__(self, params):
        self.address = "%s:%s" % (params["host"], params["port"])
        self.http = ConsulHTTP.from_params(params)

    def get(self, what, path):
        return self.http.json(what, path)

    def put(self, what, path, payload=None, params=None):
        query = "&".join("%s=%s" % pair for pair in params or [])
        return self.http.json(what, path + ("?" + query if query else ""), method="PUT", payload=payload)

    def delete(self, what, path):
        return self.http.json(what, path, method="DELETE")


def consul_module(argument_spec=None, has_state=True, **kwargs):
    """An AnsibleModule with the shared connection options (and C(state)), check mode on."""
    spec = dict(CONSUL_COMMON_ARGS)
    if has_state:
        spec["state"] = dict(type="str", default="present", choices=["present", "absent"])
    spec.update(argument_spec or {})
    return AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)


class ConsulModule(abc.ABC):
    """Read, compare, then write outside check mode, for one Consul object.

    A subclass says how to read the current object, how to shape it for comparison, and how to
    write or delete it; its module's main() declares the options.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = ConsulClient(self.params)

    @abc.abstractmethod
    def read(self):
        """The object as Consul has it, in the shape ``wanted`` returns, or None."""

    @abc.abstractmethod
    def wanted(self):
        """The object as the options describe it."""

    @abc.abstractmethod
    def write(self, wanted, current):
        """Create or update; may return extra result fields."""

    @abc.abstractmethod
    def delete(self, current):
        """Remove the object."""

    def differs(self, wanted, current):
        return wanted != current

    def run(self):
        finish(self.module, self.execute)

    def execute(self):
        current = self.read()
        result = dict(changed=False)
        if self.params.get("state", "present") == "absent":
            after = None
            if current is not None:
                result["changed"] = True
                if not self.module.check_mode:
                    self.delete(current)
        else:
            after = self.wanted()
            if current is None or self.differs(after, current):
                result["changed"] = True
                if not self.module.check_mode:
                    result.update(self.write(after, current) or {})
        result.update(self.result_fields(after))
        return with_diff(self.module, result, current, after)

    def result_fields(self, after):
        return {}
