"""Unit tests of _consul: durations, and how HTTP failures turn into messages.

HTTP is faked here only for error paths; registration itself is tested against a real Consul.
"""

from __future__ import annotations

import io
import ssl
from urllib.error import HTTPError, URLError

import pytest

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


class FakeResponse:
    def __init__(self, body: bytes):
        self.body = body

    def read(self) -> bytes:
        return self.body


def faking_open_url(monkeypatch, outcome) -> list:
    """open_url answers ``outcome`` (bytes), or raises it; returns the requests it saw."""
    seen = []

    def fake(url, **kwargs):
        seen.append(dict(kwargs, url=url))
        if isinstance(outcome, BaseException):
            raise outcome
        return FakeResponse(outcome)
    monkeypatch.setattr(_consul, "open_url", fake)
    return seen


def test_the_token_and_tls_options_reach_every_request(monkeypatch):
    seen = faking_open_url(monkeypatch, b'{"a": 1}')
    client = _consul.ConsulClient(dict(PARAMS, ca_cert="/ca.crt", client_cert="/c.crt", client_key="/c.key"))
    assert client.get("read", "/v1/agent/self") == {"a": 1}
    assert seen[0]["headers"] == {"X-Consul-Token": "t"}
    assert seen[0]["url"] == "https://consul.example:8501/v1/agent/self"
    assert (seen[0]["ca_path"], seen[0]["client_cert"], seen[0]["client_key"]) == ("/ca.crt", "/c.crt", "/c.key")


def test_permission_denied_names_the_needed_permission(monkeypatch):
    denied = HTTPError("https://consul.example:8501/v1/agent/service/register", 403, "Forbidden", {},
                       io.BytesIO(b"Permission denied"))
    faking_open_url(monkeypatch, denied)
    with pytest.raises(_consul.ConsulError) as info:
        _consul.ConsulClient(PARAMS).put("register service 'web' (needs service:write on it)",
                                         "/v1/agent/service/register", {})
    assert "consul.example:8501" in str(info.value)
    assert "needs service:write" in str(info.value)
    assert info.value.status == 403


def test_unreachable_agent_names_host_and_port(monkeypatch):
    faking_open_url(monkeypatch, URLError(ConnectionRefusedError(111, "Connection refused")))
    with pytest.raises(_consul.ConsulError, match=r"Consul at https://consul.example:8501 is unreachable"):
        _consul.ConsulClient(PARAMS).get("read services", "/v1/agent/services")


def test_tls_failure_points_at_the_tls_options(monkeypatch):
    faking_open_url(monkeypatch, URLError(ssl.SSLError("certificate verify failed")))
    with pytest.raises(_consul.ConsulError, match="Check ca_cert, client_cert and client_key"):
        _consul.ConsulClient(PARAMS).get("read services", "/v1/agent/services")
