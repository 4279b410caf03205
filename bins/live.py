"""The one place that knows group names and event shapes of the live push.

Events are pre-serialized once per publish and relayed as they are by every
consumer, so a flush costs one JSON encoding however many viewers watch.
"""

import json
import logging

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

RELAY = "relay"  # the consumer method that forwards a pre-serialized event
stats = {"published": 0, "failed": 0}


def group_name(bin_id):
    return f"bin.{bin_id}"


def requests_created(requests):
    return {"type": "requests.created", "requests": requests}


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
