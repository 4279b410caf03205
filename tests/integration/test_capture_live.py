"""Capture over real HTTP and live push over a real websocket, on a Daphne process."""

import asyncio
import base64

import httpx
import pytest

from tests.integration.helpers import (
    collect_request_ids,
    create_bin,
    list_requests,
    next_event,
    raw_request,
    viewer,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_pushes_a_captured_webhook_to_a_connected_viewer(app_server):
    bin = create_bin(app_server.base_url)
    async with viewer(app_server.base_url, bin["id"]) as ws:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                bin["url"] + "/github?x=1",
                json={"action": "opened"},
                headers={"X-GitHub-Event": "issues"},
            )
        assert answer.status_code == 200
        event = await next_event(ws)
    assert event["type"] == "requests.created"
    [pushed] = event["requests"]
    assert pushed["id"] == answer.json()["id"]
    assert pushed["method"] == "POST"
    assert pushed["path"] == "/github"
    assert pushed["query"] == [["x", "1"]]
    assert ["X-GitHub-Event", "issues"] in pushed["headers"]
    assert pushed["body_preview"] == '{"action":"opened"}'


def test_it_stores_headers_exactly_as_sent(app_server):
    bin = create_bin(app_server.base_url)
    path = f"/b/{bin['id']}/hooks/a%2Fb?b=2&a=1&a="
    request = (
        f"PUT {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{app_server.port}\r\n"
        "X-Dup: 1\r\n"
        "X_Under_Score: kept\r\n"
        "x-dup: 2\r\n"
        "Content-Length: 4\r\n"
        "Connection: close\r\n\r\n"
        "\xff\xfe\x00\x01"
    ).encode("latin-1")
    answer = raw_request(app_server.port, request)
    assert answer.startswith(b"HTTP/1.1 200 ")
    [stored] = list_requests(app_server.base_url, bin["id"])
    assert stored["method"] == "PUT"
    assert stored["path"] == "/hooks/a%2Fb"
    assert stored["query_string"] == "b=2&a=1&a="
    assert stored["headers"] == [
        ["Host", f"127.0.0.1:{app_server.port}"],
        ["X-Dup", "1"],
        ["X_Under_Score", "kept"],
        ["x-dup", "2"],
        ["Content-Length", "4"],
        ["Connection", "close"],
    ]
    body = httpx.get(f"{app_server.base_url}/api/bins/{bin['id']}/requests/{stored['id']}/body")
    assert body.content == b"\xff\xfe\x00\x01"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "OPTIONS", "PROPFIND", "PURGE"])
@pytest.mark.parametrize("suffix", ["", "/", "/deep/path/"])
def test_it_captures_every_method_without_redirects(app_server, method, suffix):
    bin = create_bin(app_server.base_url)
    answer = httpx.request(method, bin["url"] + suffix, content=b"x", follow_redirects=False)
    assert answer.status_code == 200
    [stored] = list_requests(app_server.base_url, bin["id"])
    assert (stored["method"], stored["path"]) == (method, suffix)


def test_it_answers_head_without_a_body(app_server):
    bin = create_bin(app_server.base_url)
    answer = httpx.head(bin["url"])
    assert answer.status_code == 200
    assert answer.content == b""
    assert list_requests(app_server.base_url, bin["id"])[0]["method"] == "HEAD"


def test_it_answers_404_for_an_unknown_bin(app_server):
    answer = httpx.post(f"{app_server.base_url}/b/aaaaaaaaaaaaaaaa/x", content=b"lost")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "bin_not_found"


async def test_it_backfills_what_a_viewer_missed_without_duplicates(app_server):
    bin = create_bin(app_server.base_url)
    first = httpx.post(bin["url"], content=b"1").json()["id"]
    missed = [httpx.post(bin["url"], content=str(i).encode()).json()["id"] for i in range(3)]
    async with viewer(app_server.base_url, bin["id"], after=first) as ws:
        ids = await collect_request_ids(ws, 3)
    assert ids == missed


async def test_it_loses_no_event_in_a_burst(app_server):
    bin = create_bin(app_server.base_url)
    async with viewer(app_server.base_url, bin["id"]) as ws, httpx.AsyncClient() as client:
        sent = await asyncio.gather(
            *(client.post(bin["url"], content=b'{"n": %d}' % i) for i in range(200))
        )
        ids = await collect_request_ids(ws, 200, timeout=30)
    assert sorted(ids) == sorted(answer.json()["id"] for answer in sent)
    assert len(list_requests(app_server.base_url, bin["id"], limit=500)) == 200


def test_it_keeps_binary_bodies_byte_for_byte(app_server):
    bin = create_bin(app_server.base_url)
    payload = bytes(range(256)) * 64
    request_id = httpx.post(bin["url"], content=payload).json()["id"]
    detail = httpx.get(f"{app_server.base_url}/api/bins/{bin['id']}/requests/{request_id}").json()
    assert base64.b64decode(detail["body_base64"]) == payload
    assert detail["body_text"] is None
    assert detail["body_size"] == len(payload)
