"""Unit tests of _consul: durations, and how HTTP failures turn into messages.

HTTP is faked here only for error paths; registration itself is tested against a real Consul.
"""

from __future__ import annotations

import pytest
import requests
import consul

from ansible_collections.masa.monitoring.plugins.module_utils import _consul

PARAMS = dict(host="consul.example", port=8501, scheme="https", token="t", ca_cert=None, client_cert=None,
              client_key=None, validate_certs=True, timeout=1)


@pytest.mark.parametrize("value, seconds", [("10s", 10), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), (90, 90),
                                            ("1h", 3600), (None, None), ("", None)])
def test_duration_seconds(value, seconds):
    assert _consul.duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["ten seconds", "10", "1m 30s", "s"])
def test_duration_rejects_text_that_is_not_a_duration(value):
    with pytest.raises(_consul.ConsulError, match="is not a duration"):
        _consul.duration_seconds(value)


def test_go_duration_normalises():
    assert _consul.go_duration("1m30s") == "90s"
    assert _consul.go_duration("1.5s") == "1500ms"
    assert _consul.go_duration(None) is None


def test_explicit_token_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "from-env")
    assert _consul.ConsulClient(PARAMS).api.token == "t"


def raising(exc):
    def call(*_args, **_kwargs):
        raise exc
    return call


def test_permission_denied_names_the_needed_permission():
    client = _consul.ConsulClient(PARAMS)
    with pytest.raises(_consul.ConsulError) as info:
        client.call("register service 'web' (needs service:write on it)",
                    raising(consul.ACLPermissionDenied("Permission denied")))
    assert "consul.example:8501" in str(info.value)
    assert "needs service:write" in str(info.value)


def test_unreachable_agent_names_host_and_port():
    client = _consul.ConsulClient(PARAMS)
    error = requests.exceptions.ConnectionError("Max retries exceeded")
    with pytest.raises(_consul.ConsulError, match=r"Consul at consul.example:8501 is unreachable"):
        client.call("read services", raising(error))


def test_tls_failure_points_at_the_tls_options():
    client = _consul.ConsulClient(PARAMS)
    with pytest.raises(_consul.ConsulError, match="Check ca_cert, client_cert and client_key"):
        client.call("read services", raising(requests.exceptions.SSLError("certificate verify failed")))
