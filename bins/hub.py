"""Live events fanned out in memory: one group membership per bin and process.

Channels' Redis layer delivers a group message to every member channel one by
one: a frame for 100 viewers of a bin was 100 messages popped from Redis and
decoded one at a time, most of a core at 200 requests a second
(docs/performance.md). Here each process joins a bin's group once, with one
channel of its own, while anything in it listens to that bin (websocket viewers,
long polls), and hands each event to those listeners in memory.

An event published in this process reaches its listeners here at once
(deliver()), without the round trips through Redis and back (four each way, a
third of the push delay on PostgreSQL + Redis with 100 viewers); the copy that
comes back through the channel layer, marked with this hub's `origin`, is
skipped. The channel layer is still the only way between processes. If receiving
fails (Redis went away), listeners may have missed events: each one is told, with
None instead of a message, and forgotten; they refill from the database.
"""

import asyncio
import logging
import time
import uuid

from channels.layers import get_channel_layer

from . import live, metrics

logger = logging.getLogger(__name__)
# Channels drops group memberships after a day (group_expiry); renewed well before.
RENEW_EVERY = 3600


class Hub:
    def __init__(self, layer):
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.listeners = {}  # bin id -> set of async callbacks
        self.lock = asyncio.Lock()  # group_add and group_discard in the order they were asked
        self.channel = None
        self.tasks = []
        self.origin = uuid.uuid4().hex  # marks what this hub delivered already
        self.local = asyncio.Queue()  # events published here, for listeners here

    async def listen(self, bin_id, callback):
        """From now on, `await callback(message)` for each event of the bin, and
        `await callback(None)` if events may have been lost. Returns once the
        process is in the bin's group, so nothing published later is missed."""
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [
                    asyncio.create_task(self.receive(self.channel)),
                    asyncio.create_task(self.tell_local()),
                    asyncio.create_task(self.renew()),
                ]
            if bin_id not in self.listeners:
                await self.layer.group_add(live.group_name(bin_id), self.channel)
                self.listeners[bin_id] = set()
            self.listeners[bin_id].add(callback)

    async def unlisten(self, bin_id, callback):
        async with self.lock:
            listeners = self.listeners.get(bin_id)
            if listeners is None or callback not in listeners:
                return
            listeners.discard(callback)
            if not listeners:
                del self.listeners[bin_id]
                await self.layer.group_discard(live.group_name(bin_id), self.channel)

    def deliver(self, message):
        """Hand an event published in this process to its listeners here, and mark
        it, so that its copy from the channel layer is skipped. Their callbacks run
        on the hub's own task, in order, not the publisher's."""
        message["origin"] = self.origin
        if message["bin"] in self.listeners:
            self.local.put_nowait(message)

    async def receive(self, channel):
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception:
                logger.exception("live events stopped; every viewer will refill")
                await self.lose_everything()
                return
            if message.get("origin") != self.origin:
                await self.tell_all(message)

    async def tell_local(self):
        while True:
            await self.tell_all(await self.local.get())

    async def tell_all(self, message):
        callbacks = list(self.listeners.get(message.get("bin"), ()))
        if callbacks and message.get("captured"):
            metrics.push_delay.observe(time.time() - message["captured"])
        for callback in callbacks:
            await tell(callback, message)

    async def renew(self):
        while True:
            await asyncio.sleep(RENEW_EVERY)
            async with self.lock:
                for bin_id in self.listeners:
                    await self.layer.group_add(live.group_name(bin_id), self.channel)

    async def lose_everything(self):
        listeners, self.listeners, self.channel = self.listeners, {}, None
        self.local = asyncio.Queue()  # for listeners that are told now
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for callbacks in listeners.values():
            for callback in callbacks:
                await tell(callback, None)

    async def close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def tell(callback, message):
    try:
        await callback(message)
    except Exception:  # one listener's failure is not the others'
        logger.exception("a live event listener failed")


_hub = None


def current_hub():
    """The hub of the running event loop, or None if it has none (then nothing in
    this loop listens)."""
    if _hub is not None and _hub.loop is asyncio.get_running_loop():
        return _hub
    return None


def get_hub():
    """The hub of the running event loop."""
    global _hub
    if _hub is None or _hub.loop is not asyncio.get_running_loop():
        _hub = Hub(get_channel_layer())
    return _hub


async def close_hub():
    global _hub
    if _hub is not None and _hub.loop is asyncio.get_running_loop():
        await _hub.close()
        _hub = None
