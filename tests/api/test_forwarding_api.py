"""Replay and forwarding through the real ASGI application, against HTTP targets on
127.0.0.1 (opened with INSPECTOR_OUTBOUND_ALLOW, which the guard needs for loopback)."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from bins import forwarder, metrics
from bins.models import Attempt, Bin, Delivery, ForwardTarget
from tests.api.test_api import assert_error
from tests.asgi_fixtures import BROWSER, create_in_browser

pytestmark = pytest.mark.django_db(transaction=True)


class LocalTarget:
    """An HTTP/1.1 server on 127.0.0.1 in the test's own event loop: it keeps each
    request (method, target, [[name, value]], body) and answers the next of
    `answers` ((status, [[name, value]], body)), then 200 "ok"."""

    def __init__(self):
        self.received = []
        self.answers = []
        self.gate = None  # an asyncio.Event to wait for before answering, if set

    async def start(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/in"
        return self

    async def serve(self, reader, writer):
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *lines = head.split("\r\n")[:-2]
            headers = [line.split(": ", 1) for line in lines]
            length = int(next((v for n, v in headers if n.lower() == "content-length"), 0))
            body = await reader.readexactly(length)
            method, target, _ = line.split(" ")
            self.received.append((method, target, headers, body))
            if self.gate is not None:
                await self.gate.wait()
            status, extra, answer = self.answers.pop(0) if self.answers else (200, [], b"ok")
            lines = [f"HTTP/1.1 {status} X", *(f"{n}: {v}" for n, v in extra)]
            lines += [f"Content-Length: {len(answer)}", "Connection: close"]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer)
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, count, timeout=10):
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)


@pytest.fixture
async def target():
    """A local HTTP target, reachable: loopback opened to outbound calls."""
    target = await LocalTarget().start()
    yield target
    target.server.close()


@pytest.fixture
def reachable(settings):
    settings.INSPECTOR_OUTBOUND_ALLOW = ["127.0.0.0/8"]


@pytest.fixture
async def owner():
    """A browser session that owns a fresh bin: (client, bin id)."""
    client = AsyncClient()
    data = await create_in_browser(client)
    return client, data["id"]


async def post(client, path, body, method="POST"):
    return await client.generic(method, path, json.dumps(body), content_type="application/json")


async def captured_id(capture, bin_id, path="/github?delivery=7", body=b'{"n": 1}'):
    answer = await capture(
        f"/b/{bin_id}{path}",
        body=body,
        headers=[(b"content-type", b"application/json"), (b"x-github-event", b"push")],
    )
    request_id = answer["headers"].get(b"x-inspector-request-id")
    return answer, int(request_id) if request_id else None


# --- replay ------------------------------------------------------------------------


async def test_a_replay_sends_the_request_as_captured_and_keeps_the_answer(
    async_client, bin, capture, target, reachable
):
    _, request_id = await captured_id(capture, bin.id)
    target.answers.append((202, [["X-Seen", "yes"]], b'{"queued": true}'))
    base = f"/api/bins/{bin.id}/requests/{request_id}/replays"
    response = await async_client.post(base, {"url": target.url}, content_type="application/json")
    assert response.status_code == 201, response.content
    replay = response.json()
    ((method, path, headers, body),) = target.received
    assert (method, path, body) == ("POST", "/in/github?delivery=7", b'{"n": 1}')
    assert ["Inspector-Forwarded", "hops=1"] in headers
    assert ["X-GitHub-Event", "push"] in [[n, v] for n, v in headers] or [
        "x-github-event",
        "push",
    ] in headers
    assert replay["url"] == f"{target.url}/github?delivery=7"
    assert (replay["method"], replay["edited"], replay["body_text"]) == ("POST", False, '{"n": 1}')
    answer = replay["response"]
    assert (answer["status"], answer["body"], answer["error"]) == (202, '{"queued": true}', None)
    assert ["X-Seen", "yes"] in answer["headers"]
    assert answer["duration_ms"] >= 0

    listed = (await async_client.get(base)).json()["replays"]
    assert [r["id"] for r in listed] == [replay["id"]]
    assert listed[0]["response"]["body_preview"] == '{"queued": true}'
    assert "body" not in listed[0]["response"] and "body_base64" not in listed[0]
    whole = await async_client.get(f"{base}/{replay['id']}")
    assert whole.json() == replay


async def test_a_replay_may_be_edited_first(async_client, bin, capture, target, reachable):
    _, request_id = await captured_id(capture, bin.id)
    edits = {
        "url": target.url,
        "method": "PUT",
        "path": "/edited",
        "query_string": "x=2",
        "headers": [["X-Edited", "1"], ["Content-Type", "text/plain"]],
        "body": "changed",
    }
    response = await post(async_client, f"/api/bins/{bin.id}/requests/{request_id}/replays", edits)
    assert response.status_code == 201
    ((method, path, headers, body),) = target.received
    assert (method, path, body) == ("PUT", "/in/edited?x=2", b"changed")
    names = [name.lower() for name, _ in headers]
    assert "x-edited" in names and "x-github-event" not in names
    assert response.json()["edited"] is True


async def test_a_refused_target_s_error_is_stored_and_shown(async_client, bin, capture, target):
    # No allow-list: loopback is refused, checked on the address connected to.
    _, request_id = await captured_id(capture, bin.id)
    base = f"/api/bins/{bin.id}/requests/{request_id}/replays"
    url = f"http://localhost:{target.port}/in"
    response = await async_client.post(base, {"url": url}, content_type="application/json")
    assert response.status_code == 201
    error = response.json()["response"]["error"]
    assert error.startswith("refused:") and "loopback" in error
    assert target.received == []
    (listed,) = (await async_client.get(base)).json()["replays"]
    assert listed["response"]["error"] == error and listed["response"]["status"] is None
    # An address literal is refused before anything is sent.
    literal = {"url": f"http://127.0.0.1:{target.port}/"}
    refused = await async_client.post(base, literal, content_type="application/json")
    assert_error(refused, 400, "invalid_replay")


async def test_replay_needs_write_access_and_a_sendable_request(async_client, capture, target):
    owner = AsyncClient()
    data = await create_in_browser(owner, private=True)
    _, request_id = await captured_id(capture, data["id"])
    base = f"/api/bins/{data['id']}/requests/{request_id}/replays"
    assert_error(await async_client.post(base, {"url": target.url}), 401, "bin_private")
    bad = await owner.post(
        base, {"url": target.url, "path": "x"}, content_type="application/json", headers=BROWSER
    )
    assert_error(bad, 400, "invalid_replay")
    assert_error(await owner.get(f"{base}/999"), 404, "replay_not_found")
    missing = f"/api/bins/{data['id']}/requests/999/replays"
    assert_error(await owner.get(missing), 404, "request_not_found")


async def test_replayed_headers_are_masked_as_the_bin_masks(
    async_client, capture, target, reachable
):
    bin = await Bin.objects.acreate(mask_headers=True)
    answer = await capture(f"/b/{bin.id}/x", headers=[(b"authorization", b"Bearer sk_live_1")])
    request_id = json.loads(answer["body"])["id"]
    base = f"/api/bins/{bin.id}/requests/{request_id}/replays"
    response = await async_client.post(base, {"url": target.url}, content_type="application/json")
    assert response.status_code == 201
    assert "sk_live_1" not in response.content.decode()
    assert "sk_live_1" not in (await async_client.get(base)).content.decode()


async def test_a_replay_by_anyone_but_the_owner_sends_masked_headers_as_the_mask(
    async_client, owner, capture, target, reachable
):
    # A public bin: anyone with its id may replay, to a server of their own.
    client, bin_id = owner
    await post(client, f"/api/bins/{bin_id}", {"mask_headers": True}, "PATCH")
    await Bin.objects.filter(pk=bin_id).aupdate(signature_provider="gitlab")
    answer = await capture(
        f"/b/{bin_id}/x",
        headers=[(b"authorization", b"Bearer sk_live_1"), (b"x-gitlab-token", b"glt-2")],
    )
    request_id = json.loads(answer["body"])["id"]
    base = f"/api/bins/{bin_id}/requests/{request_id}/replays"
    edits = {"url": target.url, "method": "PUT"}  # edited, but not its headers
    for replay in ({"url": target.url}, edits):
        response = await post(async_client, base, replay)
        assert response.status_code == 201, response.content
        assert response.json()["edited"] is ("method" in replay)
    mask = "••••••••".encode().decode("latin-1")  # as the target's server reads the bytes
    for _, _, headers, _ in target.received:
        assert ["authorization", mask] in headers and ["x-gitlab-token", mask] in headers
    # The owner sends them as captured.
    assert (await post(client, base, {"url": target.url})).status_code == 201
    assert ["authorization", "Bearer sk_live_1"] in target.received[-1][2]
    assert ["x-gitlab-token", "glt-2"] in target.received[-1][2]


# --- targets -----------------------------------------------------------------------


async def test_the_owner_manages_forward_targets_and_the_bin_counts_enabled_ones(
    async_client, owner, target, reachable
):
    client, bin_id = owner
    base = f"/api/bins/{bin_id}/targets"
    first = await post(client, base, {"url": target.url})
    assert first.status_code == 201, first.content
    second = await post(client, base, {"url": "https://hooks.example.com/b", "enabled": False})
    assert (first.json()["position"], second.json()["position"]) == (0, 1)
    listing = (await client.get(base)).json()
    assert [t["url"] for t in listing["targets"]] == [target.url, "https://hooks.example.com/b"]
    assert (listing["proxy"], listing["proxy_timeout_ms"]) == (False, 10_000)
    assert (await client.get(f"/api/bins/{bin_id}")).json()["forward_count"] == 1

    changed = await post(client, f"{base}/{second.json()['id']}", {"enabled": True}, "PATCH")
    assert changed.json()["enabled"] is True
    assert (await client.get(f"/api/bins/{bin_id}")).json()["forward_count"] == 2
    gone = await client.delete(f"{base}/{first.json()['id']}")
    assert gone.status_code == 204
    assert (await client.get(f"/api/bins/{bin_id}")).json()["forward_count"] == 1

    # Others, even with the bin's id, may not.
    assert_error(await async_client.get(base), 403, "owner_only")
    assert_error(await async_client.post(base, {"url": target.url}), 403, "owner_only")


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "invalid_target"),
        ({"url": "http://127.0.0.1/"}, "invalid_target"),
        ({"url": "http://169.254.169.254/latest"}, "invalid_target"),
        ({"url": "ftp://x.example/"}, "invalid_target"),
        ({"url": "https://x.example/", "enabled": "yes"}, "invalid_target"),
        ({"url": "https://x.example/", "colour": "red"}, "invalid_field"),
    ],
)
async def test_a_target_that_may_not_be_sent_to_is_refused(owner, body, code):
    client, bin_id = owner
    assert_error(await post(client, f"/api/bins/{bin_id}/targets", body), 400, code)


async def test_a_bin_may_not_forward_to_a_capture_url_here(owner, settings):
    client, bin_id = owner
    settings.PUBLIC_URL = "https://inspector.example"
    for url in (f"http://testserver/b/{bin_id}/x", "https://inspector.example/b/other"):
        refused = await post(client, f"/api/bins/{bin_id}/targets", {"url": url})
        assert_error(refused, 400, "invalid_target")
        assert "capture URL of this Inspector" in refused.json()["error"]["message"]


async def test_a_bin_has_at_most_ten_targets(owner):
    client, bin_id = owner
    for number in range(10):
        await post(client, f"/api/bins/{bin_id}/targets", {"url": f"https://x{number}.example"})
    eleventh = await post(client, f"/api/bins/{bin_id}/targets", {"url": "https://y.example"})
    assert_error(eleventh, 409, "too_many_targets")


async def test_the_proxy_switch_and_timeout_are_bin_settings(owner):
    client, bin_id = owner
    changed = await post(
        client, f"/api/bins/{bin_id}", {"proxy": True, "proxy_timeout_ms": 2000}, "PATCH"
    )
    assert (changed.json()["proxy"], changed.json()["proxy_timeout_ms"]) == (True, 2000)
    for bad in ({"proxy": "on"}, {"proxy_timeout_ms": 50}, {"proxy_timeout_ms": 60_000}):
        refused = await post(client, f"/api/bins/{bin_id}", bad, "PATCH")
        assert refused.status_code == 400


# --- deliveries --------------------------------------------------------------------


async def forwarding_to(url, proxy=False):
    bin = await Bin.objects.acreate(proxy=proxy, forward_count=1)
    await ForwardTarget.objects.acreate(bin=bin, url=url)
    return bin


async def test_deliveries_are_listed_with_attempts_and_retried_now(
    async_client, capture, target, reachable
):
    bin = await forwarding_to(target.url)
    answer, request_id = await captured_id(capture, bin.id)
    assert answer["status"] == 200  # capture never waits for forwarding
    base = f"/api/bins/{bin.id}/requests/{request_id}/deliveries"
    (delivery,) = (await async_client.get(base)).json()["deliveries"]
    assert (delivery["state"], delivery["attempt_count"], delivery["attempts"]) == (
        "pending",
        0,
        [],
    )
    assert delivery["max_attempts"] == 5
    # Only the owner sees a target's whole URL: its path may be a secret.
    assert delivery["target"]["url"] == f"http://127.0.0.1:{target.port}/…"

    target.answers.append((500, [], b"broken"))
    retried = await async_client.post(f"{base}/{delivery['id']}/retry")
    assert retried.status_code == 200, retried.content
    data = retried.json()
    assert (data["state"], data["attempt_count"]) == ("pending", 1)
    (tried,) = data["attempts"]
    assert (tried["trigger"], tried["status"], tried["outcome"]) == ("manual", 500, "rejected")
    assert tried["body_preview"] == "broken"

    retried = await async_client.post(f"{base}/{delivery['id']}/retry")
    assert retried.json()["state"] == "delivered"
    assert [a["status"] for a in retried.json()["attempts"]] == [500, 200]
    assert target.received[0][1] == "/in/github?delivery=7"
    # Each request sent on says so, for a target that leads back here to stop a loop.
    assert ["Inspector-Forwarded", "hops=1"] in target.received[0][2]
    again = await async_client.post(f"{base}/{delivery['id']}/retry")
    assert_error(again, 409, "delivery_delivered")
    assert_error(await async_client.post(f"{base}/999/retry"), 404, "delivery_not_found")


async def test_a_redirect_is_not_followed_by_forwarding_nor_the_proxy_but_is_by_replay(
    async_client, capture, target, reachable
):
    # Followed, a 302 would turn the POST into a GET without its body, then count as done.
    moved = (302, [["Location", "/elsewhere"]], b"")
    bin = await forwarding_to(target.url)
    _, request_id = await captured_id(capture, bin.id)
    base = f"/api/bins/{bin.id}/requests/{request_id}/deliveries"
    (delivery,) = (await async_client.get(base)).json()["deliveries"]
    target.answers.append(moved)
    retried = (await async_client.post(f"{base}/{delivery['id']}/retry")).json()
    (tried,) = retried["attempts"]
    assert (retried["state"], tried["status"], tried["outcome"]) == ("pending", 302, "rejected")
    assert ["Location", "/elsewhere"] in tried["headers"]
    assert len(target.received) == 1

    proxy = await forwarding_to(target.url, proxy=True)
    target.answers.append(moved)
    answer, _ = await captured_id(capture, proxy.id)
    assert (answer["status"], answer["headers"][b"Location"]) == (302, b"/elsewhere")
    assert len(target.received) == 2

    target.answers += [moved, (200, [], b"landed")]
    replays = f"/api/bins/{bin.id}/requests/{request_id}/replays"
    replay = (await post(async_client, replays, {"url": target.url})).json()
    assert (replay["response"]["status"], replay["response"]["body"]) == (200, "landed")
    assert [r[:2] for r in target.received[2:]] == [
        ("POST", "/in/github?delivery=7"),
        ("GET", "/elsewhere"),
    ]


async def test_a_path_climbing_above_the_target_s_is_never_sent(
    async_client, capture, target, reachable
):
    bin = await forwarding_to(target.url)
    _, request_id = await captured_id(capture, bin.id, path="/../../admin")
    base = f"/api/bins/{bin.id}/requests/{request_id}/deliveries"
    (delivery,) = (await async_client.get(base)).json()["deliveries"]
    tried = (await async_client.post(f"{base}/{delivery['id']}/retry")).json()
    assert tried["state"] == "failed"  # it never can be sent: no retries
    assert "would reach above the target's path" in tried["attempts"][0]["error"]

    proxy = await forwarding_to(target.url, proxy=True)
    answer, _ = await captured_id(capture, proxy.id, path="/%2e%2e/admin")
    assert answer["status"] == 502

    replays = f"/api/bins/{bin.id}/requests/{request_id}/replays"
    assert_error(await post(async_client, replays, {"url": target.url}), 400, "invalid_replay")
    assert target.received == []


async def test_a_send_cancelled_midway_is_still_recorded(async_client, capture, target, reachable):
    # A client that goes away during "retry now", a proxy's sender, a stopping server.
    bin = await forwarding_to(target.url)
    _, request_id = await captured_id(capture, bin.id)
    (delivery,) = [d async for d in Delivery.objects.all()]
    target.gate = asyncio.Event()
    retry = f"/api/bins/{bin.id}/requests/{request_id}/deliveries/{delivery.id}/retry"
    call = asyncio.create_task(async_client.post(retry))
    await target.wait_for(1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    target.gate.set()
    async with asyncio.timeout(10):
        while not await Attempt.objects.filter(delivery=delivery).aexists():
            await asyncio.sleep(0.02)
    await delivery.arefresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.lease) == ("delivered", 1, "")


async def test_the_worker_forwards_each_capture_and_tells_the_bin_s_pages(
    capture, open_socket, target, reachable, settings
):
    settings.INSPECTOR_FORWARD_BACKOFF = 0.05
    bin = await forwarding_to(target.url)
    socket, connected, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert connected
    worker = forwarder.start()
    try:
        target.answers.append((503, [], b"later"))
        _, request_id = await captured_id(capture, bin.id)
        await target.wait_for(2)
        states = []
        async with asyncio.timeout(10):
            while "delivered" not in states:
                event = json.loads(await socket.receive_from(10))
                if event["type"] == "delivery.updated":
                    states.append(event["delivery"]["state"])
                    assert event["delivery"]["request"] == request_id
                    assert "attempts" not in event["delivery"]
        assert states == ["pending", "delivered"]
    finally:
        await forwarder.stop()
    assert worker.task.done()
    delivery = await Delivery.objects.aget(request_id=request_id)
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert len(target.received) == 2


async def test_a_refused_forward_target_s_error_is_recorded(capture, target, settings):
    settings.INSPECTOR_FORWARD_ATTEMPTS = 1
    bin = await forwarding_to(f"http://localhost:{target.port}/in")
    forwarder.start()
    try:
        _, request_id = await captured_id(capture, bin.id)
        async with asyncio.timeout(10):
            while not await Attempt.objects.filter(delivery__request_id=request_id).aexists():
                await asyncio.sleep(0.05)
    finally:
        await forwarder.stop()
    attempt = await Attempt.objects.aget(delivery__request_id=request_id)
    assert attempt.result["error"].startswith("refused:")
    assert (await Delivery.objects.aget(request_id=request_id)).state == "failed"
    assert target.received == []


# --- the proxy ---------------------------------------------------------------------


async def test_a_proxy_bin_answers_with_its_target_s_answer(
    async_client, capture, target, reachable
):
    bin = await forwarding_to(target.url, proxy=True)
    target.answers.append(
        (201, [["X-From", "target"], ["Set-Cookie", "a=1"], ["Connection", "close"]], b"made")
    )
    answer, _ = await captured_id(capture, bin.id)
    assert (answer["status"], answer["body"]) == (201, b"made")
    headers = answer["headers"]
    assert headers[b"X-From"] == b"target" and b"Set-Cookie" not in headers
    assert headers[b"content-security-policy"] == b"sandbox"  # served from Inspector's site
    request_id = int(headers[b"x-inspector-request-id"])
    assert b"Connection" not in headers
    delivery = await Delivery.objects.aget(request_id=request_id)
    assert (delivery.state, delivery.proxied, delivery.leased_until) == ("delivered", True, None)
    attempt = await Attempt.objects.aget(delivery=delivery)
    assert (attempt.trigger, attempt.result["status"]) == ("proxy", 201)
    assert target.received[0][3] == b'{"n": 1}'


async def test_a_proxy_whose_target_does_not_answer_answers_502(capture, reachable):
    closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    bin = await forwarding_to(f"http://127.0.0.1:{port}/", proxy=True)
    answer, _ = await captured_id(capture, bin.id)
    assert answer["status"] == 502
    data = json.loads(answer["body"])
    assert data["error"]["code"] == "proxy_failed" and "refused" in data["error"]["message"]
    assert (await Delivery.objects.aget(request_id=data["id"])).state == "failed"


async def test_a_proxied_request_shows_and_exports_the_answer_its_sender_got(
    async_client, capture, target, reachable
):
    bin = await forwarding_to(target.url, proxy=True)
    target.answers.append((201, [["X-From", "target"]], b"made {{ not a template }}"))
    _, made = await captured_id(capture, bin.id)
    detail = (await async_client.get(f"/api/bins/{bin.id}/requests/{made}")).json()["response"]
    assert (detail["status"], detail["body"], detail["proxy"]) == (
        201,
        "made {{ not a template }}",
        True,
    )
    assert ["X-From", "target"] in detail["headers"]
    exported = await async_client.get(f"/api/bins/{bin.id}/requests/{made}/export")
    har = json.loads(b"".join([chunk async for chunk in exported.streaming_content]))
    (entry,) = har["log"]["entries"]
    assert (entry["response"]["status"], entry["response"]["_proxy"]) == (201, True)
    assert entry["response"]["content"]["text"] == "made {{ not a template }}"

    target.answers.append((200, [], b"x" * 5000))
    _, big = await captured_id(capture, bin.id)
    listed = (await async_client.get(f"/api/bins/{bin.id}/requests")).json()["requests"]
    shown = next(r["response"] for r in listed if r["id"] == big)
    assert len(shown["body"]) == 2048 and shown["body_cut"] is True  # lists stay small

    await ForwardTarget.objects.filter(bin=bin).aupdate(url="http://127.0.0.1:1/")
    _, failed = await captured_id(capture, bin.id)
    detail = (await async_client.get(f"/api/bins/{bin.id}/requests/{failed}")).json()["response"]
    assert (detail["status"], detail["proxy"]) == (502, True)
    assert "refused" in detail["error"] and "proxy_failed" in detail["body"]
    found = (await async_client.get(f"/api/bins/{bin.id}/requests?q=status:502")).json()
    assert [r["id"] for r in found["requests"]] == [failed]


async def test_a_proxied_head_is_answered_with_the_target_s_length(capture, target, reachable):
    bin = await forwarding_to(target.url, proxy=True)
    target.answers.append((200, [["Content-Type", "text/html"]], b"x" * 1234))
    answer = await capture(f"/b/{bin.id}/page", method="HEAD")
    assert (answer["status"], answer["body"]) == (200, b"")
    lengths = [v for n, v in answer["headers"].items() if n.lower() == b"content-length"]
    assert lengths == [b"1234"]
    ((method, _, headers, _),) = target.received
    assert method == "HEAD" and "content-length" not in [n.lower() for n, _ in headers]


async def test_forward_attempts_are_counted_by_outcome(async_client, capture, target, reachable):
    before = metrics.forward_attempts.labels("delivered")._value.get()
    bin = await forwarding_to(target.url, proxy=True)
    await captured_id(capture, bin.id)
    text = (await async_client.get("/metrics")).content.decode()
    assert f'inspector_forward_attempts_total{{outcome="delivered"}} {before + 1}' in text
    assert 'inspector_forward_attempts_total{outcome="refused"}' in text


async def test_a_target_removed_takes_its_deliveries(owner, capture, target, reachable):
    client, bin_id = owner
    created = await post(client, f"/api/bins/{bin_id}/targets", {"url": target.url})
    _, request_id = await captured_id(capture, bin_id)
    (delivery,) = (await client.get(f"/api/bins/{bin_id}/requests/{request_id}/deliveries")).json()[
        "deliveries"
    ]
    assert delivery["target"]["url"] == target.url  # the owner's view
    await client.delete(f"/api/bins/{bin_id}/targets/{created.json()['id']}")
    assert await Delivery.objects.acount() == 0
    assert await sync_to_async(Bin.objects.get)(pk=bin_id) is not None
