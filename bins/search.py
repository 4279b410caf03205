"""The search syntax of the request list, run in the database.

    method:POST path:/github header:x-github-event=push status:413 "order_id" -method:GET

Terms are ANDed; a leading `-` negates one. Bare words and "quoted phrases" are
looked for in the body, byte for byte (case-sensitive: bodies may be binary).
`header:name` matches a header by name (any case), `header:name=value` also by a
value that starts with `value` (any case). `path:` matches part of the path below the
bin, `method:` the method (any case; `method:POST,PUT` for either), `status:` the
status the sender was answered (`status:503`, `status:5xx`, `status:closed`), `time:` when
it arrived: `time:2026-11-29T14:00:00Z..2026-11-29T15:00:00Z` (either end may be left
out; the end is not included).
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import BooleanField, Case, Func, IntegerField, Q, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

FIELDS = ("method", "path", "header", "status", "time", "body")
TERM = re.compile(r'(-?)(?:(\w+):)?("(?:[^"\\]|\\.)*"|\S+)')
MAX_TERMS = 20


class QueryError(ValueError):
    """A search the syntax does not allow; its message says why."""


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    negated: bool = False


def unquote(text):
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def parse(query):
    """'method:POST "a b"' -> [Term("method", "POST"), Term("body", "a b")]."""
    terms = []
    for match in TERM.finditer(query or ""):
        negated, field, raw = match.groups()
        field = (field or "body").lower()
        if field not in FIELDS:
            raise QueryError(f"Unknown field {field}:; use {', '.join(f + ':' for f in FIELDS)}.")
        value = unquote(raw)
        if not value:
            raise QueryError(f"{field}: needs a value.")
        terms.append(Term(field, value, bool(negated)))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"At most {MAX_TERMS} terms in one search.")
    return terms


class BodyContains(Func):
    """Whether the body holds these bytes: instr() on SQLite, position() on PostgreSQL."""

    output_field = BooleanField()

    def __init__(self, needle):
        super().__init__(Value(needle))

    def as_sqlite(self, compiler, connection):
        needle, params = compiler.compile(self.source_expressions[0])
        return f"instr(body, {needle}) > 0", params

    def as_postgresql(self, compiler, connection):
        needle, params = compiler.compile(self.source_expressions[0])
        return f"position({needle}::bytea in body) > 0", params


def moment(text):
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"time: {text!r} is not an ISO 8601 time.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def json_text(value):
    """A string as it appears inside the headers column's JSON text (PostgreSQL
    prints jsonb with its characters as they are; Django wrote SQLite's escaped)."""
    return json.dumps(value, ensure_ascii=connection.vendor != "postgresql")[1:-1]


STATUS = re.compile(r"([1-5])(xx|[0-9]{2})")
# The status each request was answered, never NULL (so that `-status:` negates
# cleanly): the bin's chosen answer's, 0 when it closed the connection, and for
# Inspector's own answer (no response stored) 413 for a body over the limit, else 200.
ANSWERED = Case(
    When(response__isnull=True, body_truncated=True, then=Value(413)),
    When(response__isnull=True, then=Value(200)),
    When(response__close=True, then=Value(0)),
    default=Cast(KeyTextTransform("status", "response"), IntegerField()),
    output_field=IntegerField(),
)


def answered(value):
    """Requests answered `value`: a status (503), a class (5xx), or `closed`."""
    if value == "closed":
        return Q(answered=0)
    match = STATUS.fullmatch(value)
    if match is None:
        raise QueryError("status: is a status (503), a class (5xx) or closed.")
    if match.group(2) == "xx":
        low = int(match.group(1)) * 100
        return Q(answered__gte=low, answered__lt=low + 100)
    return Q(answered=int(value))


def condition(term):
    """The Q for one term, before negation."""
    value = term.value
    if term.field == "method":
        return Q(method__in=[method.upper() for method in value.split(",") if method])
    if term.field == "path":
        return Q(path__icontains=value)
    if term.field == "status":
        return answered(value.lower())
    if term.field == "time":
        start, dots, end = value.partition("..")
        if not dots:
            raise QueryError(
                "time: is a range, as in time:2026-11-29T14:00:00Z..2026-11-29T15:00Z."
            )
        where = Q()
        if start:
            where &= Q(received_at__gte=moment(start))
        if end:
            where &= Q(received_at__lt=moment(end))
        return where
    if term.field == "header":
        name, has_value, wanted = value.partition("=")
        if not name:
            raise QueryError("header: needs a name, as in header:x-github-event=push.")
        # Headers are stored as [["Name", "value"], ...]; their JSON text is searched.
        pair = f'"{json_text(name)}", "' + (json_text(wanted) if has_value else "")
        return Q(headers_text__icontains=pair)
    return BodyContains(value.encode("utf-8"))


def apply(rows, terms):
    """`rows` (CapturedRequests of one bin) narrowed to those that match every term."""
    if any(term.field == "header" for term in terms):
        rows = rows.annotate(headers_text=Cast("headers", TextField()))
    if any(term.field == "status" for term in terms):
        rows = rows.annotate(answered=ANSWERED)
    for term in terms:
        where = condition(term)
        rows = rows.exclude(where) if term.negated else rows.filter(where)
    return rows
