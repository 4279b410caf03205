"""The one place that knows group names and event shapes of the live push.

Events are pre-serialized once per publish and relayed as they are by every
consumer, so a flush costs one JSON encoding however many viewers watch.
"""

import asyncio
import json
import logging
import time
from collections import defaultdict

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

RELAY = "relay"  # the consumer method that forwards a pre-serialized event
FRAME_INTERVAL = 0.02  # at most 50 requests.created frames a second per bin
OUTBOX_LIMIT = 10_000  # requests waiting for the channel layer before we drop
stats = {"published": 0, "failed": 0}


def group_name(bin_id):
    return f"bin.{bin_id}"


def requests_created(requests):
    return {"type": "requests.created", "requests": requests}


def requests_created_frame(encoded_requests):
    """requests_created() for requests encoded already, encoded."""
    return '{"type":"requests.created","requests":[' + ",".join(encoded_requests) + "]}"


def request_deleted(request_id):
    return {"type": "request.deleted", "id": request_id}


def bin_cleared():
    return {"type": "bin.cleared"}


def bin_deleted():
    return {"type": "bin.deleted"}


def gap():
    return {"type": "gap"}


def encode(event):
    return json.dumps(event, separators=(",", ":"))


async def publish(bin_id, event):
    """Send one event to every viewer of a bin. Never raises: the database is the
    truth and viewers refill from it, so a lost event must not fail the caller."""
    await publish_encoded(bin_id, encode(event))


async def publish_encoded(bin_id, text):
    """publish() for an event encoded already."""
    try:
        await get_channel_layer().group_send(group_name(bin_id), {"type": RELAY, "text": text})
    except Exception:
        stats["failed"] += 1
        logger.exception("could not publish to bin %s", bin_id)
    else:
        stats["published"] += 1


class Publisher:
    """Sends each bin's new requests as `requests.created` frames, at most one per
    FRAME_INTERVAL per bin: in a burst, what arrives meanwhile joins the next frame,
    so a bin with many viewers costs a fan-out per frame, not per request."""

    def __init__(self):
        self.outbox = defaultdict(list)  # bin id -> encoded requests not sent yet
        self.waiting = 0
        self.ready = asyncio.Event()
        self.sent_at = {}  # bin id -> when its last frame went, within FRAME_INTERVAL

    def add(self, bin_id, encoded_requests):
        if self.waiting + len(encoded_requests) > OUTBOX_LIMIT:
            stats["failed"] += 1
            logger.warning("publish backlog full; viewers of bin %s will refill", bin_id)
            return
        self.outbox[bin_id].extend(encoded_requests)
        self.waiting += len(encoded_requests)
        self.ready.set()

    async def run(self):
        while True:
            await self.ready.wait()
            now = time.monotonic()
            self.sent_at = {b: t for b, t in self.sent_at.items() if now - t < FRAME_INTERVAL}
            for bin_id in [b for b in self.outbox if b not in self.sent_at]:
                encoded = self.outbox.pop(bin_id)
                self.waiting -= len(encoded)
                self.sent_at[bin_id] = time.monotonic()
                await publish_encoded(bin_id, requests_created_frame(encoded))
            if self.outbox:
                wake = min(self.sent_at.get(b, 0) for b in self.outbox) + FRAME_INTERVAL
                await asyncio.sleep(max(0, wake - time.monotonic()))
            else:
                self.ready.clear()
