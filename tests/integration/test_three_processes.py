"""Three processes on PostgreSQL and Redis behave as one: viewers on each see every
webhook sent to any, none twice, while one process is killed and restarted."""

import asyncio
import json
import os
import signal

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import scaled
from tests.integration.helpers import create_bin, viewer

pytestmark = pytest.mark.services
COUNT = 150


class Watcher:
    """A viewer that reconnects with ?after= as the page does; keeps every id it got."""

    def __init__(self, server, bin_id):
        self.server, self.bin_id = server, bin_id
        self.ids = []
        self.connections = 0

    async def run(self, until):
        while not until.is_set():
            after = max(self.ids, default=0)
            try:
                async with viewer(self.server.base_url, self.bin_id, after=after) as ws:
                    self.connections += 1
                    while not until.is_set():
                        try:
                            message = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        event = json.loads(message)
                        if event["type"] == "requests.created":
                            self.ids.extend(item["id"] for item in event["requests"])
            except (OSError, ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.2)  # its process is away: try again


async def send(client, servers, bin_id, number):
    """Like a provider behind a balancer: spread over the processes in rotation,
    retried on another until one stores it."""
    for attempt in range(60):
        server = servers[(number + attempt) % len(servers)]
        try:
            answer = await client.post(f"{server.base_url}/b/{bin_id}", content=b"%d" % number)
        except httpx.HTTPError:
            await asyncio.sleep(0.1)
            continue
        if answer.status_code == 200:
            return answer.json()["id"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"request {number} was never stored")


async def test_three_processes_deliver_every_webhook_to_every_viewer_through_a_restart(services):
    with scaled(3) as servers:
        bin = create_bin(servers[0].base_url)
        done = asyncio.Event()
        watchers = [Watcher(server, bin["id"]) for server in servers]
        tasks = [asyncio.create_task(w.run(done)) for w in watchers]
        await asyncio.sleep(1)  # all connected
        sent = []
        rotation = list(servers)  # what the balancer sends to: its health checks
        async with httpx.AsyncClient(timeout=5) as client:
            for number in range(COUNT):
                if number == COUNT // 3:
                    os.kill(servers[2].process.pid, signal.SIGKILL)
                    servers[2].process.wait(10)
                    rotation.remove(servers[2])
                if number == 2 * COUNT // 3:
                    servers[2].start()
                    rotation.append(servers[2])
                sent.append(await send(client, rotation, bin["id"], number))
        for _ in range(100):  # let the last events arrive
            if all(set(sent) <= set(w.ids) for w in watchers):
                break
            await asyncio.sleep(0.1)
        done.set()
        await asyncio.gather(*tasks)
    for number, watcher in enumerate(watchers):
        assert set(watcher.ids) == set(sent), f"the viewer of process {number}"
    for steady in watchers[:2]:  # never disconnected: nothing came twice
        assert steady.connections == 1
        assert len(steady.ids) == len(set(steady.ids))
    assert watchers[2].connections >= 2  # it reconnected after the restart
