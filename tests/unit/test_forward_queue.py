"""Forwarding's queue in the database (bins.forwarding): deliveries made in the writer's
transaction, leases, attempts and the cascades that retention relies on. Runs on
SQLite and, in the second pass, on PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bins import forwarding, replays
from bins.capture import build_request
from bins.forwarding_api import change_target
from bins.models import Attempt, Bin, CapturedRequest, Delivery, ForwardTarget, Replay
from bins.outbound import Result
from bins.queries import delete_requests
from bins.storage import store_batch

pytestmark = pytest.mark.django_db(transaction=True)
OK = Result(status=200, body=b"thanks").to_json()
DOWN = Result(status=503, body=b"down").to_json()


def record_for(bin, number=0, body=b"{}", size=None):
    scope = {"method": "POST", "headers": [(b"host", b"testserver")], "client": ("203.0.113.9", 1)}
    return build_request(
        scope, body, size or len(body), bin_id=bin.id, path=f"/{number}", max_body_bytes=1024
    )


def forwarding_bin(*urls, proxy=False, disabled=()):
    bin = Bin.objects.create(proxy=proxy)
    for position, url in enumerate(urls):
        ForwardTarget.objects.create(
            bin=bin, url=url, position=position, enabled=url not in disabled
        )
    Bin.objects.filter(pk=bin.pk).update(forward_count=len(urls) - len(disabled))
    return bin


def test_a_bin_without_targets_makes_no_delivery_and_costs_no_query():
    bin = Bin.objects.create()
    with CaptureQueriesContext(connection) as queries:
        taken = store_batch([record_for(bin, n) for n in range(3)])
    assert len(taken) == 3
    assert not Delivery.objects.exists()
    assert not [q for q in queries.captured_queries if "delivery" in q["sql"].lower()]
    assert all(record.proxy is None for record in taken)


def test_each_stored_request_gets_a_delivery_to_each_enabled_target_in_its_transaction():
    bin = forwarding_bin("https://a.example", "https://b.example", "https://c.example",
                         disabled=("https://b.example",))  # fmt: skip
    quiet = Bin.objects.create()
    records = [record_for(bin, n) for n in range(3)] + [record_for(quiet)]
    taken = store_batch(records)
    deliveries = Delivery.objects.order_by("request_id", "target__position")
    assert [(d.request_id, d.target.url) for d in deliveries] == [
        (record.id, url)
        for record in taken[:3]
        for url in ("https://a.example", "https://c.example")
    ]
    assert {d.state for d in deliveries} == {Delivery.PENDING}
    assert all(d.leased_until is None and not d.proxied for d in deliveries)
    assert [record.forwarded for record in taken] == [True, True, True, False]


def test_a_proxy_bin_leases_the_delivery_to_its_first_enabled_target_to_the_capture():
    bin = forwarding_bin("https://off.example", "https://first.example", "https://second.example",
                         proxy=True, disabled=("https://off.example",))  # fmt: skip
    big = record_for(bin, 1, body=b"x" * 10, size=5000)
    big.body_truncated = True
    small, cut = store_batch([record_for(bin, 0), big])
    proxied = Delivery.objects.get(proxied=True)
    assert proxied.request_id == small.id and proxied.target.url == "https://first.example"
    assert proxied.leased_until > timezone.now() and proxied.lease
    assert small.proxy == (proxied.id, proxied.lease, bin.proxy_timeout_ms)
    # A body over the limit is answered 413: its deliveries go in the background.
    assert cut.proxy is None
    assert Delivery.objects.filter(request_id=cut.id, leased_until__isnull=True).count() == 2


def test_a_proxy_bin_answers_with_its_target_not_its_own_response():
    bin = forwarding_bin("https://first.example", proxy=True)
    Bin.objects.filter(pk=bin.pk).update(response={"status": 201, "headers": [], "body": "x",
                                                   "delay_ms": 0})  # fmt: skip
    (taken,) = store_batch([record_for(bin)])
    assert taken.response is None and taken.proxy is not None


def test_a_request_sent_on_too_many_times_is_stored_but_not_forwarded_nor_proxied():
    # A target that leads back here (a bin's own URL, two bins forwarding to each other).
    bin = forwarding_bin("https://a.example", proxy=True)
    looped, sent_on_twice = record_for(bin, 0), record_for(bin, 1)
    looped.headers.append(["inspector-forwarded", f"hops={forwarding.MAX_HOPS}"])
    sent_on_twice.headers.append(["Inspector-Forwarded", f"hops={forwarding.MAX_HOPS - 1}"])
    looped, sent_on_twice = store_batch([looped, sent_on_twice])
    assert looped.id and (looped.forwarded, looped.proxy) == (False, None)
    assert [d.request_id for d in Delivery.objects.all()] == [sent_on_twice.id]
    assert sent_on_twice.proxy is not None


def test_imported_requests_are_not_forwarded():
    bin = forwarding_bin("https://a.example")
    store_batch([record_for(bin)], choose=False, forward=False)
    assert not Delivery.objects.exists()


def deliveries(bin, count=1):
    store_batch([record_for(bin, n) for n in range(count)])
    return list(Delivery.objects.order_by("id"))


def test_a_delivery_is_claimed_by_one_caller_at_a_time_until_its_lease_ends():
    bin = forwarding_bin("https://a.example")
    deliveries(bin, 3)
    first = forwarding.claim_due(2)
    second = forwarding.claim_due(5)
    assert len(first) == 2 and len(second) == 1
    assert not {d.id for d in first} & {d.id for d in second}
    assert forwarding.claim_due(5) == []
    later = timezone.now() + timedelta(seconds=forwarding.lease_seconds() + 1)
    assert len(forwarding.claim_due(5, now=later)) == 3  # their holders died
    assert first[0].request.body == b"{}" and first[0].target.url == "https://a.example"


def test_deliveries_not_due_or_to_a_disabled_target_wait():
    bin = forwarding_bin("https://a.example")
    (delivery,) = deliveries(bin)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(seconds=60))
    assert forwarding.claim_due(5) == []
    Delivery.objects.update(next_attempt_at=timezone.now())
    ForwardTarget.objects.update(enabled=False)
    assert forwarding.claim_due(5) == []
    ForwardTarget.objects.update(enabled=True)
    assert [d.id for d in forwarding.claim_due(5)] == [delivery.id]


def test_switching_a_target_off_parks_its_waiting_deliveries_out_of_the_due_index():
    bin = forwarding_bin("https://a.example", "https://b.example")
    off, on = ForwardTarget.objects.order_by("position")
    store_batch([record_for(bin, n) for n in range(3)])
    first = Delivery.objects.filter(target=off).order_by("id").first()
    sending = forwarding.claim_now(first.id, first.request_id)
    change_target(bin.id, off.id, {"enabled": False})
    assert (
        list(Delivery.objects.filter(target=off).values_list("state", flat=True)) == ["paused"] * 3
    )
    # One was being sent meanwhile: it stays parked when its failed attempt is recorded.
    done, _ = forwarding.record(sending.id, sending.lease, DOWN, Attempt.AUTO)
    assert (done.state, done.attempts) == ("paused", 1)
    assert {d.target_id for d in forwarding.claim_due(10)} == {on.id}

    change_target(bin.id, off.id, {"enabled": True})
    Delivery.objects.filter(target=off).update(next_attempt_at=timezone.now())
    assert len(forwarding.claim_due(10)) == 3


def attempt(delivery_id, result, trigger=Attempt.AUTO):
    (claimed,) = [d for d in forwarding.claim_due(10) if d.id == delivery_id] or [
        forwarding.claim_now(delivery_id, Delivery.objects.get(pk=delivery_id).request_id)
    ]
    return forwarding.record(claimed.id, claimed.lease, result, trigger)


def test_a_failed_attempt_is_retried_with_backoff_and_the_last_one_gives_up(settings):
    settings.INSPECTOR_FORWARD_ATTEMPTS = 3
    settings.INSPECTOR_FORWARD_BACKOFF = 10
    bin = forwarding_bin("https://a.example")
    (delivery,) = deliveries(bin)
    before = timezone.now()
    done, bin_id = attempt(delivery.id, DOWN)
    assert bin_id == bin.id
    assert (done.state, done.attempts, done.lease, done.leased_until) == ("pending", 1, "", None)
    assert timedelta(seconds=9) < done.next_attempt_at - before < timedelta(seconds=11)
    assert forwarding.claim_due(5) == []  # not due yet
    Delivery.objects.update(next_attempt_at=timezone.now())
    done, _ = attempt(delivery.id, DOWN)
    assert done.state == "pending" and done.next_attempt_at - timezone.now() > timedelta(seconds=19)
    Delivery.objects.update(next_attempt_at=timezone.now())
    done, _ = attempt(delivery.id, Result(error="timed out after 10 s").to_json())
    assert (done.state, done.attempts) == ("failed", 3)
    assert forwarding.claim_due(5, now=timezone.now() + timedelta(days=1)) == []
    tried = Attempt.objects.filter(delivery_id=delivery.id).order_by("id")
    assert [a.result["status"] for a in tried] == [503, 503, None]
    assert done.last_attempt == tried.last()


def test_a_2xx_answer_delivers_and_retry_now_is_refused_afterwards():
    bin = forwarding_bin("https://a.example")
    (delivery,) = deliveries(bin)
    done, _ = attempt(delivery.id, OK)
    assert (done.state, done.attempts) == ("delivered", 1)
    assert forwarding.claim_now(delivery.id, delivery.request_id) is None


def test_retry_now_sends_a_failed_delivery_once_more():
    bin = forwarding_bin("https://a.example")
    (delivery,) = deliveries(bin)
    Delivery.objects.update(state="failed", attempts=5)
    assert forwarding.claim_due(5) == []
    done, _ = attempt(delivery.id, DOWN, Attempt.MANUAL)
    assert (done.state, done.attempts) == ("failed", 6)  # still failed, one more tried
    done, _ = attempt(delivery.id, OK, Attempt.MANUAL)
    assert done.state == "delivered"
    assert forwarding.claim_now(delivery.id, delivery.request_id + 1) is None  # not its request


def test_a_failed_proxy_attempt_is_not_retried_alone():
    bin = forwarding_bin("https://a.example", proxy=True)
    (taken,) = store_batch([record_for(bin)])
    delivery_id, lease, _ = taken.proxy
    assert forwarding.claim_due(5) == []  # leased to the capture
    done, _ = forwarding.record(delivery_id, lease, DOWN, Attempt.PROXY)
    assert done.state == "failed"


def test_only_the_lease_holder_records():
    bin = forwarding_bin("https://a.example")
    deliveries(bin)
    (claimed,) = forwarding.claim_due(5)
    later = timezone.now() + timedelta(seconds=forwarding.lease_seconds() + 1)
    (again,) = forwarding.claim_due(5, now=later)
    assert forwarding.record(claimed.id, claimed.lease, OK, Attempt.AUTO) is None
    assert forwarding.record(again.id, again.lease, OK, Attempt.AUTO) is not None
    assert Attempt.objects.count() == 1


def test_retention_deleting_requests_in_sql_takes_their_deliveries_attempts_and_replays(
    settings,
):
    settings.INSPECTOR_MAX_REQUESTS_PER_BIN = 2
    bin = forwarding_bin("https://a.example")
    (first,) = deliveries(bin)
    attempt(first.id, DOWN)
    Replay.objects.create(request_id=first.request_id, method="POST", url="https://x", result=OK)
    store_batch([record_for(bin, n) for n in range(2)])  # drops the first request
    assert not CapturedRequest.objects.filter(pk=first.request_id).exists()
    assert not Delivery.objects.filter(pk=first.id).exists()
    assert not Attempt.objects.exists() and not Replay.objects.exists()
    assert Delivery.objects.count() == 2


def test_deleting_a_request_a_target_or_the_bin_takes_their_deliveries():
    bin = forwarding_bin("https://a.example", "https://b.example")
    store_batch([record_for(bin, n) for n in range(2)])
    attempt(Delivery.objects.first().id, DOWN)
    first = CapturedRequest.objects.order_by("id").first()
    assert delete_requests(bin.id, first.id) == 1
    assert Delivery.objects.count() == 2
    ForwardTarget.objects.filter(url="https://a.example").delete()
    assert [d.target.url for d in Delivery.objects.all()] == ["https://b.example"]
    Bin.objects.filter(pk=bin.pk).delete()
    assert not Delivery.objects.exists() and not ForwardTarget.objects.exists()


def test_lists_read_previews_of_answers_never_whole_ones():
    bin = forwarding_bin("https://a.example")
    (delivery,) = deliveries(bin)
    big = Result(status=500, body=("é" + "x" * 1_000_000).encode()).to_json()
    attempt(delivery.id, big)
    binary = Result(status=200, body=b"\xff" * 3000).to_json()
    request = CapturedRequest.objects.get()
    replays.save(request, "POST", "https://x", [], b"{}", False, binary)

    (listed,) = forwarding.deliveries_of(delivery.request_id)
    (tried,) = listed.tried
    assert "result" in tried.get_deferred_fields()
    shown = forwarding.attempt_json(tried)
    assert shown["body_preview"] == "é" + "x" * 2047 and shown["body_preview_truncated"]
    assert (shown["body_size"], shown["status"], shown["outcome"]) == (1_000_002, 500, "rejected")
    (replay,) = replays.replays_of(request.id, 10)
    assert "result" in replay.get_deferred_fields()
    answer = replays.replay_json(replay)["response"]
    assert (answer["body_preview"], answer["body_size"], answer["status"]) == (None, 3000, 200)


def test_a_replay_keeps_a_body_only_when_it_differs_and_a_request_keeps_its_newest_fifty():
    bin = Bin.objects.create()
    (request,) = store_batch([record_for(bin, body=b'{"n": 1}')])
    request = CapturedRequest.objects.get(pk=request.id)
    same = replays.save(request, "POST", "https://x", [], b'{"n": 1}', True, OK)
    other = replays.save(request, "POST", "https://x", [], b"edited", True, OK)
    assert Replay.objects.get(pk=same.pk).body is None
    assert bytes(Replay.objects.get(pk=other.pk).body) == b"edited"
    shown = replays.replay_json(Replay.objects.get(pk=same.pk), whole=True, original=request.body)
    assert shown["body_text"] == '{"n": 1}' and shown["body_size"] == 8
    for _ in range(replays.MAX_REPLAYS):
        newest = replays.save(request, "GET", "https://x", [], b"", True, OK)
    kept = list(Replay.objects.order_by("id").values_list("id", flat=True))
    assert len(kept) == replays.MAX_REPLAYS and kept[-1] == newest.pk
    assert same.pk not in kept and other.pk not in kept
