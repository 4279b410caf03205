"""Forwarding's queue in the database: deliveries, their leases and their attempts (issue 7).

A bin's forward targets each get a Delivery of every request the bin captures,
inserted by the writer in the transaction that stores the requests (insert_deliveries),
so that a capture never waits for forwarding and a restart loses nothing. Each
server process runs a worker (bins.forwarder) that claims due deliveries with a
lease (claim_due), sends them (bins.outbound) and records each attempt (record):

    pending --2xx--> delivered
    pending --anything else--> pending again after a backoff, or failed after
                               INSPECTOR_FORWARD_ATTEMPTS attempts

A lease is a random token and a time: no process claims a leased delivery before
its time, and only the token's holder records, so two processes never send one
delivery twice (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time).
A process that stops lets what it sends finish and records it (bins.forwarder); one
that dies leaves its leases to expire, and the delivery is sent again then.
"""

import ipaddress
import re
import secrets
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Func, JSONField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Length, Substr
from django.utils import timezone

from . import outbound
from .models import Attempt, CapturedRequest, Delivery, ForwardTarget
from .serializers import iso, parse_whole_number

LEASE_MARGIN = 30  # seconds a lease outlives the longest send
PREVIEW_CHARS = 2048  # of an answer's body, in lists and events
MAX_TARGETS = 10  # per bin
MAX_URL = 2000
# On every request Inspector sends on (forwarding, proxy, replay): how many times it has
# been sent on already. A capture at MAX_HOPS is stored but sent on no further, so a
# target that leads back (a bin's own URL, two bins forwarding to each other) ends.
HOPS_HEADER = "Inspector-Forwarded"
MAX_HOPS = 3


class Forwarding(NamedTuple):
    """A bin's forwarding, as the writer's counting UPDATE returns it (bins.storage)."""

    count: int  # enabled targets
    proxy_on: bool
    proxy_timeout_ms: int

    @property
    def proxy(self):
        """Whether the bin answers senders with its first target's answer."""
        return bool(self.proxy_on) and self.count > 0


class BadForwarding(ValueError):
    """A target or a replay that cannot be sent; the message says why."""


# A "." or ".." path segment, also percent-encoded: the client (and many servers) would
# resolve it, and the request would reach a path above the target's own.
DOT_SEGMENT = re.compile(r"(?:^|/)(?:\.|%2e){1,2}(?=/|$)", re.IGNORECASE)


def target_url(base, path, query):
    """The URL a request goes to: the target, then its path below the bin, then the
    target's query and the request's (as inspector-relay does). BadForwarding for a
    path with a dot segment, which would climb above the target's path."""
    if DOT_SEGMENT.search(path):
        raise BadForwarding(
            f"not sent: the path {path[:200]} holds a . or .. segment, which would reach "
            "above the target's path"
        )
    parts = urlsplit(base)
    path = path if path.startswith("/") or not path else "/" + path
    queries = "&".join(part for part in (parts.query, query) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, queries, ""))


def hops(headers):
    """How many times Inspector sent this request on before (its HOPS_HEADER), 0 if
    never; the largest when it is repeated."""
    most = 0
    for name, value in headers:
        if name.lower() == HOPS_HEADER.lower():
            key, _, number = value.partition("=")
            if key.strip().lower() == "hops":
                most = max(most, parse_whole_number(number.strip()) or 0)
    return most


def onward_headers(headers, sent_on):
    """`headers` to send on a request that had been sent on `sent_on` times: any
    HOPS_HEADER given is replaced by ours, one more."""
    kept = [pair for pair in headers if pair[0].lower() != HOPS_HEADER.lower()]
    return [*kept, [HOPS_HEADER, f"hops={sent_on + 1}"]]


def refuse_own_capture_url(url, bases):
    """BadForwarding when `url` is a capture URL of this Inspector (under one of
    `bases`, e.g. PUBLIC_URL and the API call's own origin): forwarding a bin to
    a bin here loops."""
    parts = urlsplit(url)
    for base in bases:
        own = urlsplit(base)
        if (parts.scheme, parts.hostname, _port(parts)) == (
            own.scheme,
            own.hostname,
            _port(own),
        ) and (parts.path == "/b" or parts.path.startswith("/b/")):
            raise BadForwarding(
                "url is a capture URL of this Inspector: its requests would come back here "
                "to be forwarded again. Forward to the service itself."
            )


def _port(parts):
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def clean_url(value, field="url"):
    """An absolute http(s) URL to send to. A host given as an address that the SSRF
    guard refuses is refused here already; names are checked when sent, on the
    address they then resolve to (bins.outbound)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise BadForwarding(
            f"{field} must be an http or https URL of at most {MAX_URL} characters."
        )
    value = value.strip()
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise BadForwarding(f"{field} may not hold spaces or control characters.")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError when it is not a number)
    except ValueError:
        raise BadForwarding(f"{field} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise BadForwarding(f"{field} must start with http:// or https:// and name a host.")
    if parts.username is not None or parts.password is not None:
        raise BadForwarding(f"{field} may not hold a user name or password; send a header.")
    if parts.fragment:
        raise BadForwarding(f"{field} may not hold a #fragment.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return value
    if reason := outbound.check_address(address, settings.INSPECTOR_OUTBOUND_ALLOW):
        raise BadForwarding(
            f"{field} is refused: {reason} (INSPECTOR_OUTBOUND_ALLOW opens chosen networks)."
        )
    return value


def clean_proxy_timeout(value):
    """Milliseconds a proxy waits for its target: 100 to INSPECTOR_OUTBOUND_TIMEOUT."""
    most = settings.INSPECTOR_OUTBOUND_TIMEOUT * 1000
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= most:
        raise BadForwarding(f"proxy_timeout_ms must be a whole number from 100 to {most}.")
    return value


def backoff(attempts, base=None, most=None):
    """Seconds to wait after `attempts` failed attempts: base, 2 base, 4 base, ..."""
    base = settings.INSPECTOR_FORWARD_BACKOFF if base is None else base
    most = settings.INSPECTOR_FORWARD_BACKOFF_MAX if most is None else most
    return min(most, base * 2 ** min(max(attempts - 1, 0), 60))


def succeeded(result):
    """A delivery is done when the target answered 2xx. Redirects are not followed
    (bins.outbound): a 3xx is not delivered."""
    status = result.get("status")
    return not result.get("error") and status is not None and 200 <= status < 300


def outcome(result):
    """How an attempt went, for metrics: delivered, rejected (an answer, not 2xx),
    refused (the SSRF guard) or error (no answer)."""
    if succeeded(result):
        return "delivered"
    error = result.get("error") or ""
    if error.startswith("refused"):
        return "refused"
    if result.get("status") is not None and not error:
        return "rejected"
    return "error"


def lease_seconds(timeout=None):
    return (settings.INSPECTOR_OUTBOUND_TIMEOUT if timeout is None else timeout) + LEASE_MARGIN


# --- the writer: deliveries in the capture's transaction -----------------------


def insert_deliveries(stored, taken_by, now):
    """One Delivery per request and enabled target of bins that have targets, in one
    statement, in the writer's transaction; none for a request sent on MAX_HOPS times
    already (HOPS_HEADER). For a bin that answers as a proxy, the
    delivery to its first enabled target is leased to the capture that answers
    the sender (bins.forwarder.answer_as_proxy). Sets each record's `forwarded`
    (whether it has deliveries) and `proxy`: None, or (delivery id, lease token,
    timeout in ms). Returns how many deliveries were created."""
    for record in stored:
        record.proxy, record.forwarded = None, False
    forwarded = [
        record
        for record in stored
        if taken_by[record.bin_id].forwarding.count and hops(record.headers) < MAX_HOPS
    ]
    if not forwarded:
        return 0
    proxied_bins = sorted({r.bin_id for r in forwarded if taken_by[r.bin_id].forwarding.proxy})
    deliveries, targets = Delivery._meta.db_table, ForwardTarget._meta.db_table
    requests = CapturedRequest._meta.db_table
    if proxied_bins:
        proxied = (
            # A body over the limit is answered 413 by capture: delivered in the background.
            f"(NOT r.body_truncated AND t.bin_id IN ({', '.join(['%s'] * len(proxied_bins))}) "
            "AND t.id = "
            f"(SELECT f.id FROM {targets} f WHERE f.bin_id = t.bin_id AND f.enabled "
            "ORDER BY f.position, f.id LIMIT 1))"
        )
    else:
        proxied = "(1 = 0)"
    ops = connection.ops
    token = secrets.token_hex(16)
    longest = max((taken_by[b].forwarding.proxy_timeout_ms for b in proxied_bins), default=0)
    until = now + timedelta(seconds=lease_seconds(longest / 1000))
    sql = (
        f"INSERT INTO {deliveries} (request_id, target_id, state, attempts, next_attempt_at, "
        "leased_until, lease, proxied, created_at) "
        f"SELECT id, target_id, '{Delivery.PENDING}', 0, %s, "
        "CASE WHEN proxied THEN %s END, CASE WHEN proxied THEN %s ELSE '' END, proxied, %s "
        f"FROM (SELECT r.id AS id, t.id AS target_id, {proxied} AS proxied "
        f"FROM {requests} r JOIN {targets} t ON t.bin_id = r.bin_id "
        f"WHERE t.enabled AND r.id IN ({', '.join(['%s'] * len(forwarded))})) AS s "
        "RETURNING id, request_id, proxied"
    )
    at = ops.adapt_datetimefield_value(now)
    params = [at, ops.adapt_datetimefield_value(until), token, at, *proxied_bins]
    params += [record.id for record in forwarded]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_id = {record.id: record for record in forwarded}
    for delivery_id, request_id, is_proxied in rows:
        record = by_id[request_id]
        record.forwarded = True
        if is_proxied:
            timeout = taken_by[record.bin_id].forwarding.proxy_timeout_ms
            record.proxy = (delivery_id, token, timeout)
    return len(rows)


# --- the workers: claim, record ---------------------------------------------------


def claim_due(limit, now=None):
    """Lease up to `limit` due deliveries to this caller; returns them with their
    request and target loaded, each with its `lease` token."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    with transaction.atomic():
        due = (
            Delivery.objects.filter(
                Q(leased_until__isnull=True) | Q(leased_until__lte=now),
                state=Delivery.PENDING,
                next_attempt_at__lte=now,
                target__enabled=True,
            )
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
        )
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        until = now + timedelta(seconds=lease_seconds())
        Delivery.objects.filter(id__in=ids).update(lease=token, leased_until=until)
    return list(Delivery.objects.filter(id__in=ids).select_related("request", "target"))


def claim_now(delivery_id, request_id):
    """Lease one delivery of a request for a manual attempt ("retry now"), whatever
    its schedule; None when it is being sent already, or delivered."""
    now = timezone.now()
    token = secrets.token_hex(16)
    claimed = (
        Delivery.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lte=now),
            pk=delivery_id,
            request_id=request_id,
        )
        .exclude(state=Delivery.DELIVERED)
        .update(lease=token, leased_until=now + timedelta(seconds=lease_seconds()))
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("request", "target").get(pk=delivery_id)


def pause_deliveries(target_id, paused):
    """Park a disabled target's waiting deliveries (state paused), or put them back:
    the workers' claim reads only pending ones, by the due index, and would otherwise
    read past them on every poll in every process."""
    before, after = (
        (Delivery.PENDING, Delivery.PAUSED) if paused else (Delivery.PAUSED, Delivery.PENDING)
    )
    Delivery.objects.filter(target_id=target_id, state=before).update(state=after)


def load_for_proxy(delivery_id):
    """The proxied delivery with its target, or None if it went meanwhile."""
    return Delivery.objects.select_related("target").filter(pk=delivery_id).first()


def record(delivery_id, lease, result, trigger, now=None, give_up=False, answered=None):
    """Record an attempt of a delivery leased under `lease`, and move it on (to
    failed, if it failed and `give_up`: it can never be sent); `answered`, (request
    id, response), stores what a proxy answered on its request in the same
    transaction. Returns (the delivery, its request's bin id), or None when the lease
    was lost (the delivery or its target was deleted, or the lease ran out and
    another took it)."""
    now = now or timezone.now()
    with transaction.atomic():
        if answered is not None:
            request_id, response = answered
            CapturedRequest.objects.filter(pk=request_id).update(response=response)
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("target")
            .annotate(bin_id=F("request__bin_id"))
            .filter(pk=delivery_id, lease=lease)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        if succeeded(result):
            delivery.state = Delivery.DELIVERED
        elif (
            give_up
            or trigger == Attempt.PROXY
            or delivery.state == Delivery.FAILED
            or delivery.attempts >= settings.INSPECTOR_FORWARD_ATTEMPTS
        ):
            # The proxy's sender got the answer and retries on its own.
            delivery.state = Delivery.FAILED
        else:
            # Paused if its target was disabled while it was being sent.
            delivery.state = Delivery.PENDING if delivery.target.enabled else Delivery.PAUSED
            delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts))
        delivery.lease, delivery.leased_until = "", None
        attempt = Attempt.objects.create(delivery=delivery, at=now, trigger=trigger, result=result)
        delivery.save(
            update_fields=["attempts", "state", "next_attempt_at", "lease", "leased_until"]
        )
    delivery.last_attempt = attempt
    return delivery, delivery.bin_id


def deliveries_of(request_id):
    """A request's deliveries, each with its attempts (`tried`), oldest first."""
    rows = list(
        Delivery.objects.filter(request_id=request_id).select_related("target").order_by("id")
    )
    attempts = {}
    for attempt in summarised(Attempt.objects.filter(delivery__in=rows)).order_by("id"):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    for row in rows:
        row.tried = attempts.get(row.id, [])
    return rows


class WithoutBody(Func):
    """A stored Result (to_json()) without its body, in SQL."""

    template = "json_remove(%(expressions)s, '$.body')"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - 'body')", **extra)


def summarised(rows):
    """Attempts or replays with their `result` read without its body (an answer may
    be a MiB, and lists show 2,048 characters of it): `result` is deferred, and
    answer() puts together what answer_summary() needs."""
    body = KT("result__body")
    return rows.defer("result").annotate(
        result_head=WithoutBody("result"),
        body_start=Substr(body, 1, PREVIEW_CHARS + 1),
        body_chars=Length(body),
    )


def answer(row):
    """The result of an attempt or a replay, whole, or as summarised() read it."""
    if not hasattr(row, "result_head"):
        return row.result
    head = row.result_head
    # Results stored before they carried body_size: near enough, from the length.
    chars = row.body_chars or 0
    size = chars * 3 // 4 if head.get("body_base64") else chars
    return {"body_size": size, **head, "body": row.body_start or ""}


# --- JSON ------------------------------------------------------------------------


def body_size(result):
    if "body_size" in result:
        return result["body_size"]
    body = result.get("body") or ""
    if result.get("body_base64"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8"))


def answer_summary(result):
    """An outbound Result (to_json(), or answer()) without its whole body: lists and
    events stay small; the start of a text body is in `body_preview`."""
    text = None if result.get("body_base64") else (result.get("body") or "")
    return {
        "status": result.get("status"),
        "headers": result.get("headers") or [],
        "body_preview": text[:PREVIEW_CHARS] if text is not None else None,
        "body_preview_truncated": text is not None and len(text) > PREVIEW_CHARS,
        "body_size": body_size(result),
        "body_truncated": bool(result.get("body_truncated")),
        "duration_ms": result.get("duration_ms"),
        "error": result.get("error"),
    }


def attempt_json(attempt):
    result = answer(attempt)
    return {
        "id": attempt.pk,
        "at": iso(attempt.at),
        "trigger": attempt.trigger,
        "outcome": outcome(result),
        **answer_summary(result),
    }


def shown_url(url):
    """A target's URL for those who are not the bin's owner: its origin only, as a path
    or query may hold a secret (a Slack webhook's does)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if url.rstrip("/") == origin else origin + "/…"


def delivery_json(delivery, attempts=None, last=None, owner=False):
    """A Delivery; with all its `attempts`, or only the `last` one (events). The target's
    whole URL only for the `owner` (shown_url)."""
    url = delivery.target.url if owner else shown_url(delivery.target.url)
    data = {
        "id": delivery.pk,
        "request": delivery.request_id,
        "target": {"id": delivery.target_id, "url": url},
        "state": delivery.state,
        "attempt_count": delivery.attempts,
        "max_attempts": settings.INSPECTOR_FORWARD_ATTEMPTS,
        "next_attempt_at": iso(delivery.next_attempt_at)
        if delivery.state == Delivery.PENDING
        else None,
        "proxied": delivery.proxied,
        "created_at": iso(delivery.created_at) if delivery.created_at else None,
    }
    if attempts is not None:
        data["attempts"] = [attempt_json(attempt) for attempt in attempts]
    else:
        data["last_attempt"] = attempt_json(last) if last is not None else None
    return data


def target_json(target):
    return {
        "id": target.pk,
        "url": target.url,
        "position": target.position,
        "enabled": target.enabled,
        "created_at": iso(target.created_at),
    }
