"""bins.ops: who may read /metrics."""

import pytest
from django.test import RequestFactory

from bins.ops import may_read_metrics


def request(remote, **headers):
    return RequestFactory().get("/metrics", REMOTE_ADDR=remote, headers=headers)


@pytest.mark.parametrize(
    "remote, headers, allowed",
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("203.0.113.5", {}, False),
        # Behind nginx on this machine: the client nginx names is who asks.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, False),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, True),
    ],
)
def test_without_a_token_only_loopback_clients_read_metrics(settings, remote, headers, allowed):
    settings.INSPECTOR_METRICS_TOKEN = ""
    settings.INSPECTOR_TRUSTED_PROXIES = ["127.0.0.1"]
    assert may_read_metrics(request(remote, **headers)) is allowed


def test_with_a_token_whoever_sends_it_reads_metrics_and_nobody_else(settings):
    settings.INSPECTOR_METRICS_TOKEN = "s3cret"
    assert may_read_metrics(request("203.0.113.5", Authorization="Bearer s3cret"))
    assert not may_read_metrics(request("127.0.0.1"))
    assert not may_read_metrics(request("127.0.0.1", Authorization="Bearer nope"))
