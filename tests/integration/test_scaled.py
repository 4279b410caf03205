"""PostgreSQL and Redis, two Daphne processes behind no balancer: any process may
take the webhook and any may hold the viewer's websocket."""

import asyncio

import httpx
import pytest

from tests.integration.helpers import (
    collect_request_ids,
    create_bin,
    list_requests,
    next_event,
    viewer,
)

pytestmark = pytest.mark.services


async def test_it_pushes_a_webhook_sent_to_one_process_to_a_viewer_on_another(scaled_servers):
    first, second = scaled_servers
    bin = create_bin(first.base_url)
    async with viewer(second.base_url, bin["id"]) as ws:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{first.base_url}/b/{bin['id']}/stripe", json={"type": "charge.succeeded"}
            )
        event = await next_event(ws)
    assert answer.status_code == 200
    assert event["type"] == "requests.created"
    assert [item["id"] for item in event["requests"]] == [answer.json()["id"]]
    assert event["requests"][0]["path"] == "/stripe"


async def test_it_delivers_every_event_of_a_burst_spread_over_both_processes(scaled_servers):
    bin = create_bin(scaled_servers[0].base_url)
    async with (
        viewer(scaled_servers[0].base_url, bin["id"]) as ws0,
        viewer(scaled_servers[1].base_url, bin["id"]) as ws1,
        httpx.AsyncClient() as client,
    ):
        answers = await asyncio.gather(
            *(
                client.post(f"{scaled_servers[i % 2].base_url}/b/{bin['id']}", content=b"%d" % i)
                for i in range(200)
            )
        )
        sent = sorted(answer.json()["id"] for answer in answers)
        assert sorted(await collect_request_ids(ws0, 200, timeout=30)) == sent
        assert sorted(await collect_request_ids(ws1, 200, timeout=30)) == sent


async def test_it_keeps_an_idle_viewer_receiving(scaled_servers):
    # redis-py 8's default socket timeout crashed idle channels-redis readers after
    # about 10 s (PITFALLS.md); 20 s idle proves the configured timeout holds.
    first, second = scaled_servers
    bin = create_bin(first.base_url)
    async with viewer(second.base_url, bin["id"]) as ws:
        await asyncio.sleep(20)
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{first.base_url}/b/{bin['id']}", content=b"late")
        event = await next_event(ws)
    assert [item["id"] for item in event["requests"]] == [answer.json()["id"]]


def test_it_stores_nul_bytes_and_any_header_byte_on_postgresql(scaled_servers):
    server = scaled_servers[1]
    bin = create_bin(server.base_url)
    body = b"\x00\xff\xfe binary \x00"
    answer = httpx.post(
        f"{server.base_url}/b/{bin['id']}",
        content=body,
        headers={"X-Latin": "caf\xe9".encode("latin-1")},
    )
    assert answer.status_code == 200
    [stored] = list_requests(server.base_url, bin["id"])
    assert ["X-Latin", "caf\xe9"] in stored["headers"]
    raw = httpx.get(f"{server.base_url}/api/bins/{bin['id']}/requests/{stored['id']}/body")
    assert raw.content == body


async def test_it_answers_a_long_poll_from_a_webhook_on_the_other_process(scaled_servers):
    first, second = scaled_servers
    bin = create_bin(first.base_url)
    async with httpx.AsyncClient(timeout=30) as client:
        waiting = asyncio.create_task(
            client.get(f"{second.base_url}/api/bins/{bin['id']}/requests/wait?after=0&timeout=20")
        )
        await asyncio.sleep(0.5)
        sent = await client.post(f"{first.base_url}/b/{bin['id']}", content=b"wake")
        answer = await asyncio.wait_for(waiting, 10)
    assert [item["id"] for item in answer.json()["requests"]] == [sent.json()["id"]]


async def test_a_failure_script_counts_across_processes(scaled_servers):
    first, second = scaled_servers
    bin = create_bin(first.base_url)
    script = {"which": "first", "count": 10, "how": "error", "status": 503}
    async with httpx.AsyncClient(timeout=15) as client:
        set_up = await client.patch(
            f"{first.base_url}/api/bins/{bin['id']}",
            json={"failures": script},
            headers={"Authorization": f"Bearer {bin['token']}"},
        )
        assert set_up.status_code == 200, set_up.text
        answers = await asyncio.gather(
            *(
                client.post(f"{scaled_servers[i % 2].base_url}/b/{bin['id']}", content=b"%d" % i)
                for i in range(60)
            )
        )
    assert sorted(answer.status_code for answer in answers) == [200] * 50 + [503] * 10
    stored = list_requests(second.base_url, bin["id"], limit=100)
    assert sum(1 for item in stored if item["response"]) == 10
