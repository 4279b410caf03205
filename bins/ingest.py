"""The hot path: the ASGI capture app and the batching writer (DESIGN.md).

A captured request is built from the raw scope, queued for the writer and
answered only once the writer's transaction holding it has committed. The writer
stores whatever arrived while its last flush ran in one transaction on one
long-lived database thread, then hands one event per bin to the publisher.
"""

import asyncio
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import orjson
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from . import live
from .capture import SCOPE_EXTENSION, build_request, raw_path_of, split_capture_path
from .serializers import request_json
from .storage import store_batch

logger = logging.getLogger(__name__)
BUSY_BATCH = 8  # a batch this big means requests are queueing up


def encoded_requests(stored):
    """Per bin, its stored requests as JSON text, ids ascending. Encoded on the
    writer thread, so the event loop only joins texts into frames."""
    per_bin = defaultdict(list)
    for record in sorted(stored, key=lambda r: r.pk):
        per_bin[record.bin_id].append(live.encode(request_json(record)))
    return per_bin


def flush(records):
    """Runs on the writer thread: store, then build the events to publish."""
    try:
        stored = store_batch(records)
    except (OperationalError, InterfaceError):
        # A dropped or stale connection (database restarted): reconnect once.
        connection.close()
        stored = store_batch(records)
    return stored, encoded_requests(stored)


class Writer:
    """Group commit for captured requests; one per event loop."""

    def __init__(self, max_batch, wait=0):
        self.loop = asyncio.get_running_loop()
        self.max_batch = max_batch
        self.wait = wait
        self.last_size = 0
        self.queue = asyncio.Queue()
        self.publisher = live.Publisher()
        self.idle = asyncio.Event()
        self.idle.set()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-writer")
        self.tasks = [
            self.loop.create_task(self.write()),
            self.loop.create_task(self.publisher.run()),
        ]

    async def store(self, record):
        """Queue `record`; returns once it is committed, or None if its bin is gone."""
        done = self.loop.create_future()
        self.idle.clear()
        self.queue.put_nowait((record, done))
        return await done

    async def write(self):
        while True:
            batch = [await self.queue.get()]
            if self.wait and self.last_size >= BUSY_BATCH:
                # Busy: let more requests join this commit, whose cost is mostly fixed.
                await asyncio.sleep(self.wait)
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.last_size = len(batch)
            try:
                stored, encoded = await self.loop.run_in_executor(
                    self.executor, flush, [record for record, _ in batch]
                )
            except DatabaseError as error:
                logger.error("could not store %d captured requests: %s", len(batch), error)
                # Looked up on the writer thread: connections belong to their thread.
                self.executor.submit(lambda: connection.close())
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for record, done in batch:
                    if not done.done():
                        done.set_result(record if record.pk else None)
                for bin_id, texts in encoded.items():
                    self.publisher.add(bin_id, texts)
            if self.queue.empty():
                self.idle.set()

    async def close(self):
        """Commit what is queued, then stop the tasks and the database thread."""
        await self.drain()
        # Cancel until they end: with channels-redis and redis-py 8 a cancel that
        # lands inside group_send is swallowed and the publisher waits again.
        while pending := [task for task in self.tasks if not task.done()]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=0.5)
        await self.loop.run_in_executor(self.executor, lambda: connection.close())
        self.executor.shutdown()

    async def drain(self):
        """Wait until everything queued so far is committed (used at shutdown)."""
        while not self.idle.is_set():
            await self.idle.wait()
            await asyncio.sleep(0)


_writer = None


def get_writer():
    global _writer
    if _writer is None or _writer.loop is not asyncio.get_running_loop():
        _writer = Writer(settings.INSPECTOR_WRITER_BATCH, settings.INSPECTOR_WRITER_WAIT_MS / 1000)
    return _writer


async def drain_writer():
    if _writer is not None and _writer.loop is asyncio.get_running_loop():
        await _writer.drain()


async def read_body(receive, limit):
    """Read the whole body keeping at most `limit` bytes. Returns (body, size sent),
    or None when the client went away first."""
    chunks, kept, size = [], 0, 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if kept < limit:
            chunks.append(chunk[: limit - kept])
            kept += len(chunks[-1])
        if not message.get("more_body", False):
            return b"".join(chunks), size


def error_body(code, message, **extra):
    return {"error": {"code": code, "message": message}, **extra}


async def respond(send, scope, status, payload, headers=()):
    body = orjson.dumps(payload) + b"\n"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    # HEAD gets the headers a GET would get, Content-Length included, and no body.
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def capture_app(scope, receive, send):
    """ASGI app for /b/<bin_id>[/...]: every method, every path, no redirects."""
    limit = settings.INSPECTOR_MAX_BODY_BYTES
    received = await read_body(receive, limit)
    if received is None:
        return
    body, size = received
    # Our server cuts big bodies before they reach us and says what was sent.
    size = scope.get("extensions", {}).get(SCOPE_EXTENSION, {}).get("body_size", size)
    target = split_capture_path(raw_path_of(scope))
    not_found = error_body("bin_not_found", "There is no bin at this address.")
    if target is None:
        return await respond(send, scope, 404, not_found)
    bin_id, path = target
    record = build_request(
        scope,
        body,
        size,
        bin_id=bin_id,
        path=path,
        max_body_bytes=limit,
        trusted_proxies=settings.INSPECTOR_TRUSTED_PROXIES,
    )
    try:
        stored = await get_writer().store(record)
    except DatabaseError:
        return await respond(
            send,
            scope,
            503,
            error_body("storage_unavailable", "The request could not be stored; try again."),
            [(b"retry-after", b"5")],
        )
    if stored is None:
        return await respond(send, scope, 404, not_found)
    id_header = [(b"x-inspector-request-id", str(stored.pk).encode())]
    if stored.body_truncated:
        message = (
            f"The body of {size} bytes is over the {limit}-byte limit; "
            f"the request was stored with its first {limit} bytes."
        )
        return await respond(
            send, scope, 413, error_body("body_too_large", message, id=stored.pk), id_header
        )
    return await respond(send, scope, 200, {"ok": True, "id": stored.pk}, id_header)
