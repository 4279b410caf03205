"""BinConsumer at /ws/bins/<id>/, through the real ASGI application (origin check included)."""

import asyncio
import json
import time

import pytest
from channels.layers import get_channel_layer
from django.test import AsyncClient
from django.utils import timezone

from bins import consumers, live
from bins.models import Bin, new_bin_id

pytestmark = pytest.mark.django_db(transaction=True)


async def receive_all(communicator, timeout=0.3):
    """Every event the socket holds until it stays quiet for `timeout` seconds."""
    events = []
    while not await communicator.receive_nothing(timeout=timeout):
        events.append(await communicator.receive_json_from())
    return events


def ids_of(events):
    return [item["id"] for event in events for item in event["requests"]]


async def test_it_accepts_a_viewer_of_a_bin(open_socket, bin):
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert connected
    assert await socket.receive_nothing()


async def test_it_closes_with_4404_for_an_unknown_bin(open_socket):
    socket, connected, _ = await open_socket(f"/ws/bins/{new_bin_id()}/")
    assert connected  # accepted first, so the page learns why
    message = await socket.receive_output(timeout=2)
    assert message == {"type": "websocket.close", "code": 4404}


async def test_it_closes_with_4404_for_an_expired_bin(open_socket, bin):
    await Bin.objects.filter(pk=bin.pk).aupdate(expires_at=timezone.now())
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert connected
    message = await socket.receive_output(timeout=2)
    assert message == {"type": "websocket.close", "code": 4404}


async def test_it_refuses_a_foreign_origin(open_socket, bin):
    headers = [(b"origin", b"http://evil.example"), (b"host", b"testserver")]
    _, connected, _ = await open_socket(f"/ws/bins/{bin.id}/", headers=headers)
    assert not connected


async def test_it_refuses_the_same_host_on_another_port(open_socket, bin):
    headers = [(b"origin", b"http://testserver:8000"), (b"host", b"testserver")]
    _, connected, _ = await open_socket(f"/ws/bins/{bin.id}/", headers=headers)
    assert not connected


async def test_it_refuses_a_host_that_is_not_allowed(open_socket, bin):
    headers = [(b"origin", b"http://rebound.example"), (b"host", b"rebound.example")]
    _, connected, _ = await open_socket(f"/ws/bins/{bin.id}/", headers=headers)
    assert not connected


async def test_it_accepts_a_client_that_sends_no_origin(open_socket, bin):
    _, connected, _ = await open_socket(f"/ws/bins/{bin.id}/", headers=[(b"host", b"testserver")])
    assert connected


async def test_a_capture_arrives_live(open_socket, bin, capture):
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert connected
    answer = await capture(
        f"/b/{bin.id}/x?y=1",
        body=b'{"hello": "world"}',
        headers=[(b"content-type", b"application/json")],
    )
    assert answer["status"] == 200
    request_id = json.loads(answer["body"])["id"]

    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "requests.created"
    assert set(event) == {"type", "requests"}
    (request,) = event["requests"]
    assert request["id"] == request_id
    assert request["bin"] == bin.id
    assert request["method"] == "POST"
    assert request["path"] == "/x"
    assert request["query"] == [["y", "1"]]
    assert request["url"] == f"http://testserver/b/{bin.id}/x?y=1"
    assert request["body_preview"] == '{"hello": "world"}'
    assert request["content_type"] == "application/json"
    assert "body_base64" not in request  # events stay small
    assert await socket.receive_nothing(timeout=0.3)


async def test_every_viewer_of_the_bin_gets_the_event(open_socket, bin, capture):
    first, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    second, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    await capture(f"/b/{bin.id}")
    assert (await first.receive_json_from(timeout=5))["type"] == "requests.created"
    assert (await second.receive_json_from(timeout=5))["type"] == "requests.created"


async def test_viewers_of_another_bin_get_nothing(open_socket, bin, capture):
    other = await type(bin).objects.acreate()
    socket, _, _ = await open_socket(f"/ws/bins/{other.id}/")
    await capture(f"/b/{bin.id}")
    assert await socket.receive_nothing(timeout=0.5)


async def test_backfill_sends_exactly_the_requests_after_the_given_id(
    open_socket, bin, store_requests
):
    stored = await store_requests(bin, 5)
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/?after={stored[1].pk}")
    assert connected
    events = await receive_all(socket)
    assert [event["type"] for event in events] == ["requests.created"]
    assert ids_of(events) == [r.pk for r in stored[2:]]
    assert [item["path"] for item in events[0]["requests"]] == ["/2", "/3", "/4"]


async def test_live_events_wait_until_the_backlog_is_sent(
    open_socket, bin, store_requests, monkeypatch
):
    # A viewer shown a newer request before its backlog, then cut off, would come
    # back with ?after= that newer id and never get the backlog's requests.
    stored = await store_requests(bin, 3)
    real_query = consumers.requests_after_async

    async def query_while_a_request_arrives(*args):
        await live.publish(bin.id, live.requests_created([{"id": 10**9}]))
        await asyncio.sleep(0.3)  # the hub has relayed it by now
        return await real_query(*args)

    monkeypatch.setattr(consumers, "requests_after_async", query_while_a_request_arrives)
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/?after={stored[0].pk}")
    assert connected
    events = await receive_all(socket, timeout=0.6)
    assert ids_of(events) == [r.pk for r in stored[1:]] + [10**9]


async def test_backfill_after_zero_sends_everything_oldest_first(open_socket, bin, store_requests):
    stored = await store_requests(bin, 3)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after=0")
    assert ids_of(await receive_all(socket)) == [r.pk for r in stored]


async def test_backfill_after_the_latest_id_sends_nothing(open_socket, bin, store_requests):
    stored = await store_requests(bin, 3)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after={stored[-1].pk}")
    assert await socket.receive_nothing(timeout=0.3)


async def test_no_backfill_without_after(open_socket, bin, store_requests):
    await store_requests(bin, 3)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert await socket.receive_nothing(timeout=0.3)


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "", "%C2%B2"])  # %C2%B2 is "²"
async def test_an_invalid_after_is_ignored(open_socket, bin, store_requests, after):
    await store_requests(bin, 2)
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/?after={after}")
    assert connected
    assert await socket.receive_nothing(timeout=0.3)
    assert not socket.future.done()  # still connected, not crashed


async def test_a_large_backfill_comes_in_several_frames_without_duplicates(
    open_socket, bin, store_requests
):
    stored = await store_requests(bin, 250)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after=0")
    events = await receive_all(socket)
    assert len(events) > 1
    assert ids_of(events) == [r.pk for r in stored]


async def test_backfill_then_live_events_show_each_request_once(
    open_socket, bin, store_requests, capture
):
    # A capture racing the backlog query may arrive twice by design (clients
    # de-duplicate by id); once the backlog is in, each request comes once.
    stored = await store_requests(bin, 4)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after={stored[0].pk}")
    backlog = ids_of(await receive_all(socket))
    answers = [await capture(f"/b/{bin.id}/live/{n}") for n in range(3)]
    live = ids_of(await receive_all(socket, timeout=0.5))
    assert backlog == [r.pk for r in stored[1:]]
    assert live == [json.loads(answer["body"])["id"] for answer in answers]


async def test_a_backlog_over_the_limit_gives_a_gap(open_socket, bin, store_requests, settings):
    settings.INSPECTOR_BACKLOG_LIMIT = 3
    await store_requests(bin, 5)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after=0")
    assert await receive_all(socket) == [{"type": "gap"}]


async def test_a_backlog_of_exactly_the_limit_is_sent(open_socket, bin, store_requests, settings):
    settings.INSPECTOR_BACKLOG_LIMIT = 3
    stored = await store_requests(bin, 3)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after=0")
    assert ids_of(await receive_all(socket)) == [r.pk for r in stored]


async def test_live_events_follow_a_gap(open_socket, bin, store_requests, settings, capture):
    settings.INSPECTOR_BACKLOG_LIMIT = 1
    await store_requests(bin, 2)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/?after=0")
    assert await socket.receive_json_from(timeout=2) == {"type": "gap"}
    answer = await capture(f"/b/{bin.id}")
    event = await socket.receive_json_from(timeout=5)
    assert ids_of([event]) == [json.loads(answer["body"])["id"]]


async def test_deleting_a_request_through_the_api_is_pushed(open_socket, bin, store_requests):
    stored = await store_requests(bin, 2)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    response = await AsyncClient().delete(f"/api/bins/{bin.id}/requests/{stored[0].pk}")
    assert response.status_code == 204
    assert await socket.receive_json_from(timeout=2) == {
        "type": "request.deleted",
        "id": stored[0].pk,
    }
    assert await socket.receive_nothing(timeout=0.3)


async def test_clearing_a_bin_through_the_api_is_pushed(open_socket, bin, store_requests):
    await store_requests(bin, 2)
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    response = await AsyncClient().delete(f"/api/bins/{bin.id}/requests")
    assert response.status_code == 204
    assert await socket.receive_json_from(timeout=2) == {"type": "bin.cleared"}
    assert await socket.receive_nothing(timeout=0.3)


async def test_deleting_the_bin_through_the_api_is_pushed(open_socket, bin):
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    response = await AsyncClient().delete(f"/api/bins/{bin.id}")
    assert response.status_code == 204
    assert await socket.receive_json_from(timeout=2) == {"type": "bin.deleted"}


async def test_a_disconnected_viewer_leaves_quietly(open_socket, bin, capture):
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    await socket.disconnect()
    answer = await capture(f"/b/{bin.id}")
    assert answer["status"] == 200


async def test_it_tells_a_viewer_that_fell_behind_to_refill_instead_of_relaying(open_socket, bin):
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert connected
    layer = get_channel_layer()
    stale = {
        "type": live.RELAY,
        "bin": bin.id,
        "text": '{"type":"bin.cleared"}',
        "at": time.time() - 60,
    }
    await layer.group_send(live.group_name(bin.id), stale)
    await layer.group_send(live.group_name(bin.id), stale)
    assert await socket.receive_json_from() == {"type": "gap"}
    assert await socket.receive_nothing()
    await layer.group_send(live.group_name(bin.id), {**stale, "at": time.time()})
    assert await socket.receive_json_from() == {"type": "bin.cleared"}
