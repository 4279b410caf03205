"""Faults: Redis going away must never fail or lose a capture (PITFALLS.md), and
PostgreSQL going away must be told to senders (503), with nothing half written."""

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time

import httpx
import psycopg
import pytest

from tests.conftest import NO_RATE_LIMITS, server_on_test_database
from tests.integration.helpers import collect_request_ids, create_bin, list_requests, viewer
from tests.servers import POSTGRES_URL, PostgresDatabase, ServerProcess, require

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class PrivateRedis:
    """A redis-server of this test's own, on a free port, so stopping it harms no one."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def redis_server():
    """A private Redis, stopped after the test."""
    require(shutil.which("redis-server"), "redis-server is not installed")
    redis = PrivateRedis()
    redis.start()
    yield redis
    if redis.process.poll() is None:
        redis.stop()


@pytest.fixture
def server_on(redis_server, django_db_setup):
    """Inspector on the test database and the private Redis."""
    with server_on_test_database("faults", REDIS_URL=redis_server.url) as server:
        yield server


async def test_it_stores_and_answers_captures_while_redis_is_down(server_on, redis_server):
    bin = create_bin(server_on.base_url)
    first = httpx.post(bin["url"], content=b"before").json()["id"]
    redis_server.stop()
    during = [httpx.post(bin["url"], content=b"during %d" % n) for n in range(5)]
    assert [answer.status_code for answer in during] == [200] * 5
    stored = [item["id"] for item in list_requests(server_on.base_url, bin["id"])]
    assert len(stored) == 6
    redis_server.start()
    # A viewer that comes back asks for what it missed and gets every request.
    async with viewer(server_on.base_url, bin["id"], after=first) as ws:
        ids = await collect_request_ids(ws, 5)
    assert sorted(ids) == sorted(answer.json()["id"] for answer in during)


async def test_it_closes_viewers_when_redis_goes_away_so_they_catch_up(server_on, redis_server):
    bin = create_bin(server_on.base_url)
    async with viewer(server_on.base_url, bin["id"], after=0) as ws:
        redis_server.stop()
        httpx.post(bin["url"], content=b"missed live")
        await asyncio.wait_for(ws.wait_closed(), 20)
    assert ws.close_code is not None


@pytest.fixture
def postgres_server(services):
    """A server on a PostgreSQL database of its own, which the test may shut out."""
    database = PostgresDatabase()
    env = {
        "DATABASE_URL": database.url,
        "DATA_DIR": tempfile.mkdtemp(prefix="inspector-faults-"),
        **NO_RATE_LIMITS,
    }
    server = ServerProcess(env, name="dbfaults").start()
    yield server, database
    server.close()
    allow_connections(database, True)
    database.close()


def allow_connections(database, allowed):
    """Let connections into the database, or refuse new ones and end those there are:
    to the server, PostgreSQL has gone away."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database.name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [database.name],
            )


def test_while_postgresql_is_away_capture_answers_503_and_nothing_is_half_written(
    postgres_server,
):
    server, database = postgres_server
    bin = create_bin(server.base_url)
    before = httpx.post(bin["url"], content=b"before")
    allow_connections(database, False)
    started = time.monotonic()
    during = httpx.post(bin["url"], content=b"during", timeout=30)
    assert during.status_code == 503
    assert during.json()["error"]["code"] == "storage_unavailable"
    assert during.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 10  # refused in time for a sender's timeout
    allow_connections(database, True)
    deadline = time.monotonic() + 30
    while (after := httpx.post(bin["url"], content=b"after", timeout=30)).status_code != 200:
        assert after.status_code == 503 and time.monotonic() < deadline
    stored = list_requests(server.base_url, bin["id"])
    assert [item["id"] for item in stored] == [after.json()["id"], before.json()["id"]]
    counts = httpx.get(f"{server.base_url}/api/bins/{bin['id']}").json()
    assert (counts["request_count"], counts["kept_count"]) == (2, 2)


async def test_a_viewer_away_for_a_minute_misses_nothing(server_on):
    bin = create_bin(server_on.base_url)
    async with httpx.AsyncClient(timeout=10) as client:
        async with viewer(server_on.base_url, bin["id"], after=0) as ws:
            first = (await client.post(bin["url"], content=b"seen live")).json()["id"]
            assert await collect_request_ids(ws, 1) == [first]
        # Away for a minute (a laptop asleep, a train tunnel) while webhooks go on.
        sent = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = await client.post(bin["url"], content=b"while away %d" % len(sent))
            sent.append(answer.json()["id"])
            await asyncio.sleep(2)
        async with viewer(server_on.base_url, bin["id"], after=first) as ws:
            caught_up = await collect_request_ids(ws, len(sent))
            late = (await client.post(bin["url"], content=b"live again")).json()["id"]
            assert await collect_request_ids(ws, 1) == [late]
    assert caught_up == sent


def test_readiness_flips_while_redis_is_away_and_health_does_not(server_on, redis_server):
    ready = server_on.base_url + "/readyz"
    assert httpx.get(ready).status_code == 200
    redis_server.stop()
    answer = httpx.get(ready, timeout=15)
    assert answer.status_code == 503
    assert answer.json()["channel_layer"].startswith("failing")
    assert answer.json()["database"] == "ok"
    assert httpx.get(server_on.base_url + "/healthz").status_code == 200
    redis_server.start()
    assert httpx.get(ready, timeout=15).status_code == 200


def test_readiness_flips_while_postgresql_is_away(postgres_server):
    server, database = postgres_server
    ready = server.base_url + "/readyz"
    assert httpx.get(ready).status_code == 200
    allow_connections(database, False)
    try:
        answer = httpx.get(ready, timeout=20)
        assert answer.status_code == 503
        assert answer.json()["database"].startswith("failing")
        assert httpx.get(server.base_url + "/healthz").status_code == 200
    finally:
        allow_connections(database, True)
    assert httpx.get(ready, timeout=20).status_code == 200
