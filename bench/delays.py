"""Do delayed answers hold anyone else up? `.venv/bin/python bench/delays.py`

An embedded server. A quick bin is sent requests at a steady rate, one at a time on each of
8 connections, and their answer times are measured: first alone, then while DELAYED
requests wait on a bin whose response is held back DELAY_MS. A delay is an await in the
capture app, holding no thread and no database connection, so the quick ones should not
notice. Prints both runs' answer times, p50 / p99 / max, as JSON.
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import SERVER_ENV, SMALL_BODY, Connection, embedded, percentile, stop  # noqa: E402
from tests.servers import ServerProcess  # noqa: E402

DELAYED = 300  # requests waiting at once
DELAY_MS = 5000
QUICK = 400  # requests to the quick bin in each run


def bin_with(base_url, response=None):
    created = httpx.post(f"{base_url}/api/bins", json={}).json()
    if response:
        httpx.patch(
            f"{base_url}/api/bins/{created['id']}",
            json={"response": response},
            headers={"Authorization": f"Bearer {created['token']}"},
        ).raise_for_status()
    return created["id"]


async def quick_answers(port, bin_id):
    """Answer times (ms) of QUICK requests over 8 keep-alive connections."""
    times = []

    async def worker(count):
        connection = await Connection(port).open()
        for _ in range(count):
            started = time.perf_counter()
            status, _ = await connection.post(f"/b/{bin_id}/quick", SMALL_BODY)
            assert status == 200
            times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)
        connection.close()

    await asyncio.gather(*(worker(QUICK // 8) for _ in range(8)))
    return times


def summary(times):
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "max_ms": round(max(times), 1),
    }


async def main():
    env = embedded(tempfile.mkdtemp(prefix="inspector-delays-"))
    server = ServerProcess({**env, **SERVER_ENV}, name="delays").start()
    try:
        quick = bin_with(server.base_url)
        slow = bin_with(server.base_url, {"status": 202, "delay_ms": DELAY_MS})
        httpx.post(f"{server.base_url}/b/{quick}/warm-up")  # the writer process starts
        alone = await quick_answers(server.port, quick)
        limits = httpx.Limits(max_connections=DELAYED)
        async with httpx.AsyncClient(timeout=DELAY_MS / 1000 + 30, limits=limits) as client:
            started = time.perf_counter()

            async def held():
                sent = time.perf_counter()
                answer = await client.post(f"{server.base_url}/b/{slow}/slow")
                return answer, (time.perf_counter() - sent) * 1000 - DELAY_MS

            waiting = [asyncio.create_task(held()) for _ in range(DELAYED)]
            await asyncio.sleep(0.5)  # they are all in, waiting
            beside = await quick_answers(server.port, quick)
            quick_done = time.perf_counter() - started
            results = await asyncio.gather(*waiting)
            slow_done = time.perf_counter() - started
    finally:
        stop([server])
    assert all(answer.status_code == 202 for answer, _ in results)
    beyond = [extra for _, extra in results]
    result = {
        "delayed": DELAYED,
        "delay_ms": DELAY_MS,
        "quick_alone": summary(alone),
        "quick_beside_delayed": summary(beside),
        "quick_all_answered_after_s": round(quick_done, 2),
        "delayed_all_answered_after_s": round(slow_done, 2),
        # What a delayed sender waited beyond its delay: opening 300 connections at once,
        # mostly (the same burst with no delay takes as long).
        "delayed_beyond_delay": summary(beyond),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
