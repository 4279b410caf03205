"""The writer's SQL: one batch of captured requests in one transaction.

Hand-written rather than `bulk_create`: Django's per-field compilation cost
~60 us per request, held the GIL on the writer thread and so slowed the event
loop that answers senders (docs/performance.md). SQLite takes a multi-row INSERT,
its values adapted as the fields would (sqlite_values());
PostgreSQL its own path, store_postgresql(), with values psycopg adapts itself.
"""

import json
from collections import Counter, defaultdict
from datetime import timedelta

import orjson
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from . import forwarding, rules, signing
from .models import Bin, CapturedRequest
from .serializers import names_to_mask

COLUMNS = (
    "bin_id",
    "method",
    "scheme",
    "host",
    "path",
    "query_string",
    "headers",
    "body",
    "body_size",
    "body_truncated",
    "content_type",
    "remote_addr",
    "received_at",
    "response",
)
JSON_INDEXES = (COLUMNS.index("headers"), COLUMNS.index("response"))
RECEIVED_AT = COLUMNS.index("received_at")
POSTGRESQL_TYPES = {
    "bin_id": "text",
    "method": "text",
    "scheme": "text",
    "host": "text",
    "path": "text",
    "query_string": "text",
    "headers": "jsonb",
    "body": "bytea",
    "body_size": "bigint",
    "body_truncated": "boolean",
    "content_type": "text",
    "remote_addr": "text",
    "received_at": "timestamptz",
    "response": "jsonb",
}
# What a bin's counter update returns: all the writer needs to know of it.
RETURNING = (
    "RETURNING id, answered_count, mask_headers, mask_extra, response, rules, failures, "
    "failures_since, cors, signature_provider, signature_secret, signature_options"
    ", forward_count, proxy, proxy_timeout_ms"
)


def sqlite_values(record):
    """A row for SQLite, adapted as Django's fields adapt it (JSON as text, datetimes
    naive in the connection's zone) without their per-field machinery: 4 against 12 us
    a request in the writer."""
    values = [getattr(record, column) for column in COLUMNS]
    for index in JSON_INDEXES:
        if values[index] is not None:
            values[index] = json.dumps(values[index])
    values[RECEIVED_AT] = str(timezone.make_naive(values[RECEIVED_AT], connection.timezone))
    return values


def postgresql_values(record):
    """sqlite_values() for PostgreSQL, whose driver adapts each value itself, JSON with
    orjson: Django's preparation per field cost 13 us a request, a twentieth of the
    writer's time."""
    values = [getattr(record, column) for column in COLUMNS]
    for index in JSON_INDEXES:
        if values[index] is not None:
            values[index] = Jsonb(values[index], orjson.dumps)
    return values


def loaded(json_text):
    """A JSON column's value, as both backends hand it over raw here: text (Django has
    psycopg leave jsonb undecoded for its JSONField), or None."""
    return json.loads(json_text) if json_text is not None else None


class TakenBy:
    """A bin that took (part of) a batch, as its counter update returned it."""

    __slots__ = ("masked", "behaviour", "cors", "count_before", "forwarding", "judge")

    def __init__(self, row, answerable):
        _, count, mask_headers, mask_extra, response, rules_, failures, since, cors = row[:9]
        provider, secret, options = row[9:12]
        self.masked = names_to_mask(mask_headers, mask_extra) | signing.secret_headers(provider)
        self.behaviour = rules.Behaviour(
            loaded(response), tuple(loaded(rules_) or ()), loaded(failures), since
        )
        self.cors = bool(cors)
        # The bin's answered_count before this batch (see answerable_counts()).
        self.count_before = count - answerable[1 if self.cors else 0]
        # Forwarding's columns come last in RETURNING (bins.forwarding).
        self.forwarding = forwarding.Forwarding(*row[-3:])
        if self.forwarding.proxy:  # a proxy answers with its target's answer, not its own
            self.behaviour = rules.DEFAULT
        # None for most bins; a secret is decrypted once per process (bins.signing).
        self.judge = None
        if provider:
            self.judge = signing.judge_from_columns(provider, secret, loaded(options))


def count_on_bins(cursor, per_bin, refused, answerable, now):
    """Add each bin's new requests to its counter; returns the bins that exist and
    have not expired, each a TakenBy. The update locks each bin row (in sorted order,
    so processes cannot deadlock), which also keeps a concurrent delete from orphaning
    the batch's rows, and makes retention exact under concurrent writers."""
    ops = connection.ops
    expires_at = now + timedelta(seconds=settings.INSPECTOR_BIN_TTL)
    sql = (
        f"UPDATE {Bin._meta.db_table} SET request_count = request_count + %s, "
        "kept_count = kept_count + %s, refused_count = refused_count + %s, "
        "answered_count = answered_count + CASE WHEN cors THEN %s ELSE %s END, "
        "last_activity_at = %s, expires_at = CASE WHEN keep THEN expires_at ELSE %s END "
        f"WHERE id = %s AND expires_at > %s {RETURNING}"
    )
    existing = {}
    for bin_id in sorted(per_bin | refused):
        params = [
            per_bin[bin_id] + refused[bin_id],
            per_bin[bin_id],
            refused[bin_id],
            answerable[bin_id][1],
            answerable[bin_id][0],
            ops.adapt_datetimefield_value(now),
            ops.adapt_datetimefield_value(expires_at),
            bin_id,
            ops.adapt_datetimefield_value(now),
        ]
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            existing[bin_id] = TakenBy(row, answerable[bin_id])
    return existing


def answerable_counts(records):
    """Per bin, how many of `records` its own answer goes to (bins.rules.answerable):
    (if it answers no CORS, if it does). The writer adds them to the bin's
    answered_count, which numbers requests for failure scripts."""
    counts = {}
    for record in records:
        plain, cors = counts.get(record.bin_id, (0, 0))
        counts[record.bin_id] = (
            plain + rules.answerable(record, False),
            cors + rules.answerable(record, True),
        )
    return defaultdict(lambda: (0, 0), counts)


def choose_answers(records, existing):
    """Set each stored record's `response`: the answer its bin chooses for it (bins.rules),
    numbering the requests it answers in batch order."""
    seen = Counter()
    for record in records:
        taken = existing[record.bin_id]
        record.response = None
        if taken.behaviour.is_default or not rules.answerable(record, taken.cors):
            continue
        count_before = taken.count_before + seen[record.bin_id]
        seen[record.bin_id] += 1
        record.response = rules.choose(taken.behaviour, record, count_before)


def drop_oldest(cursor, bin_ids, keep):
    """Retention: delete each bin's requests older than its `keep` newest, and
    count them as dropped on the bin. The bin's exact `kept_count` says how many
    go; they are the first ones above `dropped_through`, the last one dropped, so
    the index is read for those alone (reading down from the newest `keep` took
    a heap fetch for each of them on PostgreSQL, every batch)."""
    table, bins_table = CapturedRequest._meta.db_table, Bin._meta.db_table
    for bin_id in sorted(bin_ids):
        cursor.execute(
            f"SELECT kept_count, dropped_through FROM {bins_table} WHERE id = %s", [bin_id]
        )
        kept, dropped_through = cursor.fetchone()
        if kept <= keep:
            continue
        cursor.execute(
            f"SELECT id FROM {table} WHERE bin_id = %s AND id > %s ORDER BY id LIMIT 1 OFFSET %s",
            [bin_id, dropped_through, kept - keep - 1],
        )
        row = cursor.fetchone()
        if row is None:  # fewer rows than kept_count says: nothing to be sure of
            continue
        cutoff = row[0]
        cursor.execute(
            f"DELETE FROM {table} WHERE bin_id = %s AND id > %s AND id <= %s",
            [bin_id, dropped_through, cutoff],
        )
        cursor.execute(
            f"UPDATE {bins_table} SET kept_count = kept_count - %s, "
            "dropped_count = dropped_count + %s, dropped_through = %s WHERE id = %s",
            [cursor.rowcount, cursor.rowcount, cutoff, bin_id],
        )


def insert_rows(cursor, rows):
    """INSERT ... VALUES (...), (...) RETURNING id, as bulk_create does."""
    row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    cursor.execute(
        f"INSERT INTO {CapturedRequest._meta.db_table} ({', '.join(COLUMNS)}) "
        f"VALUES {', '.join([row] * len(rows))} RETURNING id",
        [value for values in rows for value in values],
    )
    return [pk for (pk,) in cursor.fetchall()]


# The PostgreSQL statements are prepared on the server (psycopg's prepare=True), so
# that each batch binds and runs them without parsing and planning them again: that
# was half of PostgreSQL's CPU for a batch. Django turns automatic preparing off
# (prepare_threshold None, which also ignores prepare=True); a threshold no query
# reaches turns it back on for these statements alone.
PREPARE_EXPLICITLY_ONLY = 1 << 30
# Bins whose last batch answered by default, as far as this process knows (bounded).
ANSWERING_BY_DEFAULT = set()
MAX_REMEMBERED = 10_000


class Mispredicted(Exception):
    """A batch stored on the guess that its bins answer by default, and one did not (its
    rules changed since), or a bin was created meanwhile: roll back, store it again."""


def postgresql_statements():
    bins_table, table = Bin._meta.db_table, CapturedRequest._meta.db_table
    update = (
        f"UPDATE {bins_table} SET request_count = request_count + %b, "
        "kept_count = kept_count + %b, refused_count = refused_count + %b, "
        "answered_count = answered_count + CASE WHEN cors THEN %b ELSE %b END, "
        "last_activity_at = %b, expires_at = CASE WHEN keep THEN expires_at ELSE %b END "
        f"WHERE id = %b AND expires_at > %b {RETURNING}"
    )
    arrays = ", ".join(f"%b::{POSTGRESQL_TYPES[column]}[]" for column in COLUMNS)
    # Only rows of bins that the updates found (they hold those rows' locks now).
    # ORDER BY the input's order: the ids come back in it, one per row inserted.
    names = ", ".join(COLUMNS)
    insert = (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM unnest({arrays}) "
        f"WITH ORDINALITY AS r({names}, n) WHERE EXISTS (SELECT 1 FROM {bins_table} b "
        "WHERE b.id = r.bin_id AND b.expires_at > %b) ORDER BY r.n RETURNING id"
    )
    # Retention: whatever is older than the bin's `keep` newest requests goes, and
    # is counted as dropped (see drop_oldest()).
    drop = (
        f"WITH bin AS (SELECT kept_count - %(keep)b AS over, dropped_through "
        f"FROM {bins_table} WHERE id = %(bin)b AND kept_count > %(keep)b), "
        f"cutoff AS (SELECT id FROM {table} WHERE bin_id = %(bin)b "
        "AND id > (SELECT dropped_through FROM bin) ORDER BY id LIMIT 1 "
        "OFFSET (SELECT over - 1 FROM bin)), "
        f"gone AS (DELETE FROM {table} WHERE bin_id = %(bin)b "
        "AND id > (SELECT dropped_through FROM bin) AND id <= (SELECT id FROM cutoff) "
        f"RETURNING 1) UPDATE {bins_table} SET dropped_through = (SELECT id FROM cutoff), "
        "kept_count = kept_count - (SELECT count(*) FROM gone), "
        "dropped_count = dropped_count + (SELECT count(*) FROM gone) "
        "WHERE id = %(bin)b AND EXISTS (SELECT 1 FROM cutoff)"
    )
    return update, insert, drop


def store_postgresql(records, per_bin, refused, answerable, now, choose=True, guess=True):
    """PostgreSQL: the counter updates, the insert and the retention deletes in one
    round trip (psycopg's pipeline mode), then the commit. The insert takes one
    array per column through unnest(), so its text is the same for every batch,
    bound on the server in binary.

    What each bin answers is stored with each request, and only the counter update
    says it. When every bin of the batch answered by default last time (the usual
    case) the insert goes with the updates, on that guess (`guess`); a wrong guess
    raises Mispredicted. Otherwise the insert waits for the updates' answer: one
    round trip more. Sets the ids of the stored records; returns the bins that took
    the batch, as count_on_bins() does."""
    update, insert, drop = postgresql_statements()
    expires_at = now + timedelta(seconds=settings.INSPECTOR_BIN_TTL)
    keep = settings.INSPECTOR_MAX_REQUESTS_PER_BIN
    guessed = guess and (not choose or all(b in ANSWERING_BY_DEFAULT for b in per_bin))
    raw = connection.connection
    raw.prepare_threshold = PREPARE_EXPLICITLY_ONLY

    def send_insert(stored):
        columns = zip(*map(postgresql_values, stored), strict=True)
        cursor = psycopg.Cursor(raw)
        cursor.execute(insert, [*map(list, columns), now], prepare=True)
        for bin_id in sorted({record.bin_id for record in stored}):
            psycopg.Cursor(raw).execute(drop, {"bin": bin_id, "keep": keep}, prepare=True)
        return cursor

    with connection.wrap_database_errors:
        with raw.pipeline():
            updates = []
            for bin_id in sorted(per_bin | refused):  # sorted: processes lock bins in one order
                cursor = psycopg.Cursor(raw)
                kept, turned_away = per_bin[bin_id], refused[bin_id]
                with_cors, without = answerable[bin_id][1], answerable[bin_id][0]
                params = [kept + turned_away, kept, turned_away, with_cors, without]
                params += [now, expires_at, bin_id, now]
                cursor.execute(update, params, prepare=True)
                updates.append(cursor)
            if guessed and records:
                if choose:
                    for record in records:
                        record.response = None
                inserted = send_insert(records)
        existing = {
            row[0]: TakenBy(row, answerable[row[0]])
            for cursor in updates
            for row in cursor.fetchall()
        }
        remember_defaults(existing)
        stored = [record for record in records if record.bin_id in existing]
        if guessed and records:
            ids = inserted.fetchall()
            wrong = choose and any(not existing[r.bin_id].behaviour.is_default for r in stored)
            if wrong or len(ids) != len(stored):
                raise Mispredicted
        elif stored:
            if choose:
                choose_answers(stored, existing)
            with raw.pipeline():
                inserted = send_insert(stored)
            ids = inserted.fetchall()
        for record, (pk,) in zip(stored, ids if stored else (), strict=True):
            record.id = pk
    return existing


def remember_defaults(existing):
    if len(ANSWERING_BY_DEFAULT) > MAX_REMEMBERED:
        ANSWERING_BY_DEFAULT.clear()
    for bin_id, taken in existing.items():
        if taken.behaviour.is_default:
            ANSWERING_BY_DEFAULT.add(bin_id)
        else:
            ANSWERING_BY_DEFAULT.discard(bin_id)


def store_in_transaction(accepted, per_bin, refused, answerable, now, choose, forward, guess=True):
    """store_batch()'s transaction; returns the bins that took the batch."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            existing = store_postgresql(accepted, per_bin, refused, answerable, now, choose, guess)
        else:
            with connection.cursor() as cursor:
                existing = count_on_bins(cursor, per_bin, refused, answerable, now)
                stored = [record for record in accepted if record.bin_id in existing]
                if stored:
                    if choose:
                        choose_answers(stored, existing)
                    ids = insert_rows(cursor, [sqlite_values(record) for record in stored])
                    for record, pk in zip(stored, ids, strict=True):
                        record.id = pk
                    keep = settings.INSPECTOR_MAX_REQUESTS_PER_BIN
                    drop_oldest(cursor, {record.bin_id for record in stored}, keep)
        if forward:  # each stored request's deliveries, and `proxy` (bins.forwarding)
            stored = [record for record in accepted if record.id and record.bin_id in existing]
            forwarding.insert_deliveries(stored, existing, now)
    return existing


def store_batch(records, choose=True, forward=True):
    """Store `records` in one transaction and count them on their bins, keeping at
    most INSPECTOR_MAX_REQUESTS_PER_BIN per bin; those the rate limits refused
    (`refused_for`) are only counted. Returns the records their bins took: the
    stored ones, each now with its id, and the refused ones. A record whose bin
    does not exist (any more) or has expired is left out, unsaved. Each record
    taken gets `masked`: the header names its bin hides (serializers.request_json),
    `response`: the answer its bin chose for it (bins.rules, stored with it), and
    `cors`: whether its bin answers CORS (bins.responses), and `judge`: its bin's
    signature Judge (bins.signing), or None. Imported requests
    (`choose` false) keep the `response` they came with."""
    accepted = [record for record in records if not record.refused_for]
    per_bin = Counter(record.bin_id for record in accepted)
    refused = Counter(record.bin_id for record in records if record.refused_for)
    answerable = answerable_counts(accepted if choose else [])
    now = timezone.now()
    try:
        existing = store_in_transaction(
            accepted, per_bin, refused, answerable, now, choose, forward
        )
    except Mispredicted:
        existing = store_in_transaction(
            accepted, per_bin, refused, answerable, now, choose, forward, guess=False
        )
    taken = [record for record in records if record.bin_id in existing]
    for record in taken:
        record.masked, record.cors = existing[record.bin_id].masked, existing[record.bin_id].cors
        record.judge = existing[record.bin_id].judge
    return taken
