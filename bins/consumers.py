import time
from collections import Counter
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from inspector.origins import header

from . import access, live, metrics
from .capture import client_address, decode_headers
from .hub import get_hub
from .limits import client_key
from .queries import get_bin, off_loop, requests_after_async
from .serializers import masked_names, parse_whole_number, request_json
from .signing import judge_for

NO_ACCESS = 4403  # private bin, or access revoked: the page says so
BIN_NOT_FOUND = 4404
TOO_MANY = 4429  # this client address holds INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT already
EVENTS_LOST = 1011  # the page reconnects and catches up with ?after=
FRAME_SIZE = 100  # requests per backlog frame


# Websockets open in this process, per client address (limits.client_key).
open_sockets = Counter()


def client_of(scope):
    headers = decode_headers(scope.get("headers", []))
    address = client_address(scope.get("client"), headers, settings.INSPECTOR_TRUSTED_PROXIES)
    return client_key(address)


def bin_and_level(bin_id, caller):
    """The bin (None when gone or expired) and the caller's access to it."""
    bin = get_bin(bin_id)
    if bin is None or bin.has_expired():
        return None, access.NONE
    return bin, access.access_level(bin, caller)


def parse_after(query_string):
    """The `after` request id from a websocket query string, or None."""
    values = parse_qs(query_string.decode("latin-1")).get("after")
    return parse_whole_number(values[0]) if values else None


class BinConsumer(AsyncWebsocketConsumer):
    """Relays a bin's events, which the process's hub hands it, to one viewer,
    after the backlog it asked for."""

    async def connect(self):
        self.bin_id = None
        self.behind = False
        self.client = None
        client = client_of(self.scope)
        if open_sockets[client] >= settings.INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT:
            await self.accept()
            await self.close(code=TOO_MANY)
            return
        self.client = client
        open_sockets[client] += 1
        metrics.viewers.inc()
        bin_id = self.scope["url_route"]["kwargs"]["bin_id"]
        self.caller = await access.caller_from(
            self.scope["session"], self.scope["user"], header(self.scope, b"authorization")
        )
        bin, level = await off_loop(bin_and_level)(bin_id, self.caller)
        if bin is None or level == access.NONE:
            # Accept then close, so the page learns why instead of a bare 403.
            await self.accept()
            await self.close(code=BIN_NOT_FOUND if bin is None else NO_ACCESS)
            return
        # Listen before reading the backlog: a request committed in between then
        # arrives twice rather than never, and clients de-duplicate by id. Live
        # events wait until the backlog is sent: a viewer that saw a newer one
        # first, and was cut off before the backlog, would reconnect past it.
        after = parse_after(self.scope["query_string"])
        self.held = [] if after is not None else None
        await get_hub().listen(bin_id, self.relay)
        self.bin_id = bin_id
        await self.accept()
        if after is not None:
            await self.send_backlog(bin, after)
            held, self.held = self.held, None
            for event in held:
                await self.relay(event)

    async def send_backlog(self, bin, after):
        limit = settings.INSPECTOR_BACKLOG_LIMIT
        missed = await requests_after_async(bin.id, after, limit + 1)
        if len(missed) > limit:
            await self.send(text_data=live.encode(live.gap()))
            return
        masked, judge = masked_names(bin), judge_for(bin)
        if judge is None:
            frames = backlog_frames(missed, masked, judge)
        else:  # judging signatures is CPU work: off the event loop
            frames = await off_loop(backlog_frames)(missed, masked, judge)
        for frame in frames:
            await self.send(text_data=frame)

    async def disconnect(self, code):
        if self.client is not None:
            metrics.viewers.dec()
            open_sockets[self.client] -= 1
            if not open_sockets[self.client]:
                del open_sockets[self.client]
            self.client = None
        if self.bin_id:
            await get_hub().unlisten(self.bin_id, self.relay)

    async def relay(self, event):
        if self.held is not None:
            self.held.append(event)
            return
        if event is None:  # events may have been lost
            self.bin_id = None
            await self.close(code=EVENTS_LOST)
            return
        if event["text"] == live.ACCESS_CHANGED:
            bin, level = await off_loop(bin_and_level)(self.bin_id, self.caller)
            if bin is not None and level == access.NONE:
                await get_hub().unlisten(self.bin_id, self.relay)
                self.bin_id = None
                await self.close(code=NO_ACCESS)
                return
        if time.time() - event["at"] > live.MAX_LAG:
            if not self.behind:
                self.behind = True
                await self.send(text_data=live.encode(live.gap()))
            return
        self.behind = False
        await self.send(text_data=event["text"])


def backlog_frames(missed, masked, judge):
    """The backlog as encoded requests.created frames of at most FRAME_SIZE requests."""
    chunks = (missed[start : start + FRAME_SIZE] for start in range(0, len(missed), FRAME_SIZE))
    return [
        live.encode(live.requests_created([request_json(r, masked, judge) for r in chunk]))
        for chunk in chunks
    ]
