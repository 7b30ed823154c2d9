# -*- coding: utf-8 -*-
# Copyright: masa.monitoring contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Consul client and module base for the consul_* modules.

Not part of the collection's public API.
"""

from __future__ import annotations

import abc
import json
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

try:
    import consul
    import requests

    HAS_CONSUL = True
    CONSUL_IMPORT_ERROR = None
except ImportError:
    HAS_CONSUL = False
    CONSUL_IMPORT_ERROR = traceback.format_exc()

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


class ConsulModuleError(Exception):
    """A failure reported to the user as it is."""


def duration_seconds(value):
    """'1m30s', '90s' and 90 all become 90.0; None and '' stay None."""
    if value in (None, "", 0, "0", "0s"):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConsulModuleError("%r is not a duration; write it like 10s, 1m or 1m30s" % value)
    return round(sum(float(n) * _UNIT_SECONDS[u] for n, u in parts), 6)


def go_duration(value):
    """A duration as Consul wants it: whole seconds as '90s', fractions as milliseconds."""
    seconds = duration_seconds(value)
    if seconds is None:
        return None
    if float(seconds).is_integer():
        return "%ds" % seconds
    return "%dms" % round(seconds * 1000)


class ConsulClient:
    """python-consul2 with the collection's connection options and readable errors."""

    def __init__(self, params):
        self.address = "%s:%s" % (params["host"], params["port"])
        verify = params["validate_certs"]
        if verify and params["ca_cert"]:
            verify = params["ca_cert"]
        cert = None
        if params["client_cert"]:
            cert = (params["client_cert"], params["client_key"]) if params["client_key"] else params["client_cert"]
        self.api = consul.Consul(
            host=params["host"],
            port=params["port"],
            scheme=params["scheme"],
            token=params["token"],
            verify=verify,
            cert=cert,
            timeout=params["timeout"],
        )
        # python-consul2 lets CONSUL_HTTP_TOKEN override an explicit token; ours wins.
        self.api.token = params["token"]

    def call(self, what, func, *args, **kwargs):
        """Run one API call; ``what`` names it for messages (and the permission a 403 means)."""
        try:
            return func(*args, **kwargs)
        except consul.ACLPermissionDenied as exc:
            raise ConsulModuleError(
                "Consul at %s refused to %s: permission denied (%s). Use a token with that permission."
                % (self.address, what, _text(exc))
            )
        except requests.exceptions.SSLError as exc:
            raise ConsulModuleError(
                "TLS with Consul at %s failed: %s. Check ca_cert, client_cert and client_key." % (self.address, exc)
            )
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise ConsulModuleError("Consul at %s is unreachable: %s" % (self.address, _root_cause(exc)))
        except consul.ConsulException as exc:
            raise ConsulModuleError("Consul at %s could not %s: %s" % (self.address, what, _text(exc)))

    def put(self, what, path, payload, params=None):
        """PUT raw JSON through the client's HTTP layer, for API fields python-consul2 does not cover."""
        headers = {"X-Consul-Token": self.api.token} if self.api.token else None
        return self.call(
            what, self.api.http.put, _json_or_none, path, params=params or [], data=json.dumps(payload), headers=headers
        )


def _json_or_none(response):
    consul.base.CB._status(response, allow_404=False)
    return json.loads(response.body) if response.body else None


def _text(exc):
    return (str(exc) or type(exc).__name__).strip()


def _root_cause(exc):
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return _text(exc)


class ConsulModule(abc.ABC):
    """Read, compare, then write outside check mode, for one Consul object.

    A subclass names its options (``argument_spec``) and says how to read the current object,
    how to shape it for comparison, and how to write or delete it.
    """

    argument_spec = {}
    module_kwargs = {}
    has_state = True

    def __init__(self):
        spec = dict(CONSUL_COMMON_ARGS)
        if self.has_state:
            spec["state"] = dict(type="str", default="present", choices=["present", "absent"])
        spec.update(self.argument_spec)
        kwargs = dict(supports_check_mode=True)
        kwargs.update(self.module_kwargs)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        if not HAS_CONSUL:
            self.module.fail_json(msg=missing_required_lib("python-consul2"), exception=CONSUL_IMPORT_ERROR)
        self.params = self.module.params
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
        try:
            result = self.execute()
        except ConsulModuleError as exc:
            self.module.fail_json(msg=str(exc))
        self.module.exit_json(**result)

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
        if self.module._diff:
            result["diff"] = dict(before=current or {}, after=after or {})
        return result

    def result_fields(self, after):
        return {}
