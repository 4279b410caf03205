"""bins.live.Publisher: frames per bin, coalesced under a burst."""

import asyncio
import copy
import json
import time

import pytest
from channels.layers import get_channel_layer

from bins import live, metrics


@pytest.fixture
async def layer(settings):
    """A fresh in-memory channel layer."""
    settings.CHANNEL_LAYERS = copy.deepcopy(settings.CHANNEL_LAYERS)
    return get_channel_layer()


@pytest.fixture
async def publisher():
    """A running Publisher, stopped after the test."""
    publisher = live.Publisher()
    task = asyncio.create_task(publisher.run())
    yield publisher
    task.cancel()


async def frames(layer, channel, count):
    received = []
    for _ in range(count):
        message = await asyncio.wait_for(layer.receive(channel), 2)
        received.append(json.loads(message["text"]))
    return received


def encoded(*ids):
    return [json.dumps({"id": i}) for i in ids]


async def test_it_sends_the_first_requests_at_once(layer, publisher):
    channel = await layer.new_channel()
    await layer.group_add(live.group_name("a"), channel)
    publisher.add("a", encoded(1, 2))
    [frame] = await frames(layer, channel, 1)
    assert frame == {"type": "requests.created", "requests": [{"id": 1}, {"id": 2}]}


async def test_it_joins_what_arrives_while_it_sends_into_the_next_frame(layer, publisher):
    channel = await layer.new_channel()
    await layer.group_add(live.group_name("a"), channel)
    publisher.add("a", encoded(1))
    await asyncio.sleep(0)
    for i in range(2, 6):
        publisher.add("a", encoded(i))
    first, second = await frames(layer, channel, 2)
    assert [r["id"] for r in first["requests"]] == [1]
    assert [r["id"] for r in second["requests"]] == [2, 3, 4, 5]


async def test_it_caps_the_frame_rate_of_a_bin_under_a_burst(layer, publisher):
    channel = await layer.new_channel()
    await layer.group_add(live.group_name("a"), channel)
    started = time.monotonic()
    for i in range(60):
        publisher.add("a", encoded(i))
        await asyncio.sleep(0.001)
    received, sent_frames = [], 0
    while len(received) < 60:
        [frame] = await frames(layer, channel, 1)
        received += [r["id"] for r in frame["requests"]]
        sent_frames += 1
    elapsed = time.monotonic() - started
    assert received == list(range(60))
    assert sent_frames <= live.FRAME_BURST + elapsed * live.FRAME_RATE + 1


async def test_it_does_not_hold_one_bin_back_for_another(layer, publisher):
    one, two = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(live.group_name("a"), one)
    await layer.group_add(live.group_name("b"), two)
    publisher.add("a", encoded(1))
    publisher.add("b", encoded(2))
    assert (await frames(layer, one, 1))[0]["requests"] == [{"id": 1}]
    assert (await frames(layer, two, 1))[0]["requests"] == [{"id": 2}]


async def test_a_slow_send_to_one_bin_does_not_delay_another(layer, publisher, monkeypatch):
    sent, real_publish = [], live.publish_encoded

    async def slow_for_a(bin_id, text, captured=None):
        if bin_id == "a":
            await asyncio.sleep(30)  # never, in this test
        sent.append(bin_id)
        await real_publish(bin_id, text, captured)

    monkeypatch.setattr(live, "publish_encoded", slow_for_a)
    channel = await layer.new_channel()
    await layer.group_add(live.group_name("b"), channel)
    publisher.add("a", encoded(1))
    publisher.add("b", encoded(2))
    assert (await frames(layer, channel, 1))[0]["requests"] == [{"id": 2}]
    assert sent == ["b"]


async def test_it_drops_and_counts_beyond_its_backlog(settings):
    publisher = live.Publisher()  # not running: nothing leaves the outbox
    failed = metrics.registry.get_sample_value("inspector_events_failed_total")
    publisher.add("a", encoded(*range(live.OUTBOX_LIMIT)))
    publisher.add("a", encoded(0))
    assert publisher.waiting == live.OUTBOX_LIMIT
    assert metrics.registry.get_sample_value("inspector_events_failed_total") == failed + 1


async def test_it_tells_refusals_at_once_then_at_most_every_second_per_bin(layer, publisher):
    channel = await layer.new_channel()
    await layer.group_add(live.group_name("a"), channel)
    publisher.refuse("a", 2)
    assert await frames(layer, channel, 1) == [{"type": "requests.refused", "count": 2}]
    started = time.monotonic()
    for _ in range(20):  # a flood meanwhile: one event for all of it
        publisher.refuse("a", 10)
        await asyncio.sleep(0.01)
    assert await frames(layer, channel, 1) == [{"type": "requests.refused", "count": 200}]
    assert time.monotonic() - started >= live.REFUSALS_EVERY - 0.05
