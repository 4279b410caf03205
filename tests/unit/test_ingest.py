"""bins.ingest: reading bodies, storing batches, building the live events."""

import asyncio
import json
import random
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from bins import live
from bins.capture import build_request
from bins.ingest import read_body
from bins.limits import MemoryLimiter, Rate
from bins.models import Bin, CapturedRequest, new_bin_id
from bins.serializers import request_json
from bins.storage import store_batch
from bins.writer import encoded_requests, frame, receive_message, serve


def receiver(*messages):
    """An ASGI `receive` that hands out `messages`, then fails if asked again."""
    queue = list(messages)

    async def receive():
        assert queue, "read_body asked for more than the client sent"
        return queue.pop(0)

    return receive


def chunk(body, more=True):
    return {"type": "http.request", "body": body, "more_body": more}


def record_for(bin_id, path="/x", body=b""):
    """An unsaved record for `bin_id`, built as the capture app builds it."""
    scope = {
        "type": "http",
        "method": "POST",
        "raw_path": f"/b/{bin_id}{path}".encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("203.0.113.9", 1),
    }
    return build_request(scope, body, len(body), bin_id=bin_id, path=path, max_body_bytes=1024)


# read_body


async def test_read_body_joins_the_chunks():
    receive = receiver(chunk(b"ab"), chunk(b""), chunk(b"cd"), chunk(b"e", more=False))
    assert await read_body(receive, 100) == (b"abcde", 5)


async def test_read_body_keeps_at_most_limit_bytes_and_counts_the_rest():
    receive = receiver(chunk(b"abc"), chunk(b"defg"), chunk(b"hij", more=False))
    assert await read_body(receive, 5) == (b"abcde", 10)


async def test_read_body_cuts_inside_the_first_chunk():
    assert await read_body(receiver(chunk(b"x" * 50, more=False)), 8) == (b"x" * 8, 50)


async def test_read_body_with_a_body_of_exactly_the_limit():
    receive = receiver(chunk(b"abcd"), chunk(b"ef", more=False))
    assert await read_body(receive, 6) == (b"abcdef", 6)


async def test_read_body_of_an_empty_request():
    assert await read_body(receiver({"type": "http.request"}), 10) == (b"", 0)


async def test_read_body_is_none_when_the_client_goes_away():
    assert await read_body(receiver({"type": "http.disconnect"}), 10) is None


async def test_read_body_is_none_when_the_client_goes_away_midway():
    receive = receiver(chunk(b"abc"), {"type": "http.disconnect"})
    assert await read_body(receive, 10) is None


# store_batch


@pytest.fixture
def two_bins(db):
    """Two stored bins, each with no requests yet."""
    return Bin.objects.create(name="one"), Bin.objects.create(name="two")


def test_store_batch_stores_every_record_of_several_bins(two_bins):
    one, two = two_bins
    records = [record_for(one.id, "/1"), record_for(two.id, "/2"), record_for(one.id, "/3")]
    stored = store_batch(records)
    assert stored == records
    for record in stored:  # each id is the row of that record
        assert CapturedRequest.objects.get(pk=record.pk).path == record.path
    assert all(record.pk is not None for record in stored)
    assert sorted(CapturedRequest.objects.values_list("path", flat=True)) == ["/1", "/2", "/3"]


def test_store_batch_keeps_bodies_and_headers(two_bins):
    one, _ = two_bins
    (stored,) = store_batch([record_for(one.id, body=b"\x00\xff\x80binary")])
    row = CapturedRequest.objects.get(pk=stored.pk)
    assert bytes(row.body) == b"\x00\xff\x80binary"
    assert row.headers == [["host", "testserver"]]


def test_store_batch_keeps_every_header_byte_name_case_and_order(two_bins):
    one, _ = two_bins
    record = record_for(one.id)
    raw = [(b"X-Sig", b'\xc3\x85 \xff\x7f"'), (b"dup", b"1"), (b"Dup", b"2"), (b"e", b"")]
    record.headers = [[name.decode("latin-1"), value.decode("latin-1")] for name, value in raw]
    (stored,) = store_batch([record])
    row = CapturedRequest.objects.get(pk=stored.pk)
    assert [(n.encode("latin-1"), v.encode("latin-1")) for n, v in row.headers] == raw


def test_store_batch_keeps_the_receive_time_to_the_microsecond(two_bins):
    one, _ = two_bins
    record = record_for(one.id)
    record.received_at = datetime(2026, 3, 29, 1, 30, 0, 7, tzinfo=UTC)
    (stored,) = store_batch([record])
    assert CapturedRequest.objects.get(pk=stored.pk).received_at == record.received_at


def test_store_batch_counts_requests_on_each_bin(two_bins):
    one, two = two_bins
    before = timezone.now()
    store_batch([record_for(one.id), record_for(one.id), record_for(two.id)])
    store_batch([record_for(one.id)])
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.request_count, two.request_count) == (3, 1)
    assert one.last_activity_at >= before
    assert one.expires_at >= before + timedelta(seconds=60)


def test_store_batch_leaves_records_of_an_unknown_bin_unsaved(two_bins):
    one, _ = two_bins
    lost = record_for(new_bin_id())
    kept = record_for(one.id)
    assert store_batch([lost, kept]) == [kept]
    assert lost.pk is None
    assert list(CapturedRequest.objects.values_list("pk", flat=True)) == [kept.pk]


def test_store_batch_leaves_records_of_a_deleted_bin_unsaved(two_bins):
    one, two = two_bins
    records = [record_for(one.id), record_for(two.id)]
    two.delete()
    assert store_batch(records) == records[:1]
    assert records[1].pk is None
    assert CapturedRequest.objects.filter(bin_id=two.id).count() == 0
    one.refresh_from_db()
    assert one.request_count == 1


def test_store_batch_of_only_unknown_bins_stores_nothing(db):
    assert store_batch([record_for(new_bin_id()), record_for(new_bin_id())]) == []
    assert CapturedRequest.objects.count() == 0


def test_store_batch_leaves_out_a_bin_deleted_since_its_last_batch(two_bins):
    one, two = two_bins
    store_batch([record_for(one.id), record_for(two.id)])
    records = [record_for(one.id), record_for(two.id)]
    two.delete()
    assert store_batch(records) == records[:1]
    assert records[1].pk is None
    assert CapturedRequest.objects.filter(bin_id=records[1].bin_id).count() == 0
    one.refresh_from_db()
    assert one.request_count == 2


def test_a_bin_given_a_response_between_two_batches_answers_with_it_at_once(two_bins):
    one, _ = two_bins
    store_batch([record_for(one.id, "/before")])
    response = {"status": 503, "headers": [], "body": "down", "delay_ms": 0}
    Bin.objects.filter(pk=one.pk).update(response=response)
    (record,) = store_batch([record_for(one.id, "/after")])
    assert record.response == response
    kept = dict(CapturedRequest.objects.values_list("path", "response"))
    assert kept == {"/before": None, "/after": response}
    one.refresh_from_db()
    assert (one.request_count, one.kept_count) == (2, 2)


def test_a_bin_given_a_failure_script_between_two_batches_counts_from_it(two_bins):
    one, _ = two_bins
    store_batch([record_for(one.id)])
    Bin.objects.filter(pk=one.pk).update(
        failures={"which": "first", "count": 1, "how": "error", "status": 500}, failures_since=1
    )
    first, second = store_batch([record_for(one.id), record_for(one.id)])
    assert first.response["failure"] and second.response is None
    one.refresh_from_db()
    assert one.answered_count == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_the_writers_statements_are_prepared_once_on_postgresql(two_bins):
    one, _ = two_bins
    for _ in range(3):
        store_batch([record_for(one.id), record_for(one.id)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [text for (text,) in cursor.fetchall()]
    for start in ("UPDATE bins_bin", "INSERT INTO bins_capturedrequest", "WITH bin AS"):
        assert len([text for text in statements if text.startswith(start)]) == 1, start


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LZ4")
def test_big_bodies_are_compressed_with_lz4_and_read_back_whole_on_postgresql(two_bins):
    one, _ = two_bins
    record = record_for(one.id)
    record.body = b'{"padding": "' + b"x" * 100_000 + b'"}'
    body = record.body
    (stored,) = store_batch([record])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(body), octet_length(body), pg_column_size(body) "
            "FROM bins_capturedrequest WHERE id = %s",
            [stored.pk],
        )
        method, length, size = cursor.fetchone()
    assert (method, length) == ("lz4", len(body)) and size < len(body) // 10
    assert bytes(CapturedRequest.objects.get(pk=stored.pk).body) == body


# encoded_requests


def test_encoded_requests_make_one_event_per_bin_with_ids_ascending(two_bins):
    one, two = two_bins
    stored = store_batch([record_for(b.id) for b in (one, two, one, two, one)])
    shuffled = random.Random(4).sample(stored, len(stored))
    events = {
        bin_id: json.loads(live.requests_created_frame(texts))
        for bin_id, texts in encoded_requests(shuffled).items()
    }
    assert set(events) == {one.id, two.id}
    for bin in (one, two):
        event = events[bin.id]
        assert event["type"] == "requests.created"
        ids = [item["id"] for item in event["requests"]]
        assert ids == sorted(r.pk for r in stored if r.bin_id == bin.id)
        assert all(item["bin"] == bin.id for item in event["requests"])


def test_encoded_requests_carry_the_request_json_without_the_whole_body(two_bins):
    one, _ = two_bins
    (record,) = store_batch([record_for(one.id, body=b"a" * 1000)])
    ((bin_id, texts),) = encoded_requests([record]).items()
    event = json.loads(live.requests_created_frame(texts))
    assert bin_id == one.id
    assert event == {"type": "requests.created", "requests": [request_json(record)]}
    assert "body_base64" not in event["requests"][0]


def test_encoded_requests_of_nothing_is_nothing():
    assert encoded_requests([]) == {}


# The writer


@pytest.mark.django_db(transaction=True)
async def test_the_writer_answers_once_the_record_is_stored(writer):
    bin = await Bin.objects.acreate()
    record = await writer.store(record_for(bin.id, body=b"kept"))
    row = await CapturedRequest.objects.aget(pk=record.pk)
    assert bytes(row.body) == b"kept"


@pytest.mark.django_db(transaction=True)
async def test_the_writer_answers_none_for_an_unknown_bin(writer):
    assert await writer.store(record_for(new_bin_id())) is None
    assert await CapturedRequest.objects.acount() == 0


@pytest.mark.django_db(transaction=True)
async def test_the_writer_keeps_going_after_a_database_error(writer):
    bin = await Bin.objects.acreate()
    broken = record_for(bin.id)
    broken.headers = None  # NOT NULL: the insert fails
    with pytest.raises(DatabaseError):
        await writer.store(broken)
    record = await writer.store(record_for(bin.id))
    assert await CapturedRequest.objects.filter(pk=record.pk).aexists()


@pytest.mark.django_db(transaction=True)
async def test_the_writer_answers_a_burst_in_order_with_every_record_stored(writer):
    bin = await Bin.objects.acreate()
    records = await asyncio.gather(
        *(writer.store(record_for(bin.id, path=f"/{n}")) for n in range(300))
    )
    assert [record.path for record in records] == [f"/{n}" for n in range(300)]
    ids = [record.pk for record in records]
    assert len(set(ids)) == 300
    assert await CapturedRequest.objects.filter(pk__in=ids).acount() == 300
    assert (await Bin.objects.aget(pk=bin.id)).request_count == 300


@pytest.mark.django_db(transaction=True)
async def test_a_capture_in_flight_when_the_writer_process_dies_gets_an_error(writer):
    bin = await Bin.objects.acreate()
    await writer.store(record_for(bin.id))
    child = writer.process.process
    child.send_signal(signal.SIGSTOP)  # holds the batch, unanswered
    in_flight = asyncio.ensure_future(writer.store(record_for(bin.id)))
    await asyncio.sleep(0.2)
    child.kill()
    with pytest.raises(DatabaseError):
        await asyncio.wait_for(in_flight, 10)


@pytest.mark.django_db(transaction=True)
async def test_the_writer_starts_a_new_writer_process_when_its_own_died(writer):
    bin = await Bin.objects.acreate()
    await writer.store(record_for(bin.id))
    child = writer.process.process
    child.kill()
    await asyncio.to_thread(child.wait)
    for _ in range(100):  # until the end of file is read
        if writer.process.stream is None:
            break
        await asyncio.sleep(0.05)
    record = await writer.store(record_for(bin.id))
    assert await CapturedRequest.objects.filter(pk=record.pk).aexists()
    assert writer.process.process is not child


@pytest.mark.django_db(transaction=True)
async def test_the_writer_process_stores_what_was_sent_before_its_server_went_away(writer):
    bin = await Bin.objects.acreate()
    await writer.store(record_for(bin.id))
    process = writer.process.process
    await writer.process.close()  # end of file: the writer process exits
    assert process.returncode == 0


# The writer process's loop


@pytest.fixture
def served(transactional_db):
    """Our end of a socket whose other end serve() reads on a thread, as the writer
    process does; the test closes it (the server goes away) or it is closed after."""
    theirs, ours = socket.socketpair()
    thread = threading.Thread(target=serve_and_close, args=(theirs,))
    thread.start()
    yield ours
    ours.close()
    thread.join(10)
    assert not thread.is_alive()


def serve_and_close(sock):
    try:
        serve(sock, MemoryLimiter(Rate(0, 1), Rate(0, 1)))  # no limits
    finally:
        sock.close()
        connection.close()


def test_serve_stores_each_batch_and_replies_in_order(served):
    bin = Bin.objects.create()
    served.sendall(frame([record_for(bin.id, "/a"), record_for(new_bin_id(), "/lost")]))
    served.sendall(frame([record_for(bin.id, "/b")]))
    status, ids, events, answers, forwarded = receive_message(served)
    assert forwarded is None  # no bin of the batch forwards (bins.forwarding)
    assert status == "ok"
    assert ids[0] is not None and ids[1] is None
    event = json.loads(live.requests_created_frame(events[bin.id]))
    assert [item["path"] for item in event["requests"]] == ["/a"]
    assert answers == [(None, False), (None, False)]  # the default answer, no CORS
    status, (later,), _, _, _ = receive_message(served)
    assert later > ids[0]
    assert sorted(CapturedRequest.objects.values_list("path", flat=True)) == ["/a", "/b"]


def test_serve_returns_when_the_server_goes_away(served):
    served.close()  # the fixture then checks that serve() returned


def test_serve_replies_with_the_error_and_keeps_serving(served):
    bin = Bin.objects.create()
    broken = record_for(bin.id)
    broken.headers = None  # NOT NULL: the insert fails
    served.sendall(frame([broken]))
    status, message = receive_message(served)
    assert status == "error" and message
    served.sendall(frame([record_for(bin.id)]))
    assert receive_message(served)[0] == "ok"
