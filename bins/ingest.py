"""The hot path: the ASGI capture app and the batching writer (DESIGN.md).

A captured request is built from the raw scope, queued for the writer and
answered only once the writer's transaction holding it has committed. The writer
stores whatever arrived while its last flush ran in one transaction, in the
writer process (bins.writer), then hands one event per bin to the publisher.
"""

import asyncio
import logging
from collections import Counter
from functools import partial

import orjson
from django.conf import settings
from django.db import DatabaseError

from . import forwarder, live, metrics, responses
from .capture import SCOPE_EXTENSION, build_request, raw_path_of, split_capture_path
from .limits import retry_after
from .queries import get_bin_async
from .writer import WriterProcess

logger = logging.getLogger(__name__)
IN_FLIGHT = 2  # batches handed to the writer process and not answered yet


class Writer:
    """Group commit for captured requests; one per event loop, with its own
    writer process."""

    def __init__(self, max_batch):
        self.loop = asyncio.get_running_loop()
        self.max_batch = max_batch
        self.queue = asyncio.Queue()
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.in_flight = 0
        self.process = WriterProcess()
        self.publisher = live.Publisher()
        self.idle = asyncio.Event()
        self.idle.set()
        self.tasks = [
            self.loop.create_task(self.write()),
            self.loop.create_task(self.publisher.run()),
        ]

    async def store(self, record):
        """Queue `record`; returns it once it is committed (with its id) or refused by
        the rate limits (with `refused_for`), or None if its bin is gone."""
        done = self.loop.create_future()
        self.idle.clear()
        self.queue.put_nowait((record, done))
        return await done

    async def write(self):
        await self.process.start()
        while True:
            # With a slot first, so that the batch takes all that arrived meanwhile.
            await self.slots.acquire()
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.in_flight += 1
            reply = await self.process.send([record for record, _ in batch])
            reply.add_done_callback(partial(self.stored, batch))

    def stored(self, batch, reply):
        """Answer a batch's senders, and publish it; replies come in commit order."""
        self.slots.release()
        self.in_flight -= 1
        error = reply.exception()
        if error is not None:
            logger.error("could not store %d captured requests: %s", len(batch), error)
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
        else:
            outcomes, encoded, answers, forwarded = reply.result()
            if forwarded is not None:  # deliveries were made (bins.forwarding)
                forwarder.wake()
                for (record, _), proxy in zip(batch, forwarded, strict=True):
                    record.proxy = proxy
            refused = Counter()
            for (record, done), outcome, answer in zip(batch, outcomes, answers, strict=True):
                record.response, record.cors = answer
                if isinstance(outcome, float):  # refused by the rate limits
                    record.refused_for = outcome
                    refused[record.bin_id] += 1
                else:
                    record.id = outcome
                if not done.done():
                    done.set_result(None if outcome is None else record)
            for bin_id, count in refused.items():
                self.publisher.refuse(bin_id, count)
            captured = min(record.received_at.timestamp() for record, _ in batch)
            for bin_id, texts in encoded.items():
                self.publisher.add(bin_id, texts, captured)
        if self.queue.empty() and not self.in_flight:
            self.idle.set()

    async def close(self):
        """Commit what is queued, then stop the tasks and the writer process."""
        await self.drain()
        # Cancel until they end: with channels-redis and redis-py 8 a cancel that
        # lands inside group_send is swallowed and the publisher waits again.
        while pending := [task for task in self.tasks if not task.done()]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=0.5)
        await self.process.close()

    async def drain(self):
        """Wait until everything queued so far is committed (used at shutdown)."""
        while not self.idle.is_set():
            await self.idle.wait()
            await asyncio.sleep(0)


_writer = None


def get_writer():
    global _writer
    if _writer is None or _writer.loop is not asyncio.get_running_loop():
        _writer = Writer(settings.INSPECTOR_WRITER_BATCH)
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
    """Our own JSON answer (the default one, and every error)."""
    body = orjson.dumps(payload) + b"\n"
    json_headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send_answer(send, scope, status, [*json_headers, *headers], body)


# Every answer is served from Inspector's own site, and a bin's answer is anyone's to
# write: no browser may run it there, or guess it is a page.
SAFE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", b"sandbox")]


async def send_answer(send, scope, status, headers, body, length=True):
    """Send an answer; its Content-Length is ours unless not `length` (a proxied HEAD's
    answer carries the target's)."""
    headers = [*headers, *SAFE_HEADERS]
    # HTTP gives 204 and 304 no Content-Length.
    if length and status not in responses.NO_BODY:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    # HEAD gets the headers a GET would get, Content-Length included, and no body.
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def disconnected(receive, seconds):
    """Wait `seconds`, or less if the sender goes away first: True if it did. An
    await, which holds no thread and no database connection meanwhile."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


async def answer_as_the_bin_says(send, receive, scope, record, extra):
    """The answer the bin chose (bins.rules), after its delay; or, from a failure
    script, no answer: the connection closes."""
    response = record.response
    if response["delay_ms"] and await disconnected(receive, response["delay_ms"] / 1000):
        return
    if response.get("close"):
        # Our server (inspector.server) closes the connection; under any other
        # server the app ends without an answer, which it answers 500.
        return await send({"type": responses.CLOSE})
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response["headers"]
    ]
    body = response["body"].encode("utf-8")
    await send_answer(send, scope, response["status"], [*headers, *extra], body)


REFUSED = {
    reason: metrics.refused.labels(reason)
    for reason in (
        "bin_not_found",
        "bin_expired",
        "rate_limited",
        "body_too_large",
        "storage_unavailable",
    )
}


async def capture_app(scope, receive, send):
    """ASGI app for /b/<bin_id>[/...]: every method, every path, no redirects."""
    limit = settings.INSPECTOR_MAX_BODY_BYTES
    received = await read_body(receive, limit)
    if received is None:
        return
    body, size = received
    # Our server cuts big bodies before they reach us and says what was sent.
    size = scope.get("extensions", {}).get(SCOPE_EXTENSION, {}).get("body_size", size)
    metrics.bytes_received.inc(size)
    target = split_capture_path(raw_path_of(scope))
    not_found = error_body("bin_not_found", "There is no bin at this address.")
    if target is None:
        REFUSED["bin_not_found"].inc()
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
        REFUSED["storage_unavailable"].inc()
        return await respond(
            send,
            scope,
            503,
            error_body("storage_unavailable", "The request could not be stored; try again."),
            [(b"retry-after", b"5")],
        )
    if stored is None:
        bin = await get_bin_async(bin_id)
        if bin is not None and bin.has_expired():
            REFUSED["bin_expired"].inc()
            expired = error_body("bin_expired", "This bin has expired; create a new one.")
            return await respond(send, scope, 410, expired)
        REFUSED["bin_not_found"].inc()
        return await respond(send, scope, 404, not_found)
    cors = responses.CORS_HEADERS if stored.cors else []
    if stored.refused_for:
        REFUSED["rate_limited"].inc()
        wait = retry_after(stored.refused_for)
        message = f"Too many requests for this bin or from this address; retry in {wait} s."
        return await respond(
            send,
            scope,
            429,
            error_body("rate_limited", message),
            [(b"retry-after", str(wait).encode()), *cors],
        )
    id_header = [(b"x-inspector-request-id", str(stored.pk).encode()), *cors]
    if stored.body_truncated:
        REFUSED["body_too_large"].inc()
        message = (
            f"The body of {size} bytes is over the {limit}-byte limit; "
            f"the request was stored with its first {limit} bytes."
        )
        if not record.body:  # refused by its Content-Length before it was read
            message = (
                f"The body, {size} bytes by its Content-Length, is over the {limit}-byte "
                "limit: it was not read, and the request was stored with its headers."
            )
        return await respond(
            send, scope, 413, error_body("body_too_large", message, id=stored.pk), id_header
        )
    metrics.captured.inc()
    if stored.proxy:  # a transparent proxy: the target's answer
        status, headers, body = await forwarder.answer_as_proxy(stored, id_header[:1])
        if headers is None:
            return await respond(send, scope, status, body, id_header[:1])
        return await send_answer(send, scope, status, headers, body, scope["method"] != "HEAD")
    if stored.cors and responses.preflight(scope):
        preflight = [*responses.preflight_headers(scope), id_header[0]]
        return await send_answer(send, scope, 204, preflight, b"")
    if stored.response:
        return await answer_as_the_bin_says(send, receive, scope, stored, id_header)
    return await respond(send, scope, 200, {"ok": True, "id": stored.pk}, id_header)
