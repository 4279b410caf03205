import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import live
from .queries import get_bin_async, requests_after_async
from .serializers import parse_whole_number, request_json

BIN_NOT_FOUND = 4404
FRAME_SIZE = 100  # requests per backlog frame


def parse_after(query_string):
    """The `after` request id from a websocket query string, or None."""
    values = parse_qs(query_string.decode("latin-1")).get("after")
    return parse_whole_number(values[0]) if values else None


class BinConsumer(AsyncWebsocketConsumer):
    """Relays a bin's events to one viewer, after the backlog it asked for."""

    async def dispatch(self, message):
        # Channels' own dispatch closes stale database connections before every
        # message: a hop through the one thread for sync code, per message and per
        # viewer, which made fan-out to 100 viewers saturate a core. This consumer
        # reads the database only through off_loop(), which releases its connection.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.group = None
        self.behind = False
        bin_id = self.scope["url_route"]["kwargs"]["bin_id"]
        if await get_bin_async(bin_id) is None:
            # Accept then close, so the page learns why instead of a bare 403.
            await self.accept()
            await self.close(code=BIN_NOT_FOUND)
            return
        self.group = live.group_name(bin_id)
        # Join before reading the backlog: a request committed in between then
        # arrives twice rather than never, and clients de-duplicate by id.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        after = parse_after(self.scope["query_string"])
        if after is not None:
            await self.send_backlog(bin_id, after)

    async def send_backlog(self, bin_id, after):
        limit = settings.INSPECTOR_BACKLOG_LIMIT
        missed = await requests_after_async(bin_id, after, limit + 1)
        if len(missed) > limit:
            await self.send(text_data=live.encode(live.gap()))
            return
        for start in range(0, len(missed), FRAME_SIZE):
            frame = [request_json(r) for r in missed[start : start + FRAME_SIZE]]
            await self.send(text_data=live.encode(live.requests_created(frame)))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def relay(self, event):
        if time.time() - event["at"] > live.MAX_LAG:
            if not self.behind:
                self.behind = True
                await self.send(text_data=live.encode(live.gap()))
            return
        self.behind = False
        await self.send(text_data=event["text"])
