"""bins.search: the query syntax, and its filters run in the database (SQLite here,
PostgreSQL in the second pass of `make test`)."""

import pytest

from bins.capture import build_request
from bins.models import Bin, CapturedRequest
from bins.queries import requests_after, requests_before
from bins.search import QueryError, Term, parse
from bins.storage import store_batch

# parse


def test_it_reads_fields_phrases_and_negations():
    assert parse('method:POST -path:/ping "order id" header:X-Event=push plain') == [
        Term("method", "POST"),
        Term("path", "/ping", negated=True),
        Term("body", "order id"),
        Term("header", "X-Event=push"),
        Term("body", "plain"),
    ]


def test_a_quoted_value_may_hold_quotes_and_colons():
    assert parse(r'header:"x-note=a \"b\": c"') == [Term("header", 'x-note=a "b": c')]


def test_an_empty_query_has_no_terms():
    assert parse("") == [] and parse("   ") == [] and parse(None) == []


@pytest.mark.parametrize(
    "query, message",
    [
        ("colour:red", "Unknown field colour:"),
        ('method:""', "method: needs a value"),
        (" ".join(["a"] * 21), "At most 20 terms"),
    ],
)
def test_it_explains_what_it_cannot_read(query, message):
    with pytest.raises(QueryError, match=message):
        parse(query)


# run in the database


def stored(bin, method="POST", path="/x", headers=(), body=b"", limit=1024):
    scope = {
        "type": "http",
        "method": method,
        "raw_path": f"/b/{bin.id}{path}".encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.9", 1),
    }
    record = build_request(
        scope, body[:limit], len(body), bin_id=bin.id, path=path, max_body_bytes=limit
    )
    (saved,) = store_batch([record])
    return saved.id


@pytest.fixture
def bin_with_requests(db):
    bin = Bin.objects.create()
    ids = {
        "push": stored(
            bin,
            path="/github",
            headers=[(b"X-GitHub-Event", b"push"), (b"Content-Type", b"application/json")],
            body=b'{"ref": "main", "order_id": 7}',
        ),
        "ping": stored(bin, path="/github", headers=[(b"x-github-event", b"ping")], body=b"{}"),
        "stripe": stored(
            bin,
            method="PUT",
            path="/stripe",
            headers=[(b"Stripe-Signature", b"t=1,v1=abc")],
            body=b'{"type": "invoice.paid"}',
        ),
        "big": stored(bin, method="PATCH", path="/big", body=b"\x00\xffbinary" * 200),
        "get": stored(bin, method="GET", path="/health?x=1"),
    }
    return bin, ids


def found(bin, query):
    return set(requests_before(bin.id, None, 100, parse(query)))


def ids_for(bin, query, ids):
    names = {pk: name for name, pk in ids.items()}
    rows = requests_before(bin.id, None, 100, parse(query))
    return {names[row.id] for row in rows}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("method:post", {"push", "ping"}),
        ("method:PUT,PATCH", {"stripe", "big"}),
        ("-method:GET", {"push", "ping", "stripe", "big"}),
        ("path:GITHUB", {"push", "ping"}),
        ("header:x-github-event", {"push", "ping"}),
        ("header:X-GITHUB-EVENT=PUSH", {"push"}),
        ("header:x-github-event=pi", {"ping"}),
        ("header:stripe-signature=t=1", {"stripe"}),
        ("header:github-event", set()),  # a name matches whole, from its start
        ("header:push", set()),  # a value is not a name
        ('"order_id"', {"push"}),
        ("invoice.paid", {"stripe"}),
        ("Invoice.paid", set()),  # bodies match byte for byte
        ("status:413", {"big"}),
        ("status:200 method:PATCH", set()),
        ('method:POST path:/github "main"', {"push"}),
        ("", {"push", "ping", "stripe", "big", "get"}),
    ],
)
def test_each_term_narrows_the_list(bin_with_requests, query, expected):
    bin, ids = bin_with_requests
    assert ids_for(bin, query, ids) == expected


def test_the_body_is_searched_as_bytes_even_when_it_is_binary(bin_with_requests):
    bin, ids = bin_with_requests
    assert ids_for(bin, '"binary"', ids) == {"big"}


def test_a_search_pages_with_after_as_the_list_does(bin_with_requests):
    bin, ids = bin_with_requests
    newer = [row.id for row in requests_after(bin.id, ids["push"], 10, parse("path:github"))]
    assert newer == [ids["ping"]]


def test_a_search_never_reaches_into_another_bin(bin_with_requests):
    bin, ids = bin_with_requests
    other = Bin.objects.create()
    stored(other, path="/github", body=b"order_id")
    assert {row.bin_id for row in CapturedRequest.objects.all()} == {bin.id, other.id}
    assert ids_for(bin, "order_id", ids) == {"push"}


@pytest.mark.parametrize("query", ["status:600", "status:20", "status:ok", "status:5x"])
def test_a_status_that_is_not_one_is_explained(bin_with_requests, query):
    bin, _ = bin_with_requests
    with pytest.raises(QueryError, match="status:"):
        found(bin, query)


def test_status_finds_what_the_bin_answered(db):
    bin = Bin.objects.create(
        rules=[
            {
                "name": "gone",
                "when": {"path": "/gone"},
                "response": {"status": 410, "headers": [], "body": "", "delay_ms": 0},
            },
        ],
        failures={"which": "first", "count": 2, "how": "error", "status": 502},
    )
    failed = stored(bin, path="/gone"), stored(bin, path="/x")  # the script goes first
    gone, plain = stored(bin, path="/gone"), stored(bin, path="/x")
    Bin.objects.filter(pk=bin.pk).update(failures={"which": "all", "how": "close"})
    closed = stored(bin, path="/x")
    big = stored(bin, path="/x", body=b"y" * 2000)  # cut: answered 413, by Inspector

    def ids(query):
        return {row.id for row in found(bin, query)}

    assert ids("status:502") == set(failed)
    assert ids("status:5xx") == set(failed)
    assert ids("status:410") == {gone} and ids("status:4xx") == {gone, big}
    assert ids("status:200") == {plain} and ids("status:2xx") == {plain}
    assert ids("status:413") == {big}
    assert ids("status:closed") == {closed}
    assert ids("-status:closed -status:5xx") == {gone, plain, big}


def test_a_time_range_keeps_what_arrived_within_it(bin_with_requests):
    bin, ids = bin_with_requests
    rows = {row.id: row.received_at for row in CapturedRequest.objects.filter(bin=bin)}
    start = rows[ids["ping"]].isoformat()
    end = rows[ids["big"]].isoformat()
    assert ids_for(bin, f"time:{start}..{end}", ids) == {"ping", "stripe"}
    assert ids_for(bin, f"time:{start}..", ids) == {"ping", "stripe", "big", "get"}
    assert ids_for(bin, f"time:..{start}", ids) == {"push"}


@pytest.mark.parametrize("query", ["time:yesterday..", "time:2026-11-29"])
def test_a_time_range_it_cannot_read_is_explained(bin_with_requests, query):
    bin, _ = bin_with_requests
    with pytest.raises(QueryError, match="time:"):
        found(bin, query)
