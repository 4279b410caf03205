"""Retention and expiry against real servers: exact under two processes writing to
one bin, and the purge that the server runs on its own."""

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from bins.models import Bin
from tests.conftest import scaled, server_on_test_database
from tests.integration.helpers import create_bin, list_requests

CAP = 20


@pytest.fixture(scope="module")
def capped_servers(services):
    """Two processes on PostgreSQL and Redis whose bins keep their newest CAP requests."""
    with scaled(INSPECTOR_MAX_REQUESTS_PER_BIN=str(CAP)) as servers:
        yield servers


@pytest.mark.services
async def test_two_processes_keep_exactly_the_newest_requests_of_a_bin(capped_servers):
    bin = create_bin(capped_servers[0].base_url)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=40)) as client:
        answers = await asyncio.gather(
            *(
                client.post(f"{capped_servers[n % 2].base_url}/b/{bin['id']}", content=b"%d" % n)
                for n in range(300)
            )
        )
    assert {answer.status_code for answer in answers} == {200}
    ids = sorted(answer.json()["id"] for answer in answers)
    kept = list_requests(capped_servers[1].base_url, bin["id"], limit=500)
    assert sorted(item["id"] for item in kept) == ids[-CAP:]
    data = httpx.get(f"{capped_servers[0].base_url}/api/bins/{bin['id']}").json()
    assert (data["request_count"], data["kept_count"], data["dropped_count"]) == (300, CAP, 280)
    assert data["max_requests"] == CAP


@pytest.fixture
def purging_server(django_db_setup):
    """A server on the test database that purges every second."""
    with server_on_test_database("purge", INSPECTOR_PURGE_INTERVAL="1") as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_the_server_purges_expired_bins_on_its_own(purging_server):
    base_url = purging_server.base_url
    expired, alive = create_bin(base_url), create_bin(base_url)
    httpx.post(expired["url"], content=b"old")
    Bin.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert httpx.post(expired["url"]).status_code in (404, 410)  # expired, then purged
    deadline = time.monotonic() + 10
    while httpx.get(f"{base_url}/api/bins/{expired['id']}").status_code != 404:
        assert time.monotonic() < deadline, "the expired bin was not purged"
        time.sleep(0.2)
    assert httpx.get(f"{base_url}/api/bins/{alive['id']}").status_code == 200
    assert list_requests(base_url, alive["id"]) == []
