"""Signature verdicts over the websocket: in live events (judged by the writer process),
in the backlog, and the news that the setting changed."""

import hashlib
import hmac

import pytest
from django.test import AsyncClient

from tests.asgi_fixtures import create_in_browser
from tests.consumers.test_bin_consumer import receive_all

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "a GitHub webhook secret"
BODY = b'{"zen":"Design for failure."}'


def github(body, secret=SECRET):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return [(b"X-Hub-Signature-256", f"sha256={digest}".encode())]


@pytest.fixture
async def checked():
    """A bin that checks GitHub signatures: its id and its owner's token."""
    data = await create_in_browser(AsyncClient())
    response = await AsyncClient().patch(
        f"/api/bins/{data['id']}",
        {"signature": {"provider": "github", "secret": SECRET}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    assert response.status_code == 200
    return data["id"], data["token"]


def verdicts(events):
    return [
        (request["signature"]["status"], request["signature"]["cause"])
        for event in events
        if event["type"] == "requests.created"
        for request in event["requests"]
    ]


async def test_live_events_carry_each_requests_verdict(checked, open_socket, capture):
    bin_id, _ = checked
    socket, connected, _ = await open_socket(f"/ws/bins/{bin_id}/")
    assert connected
    await capture(f"/b/{bin_id}/push", BODY, headers=github(BODY))
    await capture(f"/b/{bin_id}/push", BODY, headers=github(BODY, "not it"))
    await capture(f"/b/{bin_id}/push", BODY)
    events = await receive_all(socket, timeout=1)
    assert verdicts(events) == [("valid", None), ("invalid", "wrong_secret"), ("unsigned", None)]
    # Small events: the signatures themselves come with the single request only.
    assert "expected" not in events[0]["requests"][0]["signature"]


async def test_the_backlog_carries_verdicts_too(checked, open_socket, capture):
    bin_id, _ = checked
    await capture(f"/b/{bin_id}", BODY, headers=github(BODY))
    socket, connected, _ = await open_socket(f"/ws/bins/{bin_id}/?after=0")
    assert connected
    assert verdicts(await receive_all(socket)) == [("valid", None)]


async def test_viewers_hear_that_the_setting_changed(checked, open_socket):
    bin_id, token = checked
    socket, connected, _ = await open_socket(f"/ws/bins/{bin_id}/")
    assert connected
    await AsyncClient().patch(
        f"/api/bins/{bin_id}",
        {"signature": {"provider": "github", "secret": "a new one"}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    events = await receive_all(socket)
    assert [event["type"] for event in events] == ["bin.updated", "signature.changed"]
    updated = events[0]["bin"]
    assert updated["signature"] == {"provider": "github", "label": "GitHub"}  # no hint
