"""Forwarding's sending side: a worker per server process, and the proxy's answer.

The worker claims due deliveries (bins.forwarding.claim_due: leased, so that
several processes never send one twice), sends each (bins.outbound, with the SSRF
guard, a timeout and a cap on the answer), records the attempt and tells the bin's
viewers (`delivery.updated`). The capture of a request that made deliveries wakes
its own process's worker at once; the others look every INSPECTOR_FORWARD_POLL
seconds, which is also how retries come due. On stop, the worker claims nothing
more and waits for what it is sending, so that a restart never sends it again.
"""

import asyncio
import base64
import contextlib
import json
import logging

from django.conf import settings
from django.db import DatabaseError

from . import forwarding, live, metrics, outbound, responses
from .models import Attempt, CapturedRequest
from .queries import off_loop
from .serializers import as_text

logger = logging.getLogger(__name__)
RECORD_TRIES = 3  # a failed write of an attempt is tried again before the lease decides
# Not passed back to the proxy's sender: they describe one connection, and the
# server writes its own Content-Length.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}

claim_due = off_loop(forwarding.claim_due)
claim_now = off_loop(forwarding.claim_now)
load_for_proxy = off_loop(forwarding.load_for_proxy)
record = off_loop(forwarding.record)


@off_loop
def keep_answer(request_id, response):
    CapturedRequest.objects.filter(pk=request_id).update(response=response)


# Sends that went on after their caller was cancelled; stop() waits for them.
_unfinished = set()


async def shielded(coroutine):
    """Run `coroutine` to its end even if the caller is cancelled (a client gone, the
    server stopping): a cancel between a send and its record would lose the attempt,
    and the delivery would be sent again when its lease ends. Every send is bounded
    by the outbound timeout, so this ends too."""
    task = asyncio.ensure_future(coroutine)
    _unfinished.add(task)
    task.add_done_callback(_unfinished.discard)
    return await asyncio.shield(task)


async def send_delivery(delivery, trigger, request=None, timeout=None):
    """Send a leased delivery of `request` (its own request by default), record the
    attempt and tell the bin's viewers; shielded from cancels. Returns (the outbound
    Result, (delivery, attempt) or None when the lease was lost meanwhile)."""
    return await shielded(_send_delivery(delivery, trigger, request, timeout))


async def _send_delivery(delivery, trigger, request, timeout):
    request = request or delivery.request
    result, give_up = await _send(delivery, request, timeout)
    return result, await finish(delivery.pk, delivery.lease, result.to_json(), trigger, give_up)


async def _send(delivery, request, timeout):
    """Send `request` to the delivery's target: (the Result, whether it can never be
    sent, so that the delivery gives up at once)."""
    try:
        url = forwarding.target_url(delivery.target.url, request.path, request.query_string)
    except forwarding.BadForwarding as problem:
        return outbound.Result(error=str(problem)), True
    headers = forwarding.onward_headers(request.headers, forwarding.hops(request.headers))
    result = await outbound.send(request.method, url, headers, bytes(request.body), timeout=timeout)
    return result, False


async def finish(delivery_id, lease, result, trigger, give_up=False, answered=None):
    metrics.forward_attempts.labels(forwarding.outcome(result)).inc()
    for tries in range(1, RECORD_TRIES + 1):
        try:
            recorded = await record(
                delivery_id, lease, result, trigger, give_up=give_up, answered=answered
            )
            break
        except DatabaseError:
            if tries == RECORD_TRIES:
                # Left leased: it is sent again when the lease ends.
                logger.exception("could not record an attempt of delivery %s", delivery_id)
                return None
            await asyncio.sleep(tries)
    if recorded is None:
        return None
    delivery, bin_id = recorded
    event = live.delivery_updated(forwarding.delivery_json(delivery, last=delivery.last_attempt))
    await live.publish(bin_id, event)
    return delivery, delivery.last_attempt


class Forwarder:
    """This process's worker; see the module."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.wakeup = asyncio.Event()
        self.sending = set()
        self.stopping = False
        self.task = self.loop.create_task(self.run())

    def wake(self):
        self.wakeup.set()

    async def run(self):
        while not self.stopping:
            self.wakeup.clear()
            free = settings.INSPECTOR_FORWARD_CONCURRENCY - len(self.sending)
            claimed = []
            if free > 0:
                try:
                    claimed = await claim_due(free)
                except Exception:
                    logger.exception("could not claim deliveries to forward")
            for delivery in claimed:
                task = self.loop.create_task(self.deliver(delivery))
                self.sending.add(task)
                task.add_done_callback(self.sent)
            if claimed and len(claimed) == free:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), settings.INSPECTOR_FORWARD_POLL)

    async def deliver(self, delivery):
        try:
            await send_delivery(delivery, Attempt.AUTO)
        except Exception:
            logger.exception("could not forward delivery %s", delivery.pk)

    def sent(self, task):
        self.sending.discard(task)
        self.wakeup.set()

    async def close(self):
        """Claim nothing more; let what is being sent finish and be recorded. Not a
        cancel: one landing in a claim would leave what it claimed leased, unsent."""
        self.stopping = True
        self.wakeup.set()
        await self.task
        if self.sending:
            await asyncio.wait(self.sending, timeout=settings.INSPECTOR_OUTBOUND_TIMEOUT + 5)


_forwarder = None


def start():
    global _forwarder
    if _forwarder is None or _forwarder.loop is not asyncio.get_running_loop():
        _forwarder = Forwarder()
    return _forwarder


def wake():
    """Deliveries were just made: this process's worker, if it runs, looks now."""
    if _forwarder is not None:
        _forwarder.wake()


async def stop():
    global _forwarder
    if _forwarder is not None and _forwarder.loop is asyncio.get_running_loop():
        await _forwarder.close()
        _forwarder = None
    if mine := [task for task in _unfinished if task.get_loop() is asyncio.get_running_loop()]:
        await asyncio.wait(mine, timeout=settings.INSPECTOR_OUTBOUND_TIMEOUT + 5)


# --- the proxy ---------------------------------------------------------------------


async def answer_as_proxy(record, id_header):
    """Send a captured request to its bin's first target, within the bin's timeout,
    record the attempt and the answer on the request (what its detail, search and
    exports show), and return the answer for the sender: (status, headers, body),
    the target's own, or a 502 of ours (headers None, body a JSON payload) when it
    gave none. Shielded from cancels, as every send is."""
    return await shielded(_answer_as_proxy(record, id_header))


async def _answer_as_proxy(record, id_header):
    delivery_id, lease, timeout_ms = record.proxy
    delivery = await load_for_proxy(delivery_id)
    if delivery is None:
        answer = bad_gateway(record, "the forward target was removed")
        await keep_answer(record.pk, stored_answer(*answer))
        return answer
    result, give_up = await _send(delivery, record, timeout_ms / 1000)
    answer = proxy_answer(record, result)
    answered = (record.pk, stored_answer(*answer))
    await finish(delivery_id, lease, result.to_json(), Attempt.PROXY, give_up, answered)
    status, headers, body = answer
    return status, None if headers is None else [*headers, *id_header], body


def proxy_answer(record, result):
    """What the sender of `record` gets for the target's `result` (see answer_as_proxy)."""
    if result.error or result.status is None or result.status < 200:
        return bad_gateway(record, result.error or f"the target answered {result.status}")
    if result.body_truncated:
        cap = settings.INSPECTOR_OUTBOUND_MAX_RESPONSE
        return bad_gateway(record, f"the target's answer is over {cap} bytes")
    # A HEAD's answer has no body, and its length is that of the GET: the target's.
    headers = passed_back(result.headers, keep_length=record.method == "HEAD")
    return result.status, headers, result.body


def stored_answer(status, headers, body):
    """A proxy's answer as the request's `response` (bins.rules keeps a bin's own
    there): {"proxy": true, status, headers, body (text, or base64 with body_base64),
    delay_ms, and error for our 502}."""
    if headers is None:  # ours (ingest.respond)
        text = json.dumps(body) + "\n"
        headers = [["content-type", "application/json"], ["cache-control", "no-store"]]
        extra = {"error": body["error"]["message"]}
    else:
        text = as_text(body)
        headers = [[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]
        extra = {} if text is not None else {"body_base64": True}
        if text is None:
            text = base64.b64encode(body).decode("ascii")
    return {
        "proxy": True,
        "status": status,
        "headers": headers,
        "body": text,
        "delay_ms": 0,
        **extra,
    }


def passed_back(headers, keep_length=False):
    """The target's headers that go back to the sender, as bytes: hop-by-hop ones, those
    its Connection header names, and cookies stay behind. Cookies, as in a bin's own
    answer (bins.responses): they would be set on Inspector's own site. (Every answer
    also gets nosniff and a sandbox CSP: ingest.send_answer.) Content-Length too, as
    the server writes its own, unless `keep_length` (a HEAD's answer)."""
    dropped = HOP_BY_HOP - {"content-length"} if keep_length else HOP_BY_HOP
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name.lower() not in dropped | responses.COOKIES and name.lower() not in named
    ]


def bad_gateway(record, problem):
    message = f"The forward target gave no answer to pass on: {problem}."
    body = {"error": {"code": "proxy_failed", "message": message}, "id": record.pk}
    return 502, None, body
