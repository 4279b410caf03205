"""A bin's own response, against a real server: sent as set (status, headers, body, after
its delay), recorded with each request, and CORS answered for browsers."""

import asyncio
import time

import httpx
import pytest

from tests.integration.helpers import list_requests

pytestmark = pytest.mark.django_db(transaction=True)


def owned_bin(base_url, **settings):
    created = httpx.post(f"{base_url}/api/bins", json={}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    answer = httpx.patch(f"{base_url}/api/bins/{created['id']}", json=settings, headers=auth)
    assert answer.status_code == 200, answer.text
    return created


def test_capture_answers_with_the_bins_response_and_records_it(app_server):
    response = {
        "status": 201,
        "headers": [["Content-Type", "text/plain; charset=utf-8"], ["X-Echo", "yes"]],
        "body": "created ✓",
        "delay_ms": 0,
    }
    bin = owned_bin(app_server.base_url, response=response)
    answer = httpx.post(bin["url"] + "/orders", content=b"{}")
    assert answer.status_code == 201
    assert answer.text == "created ✓"
    assert answer.headers["x-echo"] == "yes"
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-inspector-request-id"].isdigit()
    [stored] = list_requests(app_server.base_url, bin["id"])
    assert stored["response"] == response
    head = httpx.head(bin["url"])  # HEAD: the same headers, no body
    assert head.status_code == 201 and head.content == b""


def test_the_default_answer_is_recorded_as_null(app_server):
    bin = owned_bin(app_server.base_url)
    assert httpx.post(bin["url"]).json()["ok"] is True
    assert list_requests(app_server.base_url, bin["id"])[0]["response"] is None


async def test_a_delayed_answer_holds_back_only_its_own_sender(app_server):
    slow = owned_bin(app_server.base_url, response={"status": 202, "delay_ms": 1500})
    quick = owned_bin(app_server.base_url)
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.monotonic()
        delayed = asyncio.create_task(client.post(slow["url"]))
        await asyncio.sleep(0.1)
        others = await asyncio.gather(*(client.post(quick["url"]) for _ in range(20)))
        others_done = time.monotonic() - started
        answer = await delayed
        waited = time.monotonic() - started
    assert all(other.status_code == 200 for other in others)
    assert answer.status_code == 202
    # Ordering, not speed: the 20 others were all answered while the delayed one waited.
    assert others_done < waited and waited >= 1.5


def test_cors_answers_preflights_and_marks_answers_for_browsers(app_server):
    bin = owned_bin(app_server.base_url, cors=True)
    preflight = httpx.options(
        bin["url"] + "/api",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-signature, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "x-signature, content-type"
    answer = httpx.put(bin["url"] + "/api", headers={"Origin": "https://app.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    methods = [item["method"] for item in list_requests(app_server.base_url, bin["id"])]
    assert methods == ["PUT", "OPTIONS"]  # the preflight is captured too


def test_a_response_that_could_split_headers_is_refused(app_server):
    created = httpx.post(f"{app_server.base_url}/api/bins", json={}).json()
    answer = httpx.patch(
        f"{app_server.base_url}/api/bins/{created['id']}",
        json={"response": {"headers": [["X-A", "1\r\nSet-Cookie: x=1"]]}},
        headers={"Authorization": f"Bearer {created['token']}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_response"
