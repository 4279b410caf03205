"""The writer's SQL: one batch of captured requests in one transaction.

Hand-written rather than `bulk_create`: Django's per-field compilation cost
~60 us per request, held the GIL on the writer thread and so slowed the event
loop that answers senders (docs/performance.md). Values still pass through the
fields' own `get_db_prep_save` where the backend needs it (JSON, datetimes).
"""

from collections import Counter
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Bin, CapturedRequest

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
)
PREPARED = ("headers", "received_at")  # columns whose fields adapt values per backend
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
}


def row_values(record, fields):
    values = []
    for column in COLUMNS:
        value = getattr(record, column)
        if column in PREPARED:
            value = fields[column].get_db_prep_save(value, connection)
        values.append(value)
    return values


def count_on_bins(cursor, per_bin, now):
    """Add each bin's new requests to its counter; returns the bins that exist.
    The update locks each bin row (in sorted order, so processes cannot deadlock),
    which also keeps a concurrent delete from orphaning the batch's rows."""
    ops = connection.ops
    expires_at = now + timedelta(seconds=settings.INSPECTOR_BIN_TTL)
    sql = (
        f"UPDATE {Bin._meta.db_table} SET request_count = request_count + %s, "
        "last_activity_at = %s, expires_at = %s WHERE id = %s"
    )
    existing = set()
    for bin_id in sorted(per_bin):
        params = [
            per_bin[bin_id],
            ops.adapt_datetimefield_value(now),
            ops.adapt_datetimefield_value(expires_at),
            bin_id,
        ]
        cursor.execute(sql, params)
        if cursor.rowcount:
            existing.add(bin_id)
    return existing


def insert_rows(cursor, rows):
    """INSERT ... VALUES (...), (...) RETURNING id, as bulk_create does."""
    row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    cursor.execute(
        f"INSERT INTO {CapturedRequest._meta.db_table} ({', '.join(COLUMNS)}) "
        f"VALUES {', '.join([row] * len(rows))} RETURNING id",
        [value for values in rows for value in values],
    )
    return [pk for (pk,) in cursor.fetchall()]


def insert_rows_postgresql(rows):
    """PostgreSQL: one array per column through unnest(), so the statement's text is
    the same for every batch, and psycopg's own cursor binds the values on the
    server, in binary. Django's cursor quoted every value into the text in Python,
    and psycopg parsed a new statement of hundreds of placeholders per batch."""
    arrays = ", ".join(f"%b::{POSTGRESQL_TYPES[column]}[]" for column in COLUMNS)
    sql = (
        f"INSERT INTO {CapturedRequest._meta.db_table} ({', '.join(COLUMNS)}) "
        f"SELECT * FROM unnest({arrays}) RETURNING id"
    )
    # Django's connections make client-side cursors; this one binds on the server.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return [pk for (pk,) in cursor.fetchall()]


def insert_requests(cursor, records):
    """Insert `records` and set each one's pk."""
    fields = {field.attname: field for field in CapturedRequest._meta.concrete_fields}
    rows = [row_values(record, fields) for record in records]
    if connection.vendor == "postgresql":
        ids = insert_rows_postgresql(rows)
    else:
        ids = insert_rows(cursor, rows)
    for record, pk in zip(records, ids, strict=True):
        record.id = pk


def store_batch(records):
    """Store `records` in one transaction and count them on their bins. Returns the
    stored ones; a record whose bin does not exist (any more) is left unsaved."""
    per_bin = Counter(record.bin_id for record in records)
    with transaction.atomic(), connection.cursor() as cursor:
        existing = count_on_bins(cursor, per_bin, timezone.now())
        stored = [record for record in records if record.bin_id in existing]
        if stored:
            insert_requests(cursor, stored)
    return stored
