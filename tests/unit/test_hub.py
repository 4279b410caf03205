"""bins.hub: one group membership per bin and process, events fanned out in memory."""

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer

from bins import hub as hub_module
from bins import live
from bins.hub import Hub


class Listener:
    """An async callback that keeps what it is told."""

    def __init__(self):
        self.heard = []
        self.news = asyncio.Event()

    async def __call__(self, message):
        self.heard.append(message)
        self.news.set()

    async def next(self):
        await asyncio.wait_for(self.news.wait(), 5)
        self.news.clear()
        return self.heard[-1]


class FailingLayer(InMemoryChannelLayer):
    """The in-memory layer, whose receive fails once `broken` is set, as Redis's does
    when the server goes away."""

    broken = None

    async def receive(self, channel):
        receiving = asyncio.ensure_future(super().receive(channel))
        broken = asyncio.ensure_future(self.broken.wait())
        await asyncio.wait([receiving, broken], return_when=asyncio.FIRST_COMPLETED)
        if broken.done():
            receiving.cancel()
            raise ConnectionError("Redis went away")
        broken.cancel()
        return receiving.result()


@pytest.fixture
async def layer():
    """A fresh in-memory channel layer that can be broken."""
    layer = FailingLayer()
    layer.broken = asyncio.Event()
    return layer


@pytest.fixture
async def hub(layer):
    """A hub on `layer`, closed after the test."""
    hub = Hub(layer)
    yield hub
    await hub.close()


def event(bin_id, text="{}"):
    return {"type": live.RELAY, "bin": bin_id, "text": text, "at": 0}


def members(layer, bin_id):
    return set(layer.groups.get(live.group_name(bin_id), {}))


async def test_a_listener_gets_the_events_of_its_bin(hub, layer):
    listener = Listener()
    await hub.listen("one", listener)
    await layer.group_send(live.group_name("one"), event("one", "first"))
    assert (await listener.next())["text"] == "first"


async def test_a_listener_gets_nothing_of_other_bins(hub, layer):
    one, two = Listener(), Listener()
    await hub.listen("one", one)
    await hub.listen("two", two)
    await layer.group_send(live.group_name("two"), event("two"))
    await two.next()
    assert one.heard == []


async def test_many_listeners_of_a_bin_cost_one_group_membership(hub, layer):
    listeners = [Listener() for _ in range(100)]
    for listener in listeners:
        await hub.listen("one", listener)
    assert members(layer, "one") == {hub.channel}
    await layer.group_send(live.group_name("one"), event("one"))
    for listener in listeners:
        await listener.next()


async def test_the_membership_ends_with_the_last_listener(hub, layer):
    first, second = Listener(), Listener()
    await hub.listen("one", first)
    await hub.listen("one", second)
    await hub.unlisten("one", first)
    assert members(layer, "one") == {hub.channel}
    await hub.unlisten("one", second)
    assert members(layer, "one") == set()


async def test_a_listener_that_left_hears_nothing_more(hub, layer):
    gone, staying = Listener(), Listener()
    await hub.listen("one", gone)
    await hub.listen("one", staying)
    await hub.unlisten("one", gone)
    await layer.group_send(live.group_name("one"), event("one"))
    await staying.next()
    assert gone.heard == []


async def test_leaving_twice_or_unknown_is_quiet(hub):
    listener = Listener()
    await hub.unlisten("one", listener)
    await hub.listen("one", listener)
    await hub.unlisten("one", listener)
    await hub.unlisten("one", listener)


async def test_a_failing_listener_does_not_keep_events_from_the_others(hub, layer):
    async def failing(message):
        raise RuntimeError("this viewer's socket broke")

    listener = Listener()
    await hub.listen("one", failing)
    await hub.listen("one", listener)
    await layer.group_send(live.group_name("one"), event("one"))
    await listener.next()


async def test_when_receiving_fails_every_listener_is_told_and_forgotten(hub, layer):
    one, two = Listener(), Listener()
    await hub.listen("one", one)
    await hub.listen("two", two)
    layer.broken.set()
    assert await one.next() is None
    assert await two.next() is None
    assert hub.listeners == {}


async def test_listening_again_after_a_failure_receives_again(hub, layer):
    await hub.listen("one", Listener())
    layer.broken.set()
    await asyncio.sleep(0.1)
    layer.broken.clear()
    listener = Listener()
    await hub.listen("one", listener)
    await layer.group_send(live.group_name("one"), event("one", "again"))
    assert (await listener.next())["text"] == "again"


async def test_memberships_are_renewed_before_channels_expires_them(hub, layer, monkeypatch):
    monkeypatch.setattr(hub_module, "RENEW_EVERY", 0.05)
    await hub.listen("one", Listener())
    layer.groups[live.group_name("one")].clear()  # as if expired
    await asyncio.sleep(0.2)
    assert members(layer, "one") == {hub.channel}


async def test_an_event_published_here_reaches_a_listener_here_once(hub, layer, monkeypatch):
    monkeypatch.setattr(hub_module, "_hub", hub)
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    listener = Listener()
    await hub.listen("one", listener)
    await live.publish_encoded("one", "here")
    assert (await listener.next())["text"] == "here"
    await layer.group_send(live.group_name("one"), event("one", "elsewhere"))
    assert (await listener.next())["text"] == "elsewhere"  # the layer's copy of "here" was skipped
    assert [message["text"] for message in listener.heard] == ["here", "elsewhere"]


async def test_an_event_published_here_reaches_the_other_processes(hub, layer, monkeypatch):
    monkeypatch.setattr(hub_module, "_hub", hub)
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    other = Hub(layer)  # another process's hub on the same channel layer
    listener = Listener()
    try:
        await other.listen("one", listener)
        await live.publish_encoded("one", "from here")
        assert (await listener.next())["text"] == "from here"
    finally:
        await other.close()


async def test_an_event_published_here_with_no_listener_here_is_not_kept(hub, monkeypatch):
    monkeypatch.setattr(hub_module, "_hub", hub)
    hub.deliver(event("one"))
    assert hub.local.empty()
