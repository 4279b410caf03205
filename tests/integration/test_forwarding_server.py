"""Replay and forwarding with a real server and a real HTTP target on 127.0.0.1:
edited replays, a target that fails then recovers across a server restart (nothing
lost, nothing sent twice), the proxy, and two processes sharing the work."""

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bins.models import CapturedRequest, Delivery, ForwardTarget
from tests.conftest import scaled, server_on_test_database

pytestmark = pytest.mark.django_db(transaction=True)
FORWARDING = {
    "INSPECTOR_OUTBOUND_ALLOW": "127.0.0.0/8",
    "INSPECTOR_FORWARD_BACKOFF": "0.2",
    "INSPECTOR_FORWARD_BACKOFF_MAX": "1",
    "INSPECTOR_FORWARD_POLL": "0.2",
    "INSPECTOR_FORWARD_ATTEMPTS": "50",
    "INSPECTOR_FORWARD_WORKER": "true",
}


class Target:
    """A local HTTP server that keeps what it is sent and answers `status` (503 while
    failing), after `delay` seconds."""

    def __init__(self, delay=0.0):
        self.received = []  # (method, path, headers, body, status answered)
        self.failing = False
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                time.sleep(delay)
                status = 503 if target.failing else 201
                with target.lock:
                    target.received.append(
                        (self.command, self.path, list(self.headers.items()), body, status)
                    )
                answer = b"down" if status == 503 else b"taken: " + body
                self.send_response(status)
                self.send_header("X-Target", "yes")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        """Bodies answered 2xx, with how often each was."""
        with self.lock:
            return Counter(body for *_, body, status in self.received if status < 300)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    target = Target()
    yield target
    target.close()


@pytest.fixture(scope="module")
def forwarding_server(django_db_setup):
    with server_on_test_database("forwarding", **FORWARDING) as server:
        yield server


def owned_bin(base_url, **settings):
    """A bin and its owner token's headers; `settings` PATCHed on it."""
    created = httpx.post(f"{base_url}/api/bins", json={}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    if settings:
        patched = httpx.patch(f"{base_url}/api/bins/{created['id']}", json=settings, headers=auth)
        assert patched.status_code == 200, patched.text
    return created, auth


def add_target(base_url, bin_id, auth, url):
    added = httpx.post(f"{base_url}/api/bins/{bin_id}/targets", json={"url": url}, headers=auth)
    assert added.status_code == 201, added.text
    return added.json()


def wait_until(check, timeout=30, step=0.1):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(step)
    return result


def test_a_replay_and_an_edited_one_reach_the_target_and_keep_its_answers(
    forwarding_server, target
):
    base = forwarding_server.base_url
    bin, _ = owned_bin(base)
    sent = httpx.post(
        bin["url"] + "/github?delivery=1", content=b'{"n": 1}', headers={"X-Hook": "a"}
    )
    replays = f"{base}/api/bins/{bin['id']}/requests/{sent.json()['id']}/replays"
    first = httpx.post(replays, json={"url": target.url}, timeout=20)
    assert first.status_code == 201, first.text
    edit = {"url": target.url, "method": "PUT", "path": "/v2", "body": "edited", "query_string": ""}
    second = httpx.post(replays, json=edit, timeout=20)
    assert second.status_code == 201, second.text
    (one, two) = target.received
    assert one[:2] == ("POST", "/in/github?delivery=1") and one[3] == b'{"n": 1}'
    assert ("X-Hook", "a") in one[2]
    assert (two[0], two[1], two[3]) == ("PUT", "/in/v2", b"edited")
    assert first.json()["response"]["status"] == 201
    assert first.json()["response"]["body"] == 'taken: {"n": 1}'
    assert ["X-Target", "yes"] in first.json()["response"]["headers"]
    listed = httpx.get(replays).json()["replays"]
    assert [(r["method"], r["edited"]) for r in listed] == [("PUT", True), ("POST", False)]


def test_a_refused_replay_target_is_stored_with_its_error(django_db_setup, target):
    # Without the allow-list (the default), loopback is refused where it is connected to.
    with server_on_test_database("forwarding-default") as server:
        bin, _ = owned_bin(server.base_url)
        sent = httpx.post(bin["url"], content=b"x")
        replays = f"{server.base_url}/api/bins/{bin['id']}/requests/{sent.json()['id']}/replays"
        url = target.url.replace("127.0.0.1", "localhost")
        answer = httpx.post(replays, json={"url": url}, timeout=20).json()
        assert answer["response"]["error"].startswith("refused: localhost resolves to")
        assert (
            httpx.get(replays).json()["replays"][0]["response"]["error"]
            == (answer["response"]["error"])
        )
    assert target.received == []


def deliveries(base_url, bin_id, request_id):
    path = f"{base_url}/api/bins/{bin_id}/requests/{request_id}/deliveries"
    return httpx.get(path).json()["deliveries"]


def test_forwarding_retries_a_failing_target_across_a_restart_losing_and_repeating_nothing(
    forwarding_server,
):
    target = Target(delay=0.2)  # so that a restart comes while some are being sent
    target.failing = True
    base = forwarding_server.base_url
    bin, auth = owned_bin(base)
    add_target(base, bin["id"], auth, target.url)
    ids = []
    with httpx.Client() as client:
        for number in range(15):
            answer = client.post(f"{bin['url']}/hook", content=f"before {number}".encode())
            # Capture never waits for forwarding.
            assert answer.status_code == 200, (answer.text, forwarding_server.output())
            ids.append(answer.json()["id"])
    wait_until(lambda: len(target.received) >= 20)  # failing, retried
    forwarding_server.restart()
    with httpx.Client() as client:
        for number in range(15):
            answer = client.post(f"{bin['url']}/hook", content=f"after {number}".encode())
            ids.append(answer.json()["id"])
    time.sleep(1)
    target.failing = False  # it recovers
    expected = {f"{when} {n}".encode() for when in ("before", "after") for n in range(15)}
    wait_until(lambda: set(target.delivered()) == expected)
    time.sleep(2)  # nothing more comes
    target.close()
    assert set(target.delivered()) == expected
    assert set(target.delivered().values()) == {1}, "a delivery was sent twice"
    attempts = 0
    for request_id in ids:
        (delivery,) = deliveries(base, bin["id"], request_id)
        assert delivery["state"] == "delivered"
        assert delivery["attempts"][-1]["status"] == 201
        assert {a["status"] for a in delivery["attempts"][:-1]} <= {503}
        attempts += delivery["attempt_count"]
    # Every request the target got is an attempt on record: none was sent unrecorded.
    assert attempts == len(target.received)


def test_a_proxy_bin_answers_with_its_target_s_answer(forwarding_server, target):
    base = forwarding_server.base_url
    bin, auth = owned_bin(base, proxy=True, proxy_timeout_ms=5000)
    add_target(base, bin["id"], auth, target.url)
    answer = httpx.post(bin["url"] + "/x?y=1", content=b"through")
    assert (answer.status_code, answer.content) == (201, b"taken: through")
    assert answer.headers["X-Target"] == "yes"
    request_id = answer.headers["X-Inspector-Request-Id"]
    (delivery,) = deliveries(base, bin["id"], request_id)
    assert (delivery["state"], delivery["proxied"]) == ("delivered", True)
    assert delivery["attempts"][0]["trigger"] == "proxy"
    time.sleep(1)
    assert len(target.received) == 1  # the worker does not send it again
    target.failing = True
    failed = httpx.post(bin["url"], content=b"x")
    assert failed.status_code == 503  # the target's own answer, passed on


def test_a_bin_forwarding_to_itself_stops_after_a_few_hops(forwarding_server, target):
    base = forwarding_server.base_url
    bin, auth = owned_bin(base)
    added = add_target(base, bin["id"], auth, target.url)
    # The API refuses this URL; a name it cannot know for ours leads here all the same.
    ForwardTarget.objects.filter(pk=added["id"]).update(url=f"{bin['url']}/again")
    httpx.post(bin["url"], content=b"once")
    wait_until(lambda: CapturedRequest.objects.filter(bin_id=bin["id"]).count() == 4)
    time.sleep(1.5)  # nothing more comes
    stored = CapturedRequest.objects.filter(bin_id=bin["id"]).order_by("id")
    assert [r.path for r in stored] == ["", "/again", "/again/again", "/again/again/again"]
    assert Delivery.objects.filter(request__bin_id=bin["id"]).count() == 3
    assert target.received == []


def test_two_processes_forward_each_request_once(services):
    target = Target(delay=0.05)
    with scaled(2, **FORWARDING) as servers:
        bin, auth = owned_bin(servers[0].base_url)
        add_target(servers[0].base_url, bin["id"], auth, target.url)
        bodies = {f"request {n}".encode() for n in range(40)}
        with httpx.Client() as client:
            for number, body in enumerate(sorted(bodies)):
                server = servers[number % 2]
                client.post(f"{server.base_url}/b/{bin['id']}/hook", content=body)
        wait_until(lambda: set(target.delivered()) == bodies)
        time.sleep(2)
        assert set(target.delivered().values()) == {1}
        assert len(target.received) == 40
        metrics = "".join(httpx.get(f"{s.base_url}/metrics").text for s in servers)
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('inspector_forward_attempts_total{outcome="delivered"}')
    )
    assert counted == 40
    target.close()
