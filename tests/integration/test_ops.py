"""/healthz, /readyz and /metrics against real servers: readiness flips when
PostgreSQL or Redis go away, and the metrics count what the test sent."""

import re

import httpx
import pytest

from tests.conftest import server_on_test_database
from tests.integration.helpers import create_bin, viewer

pytestmark = pytest.mark.django_db(transaction=True)
LIMIT = 1000


@pytest.fixture(scope="module")
def ops_server(django_db_setup):
    with server_on_test_database(
        "ops", INSPECTOR_MAX_BODY_BYTES=str(LIMIT), INSPECTOR_BIN_RATE="1", INSPECTOR_BIN_BURST="3"
    ) as server:
        yield server


def sample(text, name, **labels):
    """The value of one sample of a Prometheus text page, or 0."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    label = rf"\{{{re.escape(wanted)}\}}" if wanted else ""
    pattern = rf"^{re.escape(name)}{label} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_health_and_readiness_answer_when_all_is_well(ops_server):
    assert httpx.get(ops_server.base_url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(ops_server.base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def grew(before, after, name, **labels):
    return sample(after, name, **labels) - sample(before, name, **labels)


async def test_metrics_count_what_was_sent(ops_server):
    before = httpx.get(ops_server.base_url + "/metrics").text
    watched, other = create_bin(ops_server.base_url), create_bin(ops_server.base_url)
    async with viewer(ops_server.base_url, watched["id"]) as ws:
        during = httpx.get(ops_server.base_url + "/metrics").text
        statuses = [httpx.post(watched["url"], content=b"x" * 10).status_code for _ in range(5)]
        await ws.recv()  # the first frame reached this process's viewer
    assert statuses == [200, 200, 200, 429, 429]  # a burst of 3
    assert httpx.post(other["url"], content=b"y" * (LIMIT + 1)).status_code == 413
    assert httpx.post(ops_server.base_url + "/b/aaaaaaaaaaaaaaaa").status_code == 404
    after = httpx.get(ops_server.base_url + "/metrics").text
    assert sample(during, "inspector_websocket_viewers") == 1
    assert sample(after, "inspector_websocket_viewers") == 0
    assert grew(before, after, "inspector_requests_captured_total") == 3
    refused = "inspector_requests_refused_total"
    assert grew(before, after, refused, reason="rate_limited") == 2
    assert grew(before, after, refused, reason="body_too_large") == 1
    assert grew(before, after, refused, reason="bin_not_found") == 1
    assert grew(before, after, "inspector_bytes_received_total") == 50 + LIMIT + 1
    assert grew(before, after, "inspector_push_delay_seconds_count") >= 1


def test_metrics_need_the_token_when_one_is_set(django_db_setup):
    with server_on_test_database("opstoken", INSPECTOR_METRICS_TOKEN="s3cret") as server:
        assert httpx.get(server.base_url + "/metrics").status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(server.base_url + "/metrics", headers=wrong).status_code == 403
        right = {"Authorization": "Bearer s3cret"}
        answer = httpx.get(server.base_url + "/metrics", headers=right)
        assert answer.status_code == 200 and "inspector_requests_captured_total" in answer.text


def test_fixed_bins_exist_from_the_start_and_keep_their_url_across_restarts(django_db_setup):
    with server_on_test_database("fixed", INSPECTOR_FIXED_BINS="fixed-hooks") as server:
        bin = httpx.get(server.base_url + "/api/bins/fixed-hooks").json()
        assert bin["keep"] is True and bin["url"] == f"{server.base_url}/b/fixed-hooks"
        assert httpx.post(bin["url"], content=b"before").status_code == 200
        server.process.terminate()
        server.process.wait(15)
        server.start()
        assert httpx.post(bin["url"], content=b"after").status_code == 200
        again = httpx.get(server.base_url + "/api/bins/fixed-hooks").json()
        assert again["request_count"] == 2 and again["expires_at"] == bin["expires_at"]
