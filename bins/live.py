"""The one place that knows group names and event shapes of the live push.

Events are pre-serialized once per publish and relayed as they are by every
consumer, so a flush costs one JSON encoding however many viewers watch.
"""

import asyncio
import logging
import time
from collections import Counter, defaultdict

import orjson
from channels.layers import get_channel_layer

from . import hub, metrics

logger = logging.getLogger(__name__)

RELAY = "relay"  # the consumer method that forwards a pre-serialized event
# requests.created frames per bin: at most FRAME_RATE a second on average, with
# bursts of FRAME_BURST (a token bucket), so a steady trickle goes out at once.
FRAME_RATE = 50
FRAME_BURST = 5
OUTBOX_LIMIT = 10_000  # requests waiting for the channel layer before we drop
REFUSALS_EVERY = 1.0  # seconds between two requests.refused events of a bin
# A viewer whose events wait longer than this is told to refill from the API
# instead, before its channel fills up and the channel layer drops silently.
MAX_LAG = 10


def group_name(bin_id):
    return f"bin.{bin_id}"


def requests_created(requests):
    return {"type": "requests.created", "requests": requests}


def requests_created_frame(encoded_requests):
    """requests_created() for requests encoded already, encoded."""
    return '{"type":"requests.created","requests":[' + ",".join(encoded_requests) + "]}"


def requests_refused(count):
    return {"type": "requests.refused", "count": count}


def request_deleted(request_id):
    return {"type": "request.deleted", "id": request_id}


def bin_cleared():
    return {"type": "bin.cleared"}


def bin_deleted():
    return {"type": "bin.deleted"}


def bin_updated(bin):
    return {"type": "bin.updated", "bin": bin}


def signature_changed():
    """The bin's signature setting changed: its requests' verdicts may have too."""
    return {"type": "signature.changed"}


def access_changed():
    """Who may read the bin changed: each viewer's access is checked again."""
    return {"type": "access.changed"}


ACCESS_CHANGED = '{"type":"access.changed"}'


def delivery_updated(delivery):
    """A delivery to a forward target was tried (bins.forwarding.delivery_json)."""
    return {"type": "delivery.updated", "delivery": delivery}


def replay_created(replay):
    """A request was replayed (bins.replays.replay_json, without bodies)."""
    return {"type": "replay.created", "replay": replay}


def gap():
    return {"type": "gap"}


def encode(event):
    # orjson: ten times faster than json here, and it runs once per capture.
    return orjson.dumps(event).decode()


async def publish(bin_id, event):
    """Send one event to every viewer of a bin. Never raises: the database is the
    truth and viewers refill from it, so a lost event must not fail the caller."""
    await publish_encoded(bin_id, encode(event))


async def publish_encoded(bin_id, text, captured=None):
    """publish() for an event encoded already; `captured`, the time its oldest
    request was captured, lets each process measure the push delay."""
    message = {"type": RELAY, "bin": bin_id, "text": text, "at": time.time()}
    if captured is not None:
        message["captured"] = captured
    if (here := hub.current_hub()) is not None:
        here.deliver(message)
    try:
        await get_channel_layer().group_send(group_name(bin_id), message)
    except Exception:
        metrics.events_failed.inc()
        logger.exception("could not publish to bin %s", bin_id)
    else:
        metrics.events_published.inc()


class Publisher:
    """Sends each bin's new requests as `requests.created` frames, at most
    FRAME_RATE a second per bin: in a burst, what arrives meanwhile joins the next
    frame, so a bin with many viewers costs a fan-out per frame, not per request."""

    def __init__(self):
        self.outbox = defaultdict(list)  # bin id -> encoded requests not sent yet
        self.captured = {}  # bin id -> when the oldest request in its outbox was captured
        self.waiting = 0
        self.ready = asyncio.Event()
        self.buckets = {}  # bin id -> (tokens, when), for bins whose bucket is not full
        self.refusals = Counter()  # bin id -> requests refused since the last event
        self.refusals_sent = 0.0

    def add(self, bin_id, encoded_requests, captured=None):
        if self.waiting + len(encoded_requests) > OUTBOX_LIMIT:
            metrics.events_failed.inc()
            logger.warning("publish backlog full; viewers of bin %s will refill", bin_id)
            return
        self.outbox[bin_id].extend(encoded_requests)
        if captured is not None:
            self.captured.setdefault(bin_id, captured)
        self.waiting += len(encoded_requests)
        self.ready.set()

    def refuse(self, bin_id, count):
        """Requests the rate limits refused: told at most every REFUSALS_EVERY
        seconds per bin, however hard a flood is."""
        self.refusals[bin_id] += count
        self.ready.set()

    def tokens(self, bin_id, now):
        tokens, when = self.buckets.get(bin_id, (FRAME_BURST, now))
        return min(FRAME_BURST, tokens + (now - when) * FRAME_RATE)

    async def run(self):
        while True:
            await self.ready.wait()
            now = time.monotonic()
            tokens = {bin_id: self.tokens(bin_id, now) for bin_id in self.outbox}
            sending = []
            for bin_id in [b for b in self.outbox if tokens[b] >= 1]:
                self.buckets[bin_id] = (tokens[bin_id] - 1, now)
                encoded = self.outbox.pop(bin_id)
                self.waiting -= len(encoded)
                captured = self.captured.pop(bin_id, None)
                sending.append(publish_encoded(bin_id, requests_created_frame(encoded), captured))
            # Bins at once: a group_send on Redis is four round trips (1-5 ms here), and
            # one bin's must not wait for another's. A bin's next frame waits for this one.
            await asyncio.gather(*sending)
            self.buckets = {
                b: v for b, v in self.buckets.items() if self.tokens(b, now) < FRAME_BURST
            }
            if self.refusals and now - self.refusals_sent >= REFUSALS_EVERY:
                refusals, self.refusals, self.refusals_sent = self.refusals, Counter(), now
                for bin_id, count in refusals.items():
                    await publish(bin_id, requests_refused(count))
            pauses = []
            if self.outbox:
                lacking = 1 - max(self.tokens(b, time.monotonic()) for b in self.outbox)
                pauses.append(lacking / FRAME_RATE)
            if self.refusals:
                pauses.append(self.refusals_sent + REFUSALS_EVERY - time.monotonic())
            if pauses:
                await asyncio.sleep(max(0, min(pauses)))
            else:
                self.ready.clear()
