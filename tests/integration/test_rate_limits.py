"""Rate limits against real servers: two processes draw from the same buckets in
Redis, and every refusal is answered 429 and counted on the bin."""

import asyncio
import time

import httpx
import pytest

from tests.conftest import scaled
from tests.integration.helpers import create_bin, list_requests

pytestmark = pytest.mark.services
BURST = 10


@pytest.fixture(scope="module")
def limited_servers(services):
    """Two processes on PostgreSQL and Redis; a bin takes 1 request a second, bursts of 10."""
    with scaled(INSPECTOR_BIN_RATE="1", INSPECTOR_BIN_BURST=str(BURST)) as servers:
        yield servers


async def test_two_processes_share_a_bins_rate_limit(limited_servers):
    bin = create_bin(limited_servers[0].base_url)
    started = time.monotonic()
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(
            *(
                client.post(f"{limited_servers[n % 2].base_url}/b/{bin['id']}", content=b"%d" % n)
                for n in range(40)
            )
        )
    elapsed = time.monotonic() - started
    statuses = [answer.status_code for answer in answers]
    passed, refused = statuses.count(200), statuses.count(429)
    assert passed + refused == 40
    # The burst, plus at most what refilled meanwhile: not a burst per process.
    assert BURST <= passed <= BURST + int(elapsed) + 1
    for answer in answers:
        if answer.status_code == 429:
            assert answer.json()["error"]["code"] == "rate_limited"
            assert int(answer.headers["Retry-After"]) >= 1
    assert len(list_requests(limited_servers[1].base_url, bin["id"])) == passed
    data = httpx.get(f"{limited_servers[0].base_url}/api/bins/{bin['id']}").json()
    assert (data["request_count"], data["refused_count"]) == (40, refused)


async def test_one_bins_limit_leaves_another_bin_alone(limited_servers):
    busy, quiet = create_bin(limited_servers[0].base_url), create_bin(limited_servers[0].base_url)
    async with httpx.AsyncClient() as client:
        for _ in range(BURST + 5):
            await client.post(f"{limited_servers[0].base_url}/b/{busy['id']}")
        answer = await client.post(f"{limited_servers[1].base_url}/b/{quiet['id']}")
    assert answer.status_code == 200
